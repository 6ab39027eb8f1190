import path from "node:path";
import { readFile } from "node:fs/promises";
import type { PrivateKey } from "@libp2p/interface";
import { backgroundTimers, createSilentLogger, systemClock, type Logger } from "../common/index.js";
import { createEngine, type Engine, type LoadedModel, type SpeculationStats } from "../engine/index.js";
import { createHardwareProbe, createJsonFileStore, createRecordedGpuReplay, createRealCommandRunner, ensureNodeCalibration, type GpuInventory, type HardwareProbe } from "../hardware/index.js";
import { createModelStore, ensureSyntheticModel } from "../models/index.js";
import { createHeadlessIdleSource, createPolicyController, type ContributionDecision, type IdleSource, type PolicyController } from "../policy/index.js";
import { createScheduler, type Scheduler, type SchedulerOptions } from "../scheduler/index.js";
import {
  createAdvertService,
  createJobTransport,
  createLatencyProbe,
  createSwarmNode,
  installSwarmProcessGuards,
  loadOrCreateIdentity,
  parseSwarmKey,
  registerJobHandler,
  type AdvertisedModel,
  type AdvertService,
  type JobHandler,
  type JobOutcome,
  type SwarmNode,
} from "../swarm/index.js";
import type { NodeConfig, ServedModelConfig } from "./node-config.js";
import type { NodePaths } from "./node-paths.js";
import { startNodeEarnings, type NodeEarnings } from "./node-earnings.js";
import { startNodeTrust, type NodeTrust } from "./node-trust.js";
import { startNodeModels, type NodeModels } from "./node-models.js";
import { startNodeSpeculation, type NodeSpeculation } from "./node-speculative.js";
import { createModelDownloads, type ModelDownloads, type ModelDownloadView } from "./model-downloads.js";

export interface ServedModel {
  config: ServedModelConfig;
  model: LoadedModel;
  /** Measured decode speed advertised to the swarm (the calibration benchmark, stored per machine). */
  tokensPerSecond: number;
}

export type NodeEvent =
  | { type: "job-started"; jobId: string; peerId: string; modelSha256: string }
  | { type: "job"; outcome: JobOutcome }
  | { type: "decision"; decision: ContributionDecision }
  | { type: "peer"; peerId: string; connected: boolean }
  | { type: "model-download"; download: ModelDownloadView }
  /** A job for a target in `speculation.verify` ended after it was decoded with a paired draft: which, and how it went. */
  | { type: "speculation"; modelSha256: string; draftPeerId: string | undefined; stats: SpeculationStats };

export interface NodeStatus {
  peerId: string;
  addresses: string[];
  models: { name: string; sha256: string; quantization: string; threads: number; tokensPerSecond: number; active: number; queued: number }[];
  decision: ContributionDecision | null;
  peers: number;
  workersSeen: number;
  jobs: { answered: number; failed: number; gone: number; tokensGenerated: number };
}

export interface RunningNode {
  readonly peerId: string;
  readonly swarm: SwarmNode;
  readonly engine: Engine;
  /** The requester side: every job it finishes is paid with signed receipts (see node-earnings.ts). */
  readonly scheduler: Scheduler;
  /** The ledger and the receipt protocol. */
  readonly earnings: NodeEarnings;
  /** Validation, challenges and reputation. */
  readonly trust: NodeTrust;
  /** Models over the swarm: held models seeded in pieces (under `config.uploads`), fetches by root. */
  readonly models: NodeModels;
  /** Downloads started through the node (the dashboard's Models panel), with their progress. */
  readonly downloads: ModelDownloads;
  readonly adverts: AdvertService;
  readonly served: readonly ServedModel[];
  readonly policy: PolicyController | undefined;
  readonly hardware: HardwareProbe | undefined;
  readonly inventory: GpuInventory | undefined;
  /** Where telemetry comes from: the GPU's own tools, a recorded capture replayed, or nowhere. */
  readonly telemetrySource: "live" | "fixture" | "none";
  readonly config: NodeConfig;
  /** Epoch ms. */
  readonly startedAt: number;
  status(): NodeStatus;
  onEvent(listener: (event: NodeEvent) => void): () => void;
  stop(): Promise<void>;
}

export interface StartNodeDeps {
  paths: NodePaths;
  logger?: Logger;
  /** The desktop passes Electron's; headless nodes read logind. */
  idleSource?: IdleSource;
  /** Tests and machines without GPUs may pass a probe with recorded outputs. */
  hardware?: HardwareProbe;
  /** Requester-side tuning (attempts, stall deadline, hedging). */
  schedulerOptions?: SchedulerOptions;
  /** The node's identity when it is kept elsewhere (the desktop's OS keyring); else `<dataDir>/identity.key` (0600). */
  privateKey?: PrivateKey;
  /** Tests and bench/trust only: replaces each loaded model with what the node really serves (a cheater). */
  serveModelAs?: (model: LoadedModel) => LoadedModel;
}

/** How long stopping waits for a finished job's receipts and verdict. */
const SETTLE_ON_STOP_MS = 15_000;

/**
 * The composition root: builds the core's modules in order, wires them through their doors and stops them
 * in reverse. The headless CLI and the Electron utilityProcess both call it.
 */
export async function startNode(config: NodeConfig, deps: StartNodeDeps): Promise<RunningNode> {
  const logger = deps.logger ?? createSilentLogger();
  installSwarmProcessGuards(logger);
  const startedAt = Date.now();
  const cleanups: (() => Promise<void> | void)[] = [];
  const listeners = new Set<(event: NodeEvent) => void>();
  const emit = (event: NodeEvent) => {
    for (const listener of listeners) listener(event);
  };

  try {
    const engine = await createEngine({ logger: logger.child({ module: "engine" }) });
    cleanups.push(() => engine.close());

    const store = createJsonFileStore({ dir: path.join(deps.paths.dataDir, "calibration") });
    const served: ServedModel[] = [];
    const servedFiles: string[] = [];
    // Started once the swarm is up; the policy's admission reaches it from then on.
    const speculation: { current?: NodeSpeculation } = {};
    for (const modelConfig of config.serve) {
      const file = modelConfig.path ?? (await ensureSyntheticModel({ preset: modelConfig.preset!, seed: modelConfig.seed, quantization: modelConfig.quantization, peaky: true })).path;
      servedFiles.push(file);
      // Describing first hashes the file once; calibration and both loads reuse that hash.
      const info = await engine.describeModel(file);
      const calibration = await ensureNodeCalibration({ engine, referenceModelPath: file, referenceModelSha256: info.sha256, store, logger });
      const loaded = await engine.loadModel(file, {
        threads: config.threads === "calibrate" ? calibration.threads : config.threads,
        maxActiveJobs: modelConfig.maxActiveJobs,
        maxQueuedJobs: modelConfig.maxQueuedJobs,
        contextSize: modelConfig.contextSize,
      });
      const model = deps.serveModelAs ? deps.serveModelAs(loaded) : loaded;
      served.push({ config: modelConfig, model, tokensPerSecond: calibration.decodeTokensPerSecond });
      logger.info({ model: model.info.name, sha256: model.info.sha256.slice(0, 12), threads: model.threads, tokensPerSecond: calibration.decodeTokensPerSecond }, "serving model");
    }

    let hardware: HardwareProbe | undefined;
    let telemetrySource: RunningNode["telemetrySource"] = "none";
    let inventory: GpuInventory | undefined;
    let policy: PolicyController | undefined;
    if (served.length > 0) {
      const runCommand = createRealCommandRunner();
      if (config.hardware || config.replayGpu) {
        const replay = config.replayGpu ? createRecordedGpuReplay(config.replayGpu) : undefined;
        telemetrySource = deps.hardware || replay ? "fixture" : "live";
        hardware = deps.hardware ?? createHardwareProbe({ logger, readLlamaGpuState: () => engine.readGpuState(), ownPids: [process.pid], ...replay });
        inventory = await hardware.detectInventory();
        hardware.sampler.start();
        const opened = hardware;
        cleanups.push(() => opened.close());
      }
      const idleSource = deps.idleSource ?? createHeadlessIdleSource({ runCommand, clock: systemClock, logger });
      cleanups.push(() => idleSource.close());
      const probe = hardware;
      policy = createPolicyController({
        config: config.policy,
        idleSource,
        readTelemetry: () => probe?.sampler.latest() ?? null,
        readGameState: async () => {
          if (!probe) return { gameRunning: false, games: [], otherGpuUsers: [] };
          const detection = await probe.games.detect();
          return { gameRunning: detection.gameRunning, games: detection.games.map((g) => g.name), otherGpuUsers: detection.otherGpuUsers };
        },
        // llama.cpp does not report per-process VRAM; 0 tells the policy to leave VRAM to the load-time fit.
        ourVramBytes: () => 0,
        target: {
          setAdmission: (admission) => {
            served.forEach((s) => s.model.setAdmission(admission));
            speculation.current?.setAdmission(admission);
          },
          abortRunning: (reason) => {
            served.forEach((s) => s.model.abortRunning(reason));
            speculation.current?.abortRunning(reason);
          },
        },
        clock: systemClock,
        // The policy polls in the background: its timers alone never keep the process alive.
        timers: backgroundTimers,
        logger,
      });
      await policy.start();
      const running = policy;
      cleanups.push(() => running.stop());
    }

    const privateKey = deps.privateKey ?? (await loadOrCreateIdentity(path.join(deps.paths.dataDir, "identity.key")));
    const swarmKey = config.swarmKeyFile ? parseSwarmKey(await readFile(config.swarmKeyFile, "utf8")) : undefined;
    const swarm = await createSwarmNode({ privateKey, logger, listen: config.listen, bootstrap: config.bootstrap, mdns: config.mdns, nat: config.nat, swarmKey });
    await swarm.start();
    cleanups.push(() => swarm.stop());
    const onPeer = (connected: boolean) => (event: CustomEvent<{ toString(): string }>) => emit({ type: "peer", peerId: event.detail.toString(), connected });
    swarm.libp2p.addEventListener("peer:connect", onPeer(true));
    swarm.libp2p.addEventListener("peer:disconnect", onPeer(false));

    const trustRef: { current?: NodeTrust } = {};
    const earnings = await startNodeEarnings({
      libp2p: swarm.libp2p,
      privateKey,
      peerId: swarm.peerId,
      dataDir: deps.paths.dataDir,
      logger,
      ownPriceOf: (sha256) => served.find((s) => s.model.info.sha256 === sha256)?.config.pricePer1kTokens,
      advertisedPriceOf: (peerId, sha256) => adverts.advertisedModel(peerId, sha256)?.pricePer1kTokens,
      onMisbehaviour: (peerId, reason) => trustRef.current?.peerMisbehaved(peerId, reason),
      onAttestationStored: (_record, attestation) => trustRef.current?.ownVerdict(attestation),
    });
    cleanups.push(() => earnings.stop());

    const jobs = { answered: 0, failed: 0, gone: 0, tokensGenerated: 0 };
    const bySha = new Map(served.map((s) => [s.model.info.sha256, s.model]));
    let jobHandler: JobHandler | undefined;
    const adverts = createAdvertService(swarm.libp2p, privateKey, { logger, initialState: advertState() });
    const nodeSpeculation = await startNodeSpeculation({
      config: config.speculation,
      libp2p: swarm.libp2p,
      selfPeerId: swarm.peerId,
      served: served.map((s) => ({ model: s.model, tokensPerSecond: s.tokensPerSecond })),
      candidates: adverts,
      latency: createLatencyProbe(swarm.libp2p),
      logger,
      onSpeculation: (event) => emit({ type: "speculation", ...event }),
    });
    speculation.current = nodeSpeculation;
    cleanups.push(() => nodeSpeculation.stop());
    const decision = policy?.decision();
    if (decision) nodeSpeculation.setAdmission({ accepting: decision.contribute, maxActiveJobs: decision.maxConcurrentJobs });
    // Jobs for a target configured in `speculation.verify` are decoded with a paired draft; others as loaded.
    const jobModels = new Map(served.map((s) => [s.model.info.sha256, nodeSpeculation.wrap(s.model)]));
    if (served.length > 0) {
      jobHandler = await registerJobHandler(swarm.libp2p, {
        resolveModel: (sha256) => jobModels.get(sha256),
        logger,
        onJobStarted: (job) => emit({ type: "job-started", ...job }),
        onJobFinished: (outcome) => {
          if (outcome.outcome === "end") jobs.answered++;
          else if (outcome.outcome === "gone") jobs.gone++;
          else jobs.failed++;
          jobs.tokensGenerated += outcome.generatedTokens;
          earnings.jobFinished(outcome);
          adverts.updateAdvert(advertState());
          emit({ type: "job", outcome });
        },
      });
      const handler = jobHandler;
      cleanups.push(() => handler.stop());
    }
    await adverts.start();
    cleanups.push(() => adverts.stop());
    policy?.subscribe((decision) => {
      adverts.updateAdvert(advertState());
      emit({ type: "decision", decision });
    });

    function advertState() {
      const models: AdvertisedModel[] = served.map((s) => ({
        sha256: s.model.info.sha256,
        name: s.model.info.name,
        quantization: s.model.info.quantization,
        contextSize: s.model.contextSize,
        tokensPerSecond: s.tokensPerSecond,
        pricePer1kTokens: s.config.pricePer1kTokens,
      }));
      const stats = served.map((s) => s.model.stats());
      const decision = policy?.decision();
      return {
        models,
        freeSlots: stats.reduce((sum, s) => sum + Math.max(0, s.maxActive - s.active), 0),
        queueLength: stats.reduce((sum, s) => sum + s.queued, 0),
        policy: { contribute: decision?.contribute ?? served.length > 0, reasonCode: decision?.reasonCode ?? (served.length > 0 ? "contributing" : "no-models") },
      };
    }

    const transport = createJobTransport(swarm.libp2p, { logger });
    const trust = await startNodeTrust({
      libp2p: swarm.libp2p,
      privateKey,
      peerId: swarm.peerId,
      dataDir: deps.paths.dataDir,
      config: config.trust,
      served: bySha,
      adverts,
      earnings,
      transport,
      logger,
    });
    trustRef.current = trust;
    cleanups.push(() => trust.stop());

    const models = await startNodeModels({
      libp2p: swarm.libp2p,
      store: createModelStore({ dir: path.join(deps.paths.dataDir, "models") }),
      logger,
      caps: config.uploads,
      onPeerMisbehaved: (peerId, reason) => trust.peerMisbehaved(peerId, reason),
    });
    cleanups.push(() => models.stop());
    const downloads = createModelDownloads({ models, logger, onChange: (download) => emit({ type: "model-download", download }) });
    cleanups.push(() => downloads.stop());
    // Seeding hashes a served GGUF once (then cached by size and mtime): kept off the start path.
    for (const file of servedFiles) void models.hold([file]).catch((error: unknown) => logger.warn({ err: error, file }, "could not seed a served model"));

    const routing = createScheduler({
      transport,
      candidates: adverts,
      latency: createLatencyProbe(swarm.libp2p),
      reputation: trust.reputation,
      onWorkerOutcome: (peerId, outcome) => trust.workerOutcome(peerId, outcome),
      logger,
      options: deps.schedulerOptions,
    });
    // Every job this node requests is paid, then maybe verified: receipts go out once its answer is
    // complete (never delaying it), and a sample of answers goes to validators. Stopping waits (bounded)
    // for receipts still in flight, so a requester that stops right after its answer still pays.
    const settling = new Set<Promise<void>>();
    const scheduler: Scheduler = {
      ...routing,
      runJob(request, runOptions) {
        const run = routing.runJob(request, runOptions);
        const settled = run.result.then(
          async (result) => {
            await earnings.payForJob(request, result);
            await trust.jobAnswered(request, result);
          },
          () => undefined,
        );
        settling.add(settled);
        void settled.finally(() => settling.delete(settled));
        return run;
      },
    };
    cleanups.push(async () => {
      if (settling.size === 0) return;
      logger.info({ jobs: settling.size }, "waiting for receipts and verdicts still in flight");
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([Promise.all(settling), new Promise((resolve) => (timer = setTimeout(resolve, SETTLE_ON_STOP_MS)))]);
      clearTimeout(timer);
    });

    return {
      peerId: swarm.peerId,
      swarm,
      engine,
      scheduler,
      earnings,
      trust,
      models,
      downloads,
      adverts,
      served,
      policy,
      hardware,
      inventory,
      telemetrySource,
      config,
      startedAt,
      status: () => ({
        peerId: swarm.peerId,
        addresses: swarm.multiaddrs(),
        models: served.map((s) => ({
          name: s.model.info.name,
          sha256: s.model.info.sha256,
          quantization: s.model.info.quantization,
          threads: s.model.threads,
          tokensPerSecond: s.tokensPerSecond,
          active: s.model.stats().active,
          queued: s.model.stats().queued,
        })),
        decision: policy?.decision() ?? null,
        peers: swarm.libp2p.getPeers().length,
        workersSeen: adverts.freshAdverts().length,
        jobs: { ...jobs },
      }),
      onEvent(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      async stop() {
        listeners.clear();
        await runCleanups(cleanups, logger);
      },
    };
  } catch (error) {
    await runCleanups(cleanups, logger);
    throw error;
  }
}

/** Stops what was started, newest first; one failing stop does not keep the others running. */
async function runCleanups(cleanups: (() => Promise<void> | void)[], logger: Logger): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup();
    } catch (error) {
      logger.warn({ err: error }, "a component failed to stop cleanly");
    }
  }
}
