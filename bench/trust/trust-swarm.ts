/**
 * bench/trust's swarm on loopback: honest `inferswarm node` worker processes (differing in threads and
 * max-jobs), cheating worker processes (src-main/cli/cheating-node.test-child.ts, advertising the honest
 * model's hash), and a requester in this process that sends each job straight to the worker it chooses
 * over /inferswarm/job/1.0.0. Every process is killed by `stop()`, and by an exit hook if the bench dies.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createSilentLogger } from "../../src-main/common/index.js";
import { ensureSyntheticModel, type PresetName } from "../../src-main/models/index.js";
import { parseNodeConfig, spawnNodeProcess, startNode, type NodeProcess, type RunningNode } from "../../src-main/node/index.js";
import { createJobTransport, type JobRequest } from "../../src-main/swarm/index.js";

export interface HonestWorkerShape {
  threads: 1 | 2;
  maxJobs: 1 | 2;
}

export interface HonestWorker extends HonestWorkerShape {
  label: string;
  process: NodeProcess;
}

/** How each cheating process is started: the cheat, the model file it really runs, the hash it claims. */
export interface CheaterSpec {
  name: string;
  cheat: "random" | "impostor" | "truncate" | "replay";
  /** A preset name (the honest model) or a .gguf path (an impostor's file). */
  model: string;
  claimSha256?: string;
}

export interface WorkerAnswer {
  tokens: number[];
  finishReason: "eos" | "length" | "stop";
  /** Requester-side time from opening the job stream to its end frame. */
  streamMs: number;
}

export interface TrustSwarm {
  honest: HonestWorker[];
  cheaters: Map<string, NodeProcess>;
  requester: RunningNode;
  modelSha256: string;
  /** The honest model's prompt tokenizer (the requester loads the model once and closes it). */
  promptTokens: (text: string) => number[];
  ask(peerId: string, request: Omit<JobRequest, "type" | "modelSha256" | "stop">, options?: { timeoutMs?: number }): Promise<WorkerAnswer>;
  stop(): Promise<void>;
}

const JOB_TIMEOUT_MS = 60_000;

/** Starts every worker in parallel; on any failure the ones already started are killed before it throws. */
export async function startTrustSwarm(options: { preset: PresetName; honest: HonestWorkerShape[]; cheaters: CheaterSpec[] }): Promise<TrustSwarm> {
  const logger = createSilentLogger();
  const honestModel = await ensureSyntheticModel({ preset: options.preset, seed: 1, quantization: "F32", peaky: true });
  const started: NodeProcess[] = [];
  // A bench that throws or is interrupted must not leave workers behind.
  const killAll = () => {
    for (const worker of started) if (worker.proc.exitCode === null && worker.proc.signalCode === null) worker.proc.kill("SIGKILL");
  };
  const killAndExit = (signal: NodeJS.Signals) => {
    killAll();
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("exit", killAll);
  process.once("SIGINT", killAndExit);
  process.once("SIGTERM", killAndExit);
  const track = async (spawned: Promise<NodeProcess>) => {
    const worker = await spawned;
    started.push(worker);
    return worker;
  };

  let requester: RunningNode | undefined;
  try {
    const honestSpawns = options.honest.map((shape) =>
      track(spawnNodeProcess(["--model", options.preset, "--quantization", "F32", "--mode", "always", "--threads", String(shape.threads), "--max-jobs", String(shape.maxJobs)])),
    );
    const cheaterSpawns = options.cheaters.map((spec) =>
      track(
        spawnNodeProcess(["--model", spec.model, "--mode", "always", "--threads", "1", "--max-jobs", "1"], {
          entry: "cheating-node",
          env: { INFERSWARM_CHEAT: spec.cheat, ...(spec.claimSha256 && { INFERSWARM_CLAIM_SHA256: spec.claimSha256 }) },
        }),
      ),
    );
    const settled = await Promise.allSettled([...honestSpawns, ...cheaterSpawns]);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) throw failed.reason;
    const processes = settled.map((s) => (s as PromiseFulfilledResult<NodeProcess>).value);
    const honest = options.honest.map((shape, i) => ({ ...shape, label: `t${shape.threads}/j${shape.maxJobs}`, process: processes[i]! }));
    const cheaters = new Map(options.cheaters.map((spec, i) => [spec.name, processes[options.honest.length + i]!]));

    const home = await mkdtemp(path.join(os.tmpdir(), "inferswarm-bench-trust-"));
    requester = await startNode(
      parseNodeConfig({
        listen: ["/ip4/127.0.0.1/tcp/0"],
        bootstrap: processes.map((w) => w.addresses[0]!),
        mdns: false,
        hardware: false,
        // The bench drives validation itself; the node's own sampling and challenges stay out of the way.
        trust: { verifyFraction: 0, suspiciousVerifyFraction: 0, challengeEveryMinutes: 0 },
      }),
      { paths: { configDir: home, dataDir: home } },
    );
    const libp2p = requester.swarm.libp2p;
    const deadline = Date.now() + 30_000;
    const unconnected = () => processes.filter((w) => !libp2p.getConnections().some((c) => c.remotePeer.toString() === w.peerId));
    while (unconnected().length > 0) {
      if (Date.now() > deadline) throw new Error(`the requester could not connect to ${unconnected().length} workers within 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const tokenizer = await requester.engine.loadModel(honestModel.path, { threads: 1 });
    const transport = createJobTransport(libp2p, { logger });
    const running = requester;
    return {
      honest,
      cheaters,
      requester: running,
      modelSha256: honestModel.sha256,
      promptTokens: (text) => tokenizer.tokenizePrompt(text),
      async ask(peerId, request, askOptions = {}) {
        const signal = AbortSignal.timeout(askOptions.timeoutMs ?? JOB_TIMEOUT_MS);
        const t0 = performance.now();
        const tokens: number[] = [...request.resumeTokens];
        for await (const frame of transport.openJob(peerId, { type: "request", modelSha256: honestModel.sha256, stop: [], ...request }, { signal })) {
          if (frame.type === "tokens") tokens.push(...frame.ids);
          if (frame.type === "end") return { tokens, finishReason: frame.finishReason, streamMs: performance.now() - t0 };
        }
        throw new Error(`worker ${peerId} closed job ${request.jobId} without an end frame`);
      },
      async stop() {
        await tokenizer.close().catch(() => undefined);
        await running.stop().catch(() => undefined);
        await Promise.all(started.map((w) => w.stop().catch(() => undefined)));
        // The home folders (spawnNodeProcess makes one per worker and names it after --home) are throwaway.
        const homes = [home, ...started.map((w) => w.proc.spawnargs[w.proc.spawnargs.indexOf("--home") + 1]).filter((dir): dir is string => dir?.includes("inferswarm-worker-") ?? false)];
        await Promise.all(homes.map((dir) => rm(dir, { recursive: true, force: true }).catch(() => undefined)));
        process.removeListener("exit", killAll);
        process.removeListener("SIGINT", killAndExit);
        process.removeListener("SIGTERM", killAndExit);
      },
    };
  } catch (error) {
    await requester?.stop().catch(() => undefined);
    // Spawns still in flight finish (or time out) before the kill, so none is missed.
    await Promise.allSettled(started.map((w) => w.stop()));
    killAll();
    throw error;
  }
}
