import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import {
  contributionModeSchema,
  DashboardCallError,
  type ContributionMode,
  type DashboardEvent,
  type DashboardHandlers,
  type DecisionView,
  type EarningsSummary,
  type JobView,
  type NodeStatusView,
  type SettingsUpdate,
  type SettingsView,
  type TelemetryPoint,
  type TrayState,
} from "../../src-contract/index.js";
import { createSilentLogger, type Logger } from "../common/index.js";
import type { TelemetrySample } from "../hardware/index.js";
import type { ContributionDecision, PolicyConfig } from "../policy/index.js";
import type { NodeConfig } from "./node-config.js";
import type { NodeEvent, RunningNode } from "./start-node.js";

export interface DashboardServiceOptions {
  node: RunningNode;
  config: NodeConfig;
  /** Where the identity key lives; the desktop app passes the keyring's answer. */
  identityStorage: SettingsView["identityStorage"];
  /**
   * The owner's changes made in the dashboard (mode, limits, schedule), kept across restarts on top of the
   * config file. Without it changes last until the node stops.
   */
  ownerSettingsFile?: string;
  /** The OpenAI-compatible API, when this node serves it (#6). */
  api?: { url: string; key: string };
  logger?: Logger;
  /** Most recent jobs kept for the Jobs page. */
  jobHistoryLength?: number;
  /** Status events are coalesced to at most one per this many ms (peers come and go in bursts). */
  statusThrottleMs?: number;
}

/** The node's side of the dashboard contract: the handlers the IPC relay and the HTTP bridge both call. */
export interface DashboardService {
  readonly handlers: DashboardHandlers;
  /** Live events (status changes, telemetry samples, jobs, model downloads). */
  subscribe(listener: (event: DashboardEvent) => void): () => void;
  close(): void;
}

/** What the dashboard may change, stored as the owner's overlay on the config file. */
const ownerSettingsSchema = z.object({
  policy: z.record(z.string(), z.unknown()).default({}),
  resumeMode: contributionModeSchema.exclude(["paused"]).optional(),
});

/**
 * Builds the dashboard's view of a running node and applies the owner's actions to it. Earnings come from
 * the node's ledger, reputation from the verdicts validators sent about its work.
 */
export async function createDashboardService(options: DashboardServiceOptions): Promise<DashboardService> {
  const { node } = options;
  const logger = (options.logger ?? createSilentLogger()).child({ module: "dashboard" });
  const listeners = new Set<(event: DashboardEvent) => void>();
  const jobs = new Map<string, JobView>();
  const jobHistoryLength = options.jobHistoryLength ?? 200;
  const statusThrottleMs = options.statusThrottleMs ?? 250;
  const modelNames = new Map(node.served.map((s) => [s.model.info.sha256, s.model.info.name]));
  // Models this node requested but does not serve are named from the swarm's adverts.
  const modelName = (sha256: string) =>
    modelNames.get(sha256) ?? node.adverts.freshAdverts().flatMap((a) => a.models).find((m) => m.sha256 === sha256)?.name ?? sha256.slice(0, 12);
  const policy = node.policy;

  const emit = (event: DashboardEvent) => {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (error) {
        logger.warn({ err: error }, "a dashboard listener threw");
      }
    }
  };

  let decisionAt = Date.now();
  let resumeMode: Exclude<ContributionMode, "paused"> = "when-idle";
  const overlay = await readOwnerSettings(options.ownerSettingsFile, logger);
  if (policy) {
    const configured = policy.config().mode;
    resumeMode = overlay.resumeMode ?? (configured === "paused" ? "when-idle" : configured);
    if (Object.keys(overlay.policy).length > 0) {
      try {
        await policy.setConfig({ ...policy.config(), ...overlay.policy });
      } catch (error) {
        // A stale or hand-edited overlay must not stop the node: the config file's settings stand.
        logger.warn({ err: error, file: options.ownerSettingsFile }, "ignoring the saved dashboard settings");
      }
    }
  }

  function requirePolicy() {
    if (!policy) throw new DashboardCallError("NO_MODELS_SERVED", "This node serves no model, so there is nothing to pause or schedule; start it with a model (--model).");
    return policy;
  }

  function status(): NodeStatusView {
    const s = node.status();
    const mode = policy?.config().mode ?? "paused";
    return {
      peerId: s.peerId,
      addresses: s.addresses.slice(0, 64),
      mode,
      resumeMode,
      tray: trayStateOf(s.decision, mode),
      decision: s.decision ? decisionView(s.decision, decisionAt) : null,
      models: s.models,
      peers: s.peers,
      workersSeen: s.workersSeen,
      jobs: s.jobs,
      startedAt: node.startedAt,
    };
  }

  async function applyPolicy(change: Partial<PolicyConfig>) {
    const controller = requirePolicy();
    const next = { ...controller.config(), ...change };
    await controller.setConfig(next);
    await saveOwnerSettings(options.ownerSettingsFile, { policy: ownerPolicyOverlay(controller.config()), resumeMode }, logger);
  }

  function settings(): SettingsView {
    const config = policy?.config();
    const limits = config?.limits;
    return {
      policy: {
        mode: config?.mode ?? "paused",
        pauseKind: config?.pauseKind ?? "soft",
        idleAfterSeconds: config?.idleAfterSeconds ?? 300,
        schedule: config?.schedule ?? [],
        limits: {
          maxTemperatureC: limits?.maxTemperatureC ?? 83,
          temperatureResumeMarginC: limits?.temperatureResumeMarginC ?? 8,
          maxPowerW: limits?.maxPowerW ?? null,
          maxPowerFractionOfLimit: limits?.maxPowerFractionOfLimit ?? 0.9,
          vramShare: limits?.vramShare ?? 0.8,
          maxConcurrentJobs: limits?.maxConcurrentJobs ?? 2,
        },
        pauseWhenGameRunning: config?.pauseWhenGameRunning ?? true,
      },
      swarm: { private: options.config.swarmKeyFile !== undefined, swarmKeyFile: options.config.swarmKeyFile ?? null, bootstrap: options.config.bootstrap },
      api: options.api ?? null,
      identityStorage: options.identityStorage,
      startAtLogin: null,
    };
  }

  const handlers: DashboardHandlers = {
    getStatus: async () => status(),
    async setPaused({ paused }) {
      const controller = requirePolicy();
      const current = controller.config().mode;
      if (paused && current !== "paused") resumeMode = current;
      await applyPolicy({ mode: paused ? "paused" : resumeMode });
      return status();
    },
    async setMode({ mode }) {
      if (mode !== "paused") resumeMode = mode;
      await applyPolicy({ mode });
      return status();
    },
    getTelemetry: async () => {
      const limits = settings().policy.limits;
      return {
        source: node.telemetrySource,
        intervalMs: 2000,
        samples: (node.hardware?.sampler.history() ?? []).slice(-2000).map(telemetryPoint),
        limits: {
          maxTemperatureC: limits.maxTemperatureC,
          temperatureResumeMarginC: limits.temperatureResumeMarginC,
          maxPowerW: limits.maxPowerW,
          maxPowerFractionOfLimit: limits.maxPowerFractionOfLimit,
          vramShare: limits.vramShare,
        },
      };
    },
    getEarnings: async (): Promise<EarningsSummary> => {
      const summary = node.earnings.ledger.summary({ days: 30 });
      return {
        available: true,
        unit: summary.unit,
        totals: summary.totals,
        perDay: summary.perDay,
        perModel: summary.perModel.map((row) => ({ ...row, model: modelName(row.model) })),
      };
    },
    exportEarningsCsv: async ({ days }) => {
      const now = Date.now();
      const csv = node.earnings.ledger.exportCsv({ from: now - days * 86_400_000, to: now + 1, modelName: (sha256) => modelName(sha256) });
      return { fileName: `inferswarm-earnings-${new Date(now).toISOString().slice(0, 10)}-${days}d.csv`, csv };
    },
    // This node as validators judged it (their verdicts reach it with its receipts), not a score it gives itself.
    getReputation: async () => node.trust.ownStanding(),
    listJobs: async ({ limit }) => ({ jobs: [...jobs.values()].reverse().slice(0, limit) }),
    getModels: async () => ({
      installed: node.served.map((s) => ({
        name: s.model.info.name,
        sha256: s.model.info.sha256,
        quantization: s.model.info.quantization,
        fileBytes: s.model.info.fileSizeBytes,
        parameters: s.model.info.parameterCount,
        contextSize: s.model.contextSize,
        serving: true,
        fit: fitOf(node),
      })),
      downloads: node.downloads.list(),
    }),
    async fetchModel({ root }) {
      const held = node.models.held().find((model) => model.manifest.root === root);
      if (held) {
        const name = held.manifest.metadata.name ?? held.manifest.parts[0]?.fileName ?? root.slice(0, 12);
        throw new DashboardCallError("ALREADY_HELD", `This node already holds model ${root.slice(0, 12)}… (${name}) and seeds it to the swarm; there is nothing to fetch.`);
      }
      // Workers that advertise a model are the likeliest seeders (every served model is seeded); the DHT finds the rest.
      const peers = [...new Set(node.adverts.freshAdverts().filter((advert) => advert.models.length > 0).map((advert) => advert.peerId))].filter((peer) => peer !== node.peerId);
      return node.downloads.start(root, { peers });
    },
    getSettings: async () => settings(),
    async updateSettings(update: SettingsUpdate) {
      if (update.startAtLogin !== undefined) {
        throw new DashboardCallError("START_AT_LOGIN_UNSUPPORTED", "A headless node cannot manage start at login; use your service manager (e.g. a systemd user unit).");
      }
      if (update.policy) {
        const controller = requirePolicy();
        const current = controller.config();
        const { limits, ...rest } = update.policy;
        try {
          await applyPolicy({ ...rest, limits: { ...current.limits, ...limits } });
        } catch (error) {
          if (error instanceof Error && (error as { code?: string }).code === "POLICY_CONFIG_INVALID") throw new DashboardCallError("BAD_SETTINGS", error.message);
          throw error;
        }
        if (rest.mode && rest.mode !== "paused") resumeMode = rest.mode;
      }
      return settings();
    },
  };

  // Live events: status on anything that changes it (coalesced), telemetry per sample, jobs and downloads as they move.
  let statusTimer: NodeJS.Timeout | undefined;
  const scheduleStatus = () => {
    if (statusTimer || listeners.size === 0) return;
    statusTimer = setTimeout(() => {
      statusTimer = undefined;
      emit({ type: "status", status: status() });
    }, statusThrottleMs);
    statusTimer.unref();
  };
  const upsertJob = (job: JobView) => {
    jobs.delete(job.jobId);
    jobs.set(job.jobId, job);
    while (jobs.size > jobHistoryLength) jobs.delete(jobs.keys().next().value!);
    emit({ type: "job", job });
  };
  const offNode = node.onEvent((event: NodeEvent) => {
    if (event.type === "decision") decisionAt = Date.now();
    if (event.type === "model-download") {
      // Downloads have their own event (already coalesced per download); they do not change the status.
      emit({ type: "download", download: event.download });
      return;
    }
    if (event.type === "job-started") {
      upsertJob({
        jobId: event.jobId,
        model: modelName(event.modelSha256),
        requester: event.peerId.slice(-8),
        state: "running",
        generatedTokens: 0,
        startedAt: Date.now(),
        endedAt: null,
        detail: null,
      });
    }
    if (event.type === "job") {
      const o = event.outcome;
      const started = jobs.get(o.jobId);
      upsertJob({
        jobId: o.jobId,
        model: modelName(o.modelSha256),
        requester: o.peerId.slice(-8),
        state: o.outcome === "end" ? "answered" : o.outcome === "gone" ? "requester-gone" : "failed",
        generatedTokens: o.generatedTokens,
        startedAt: started?.startedAt ?? Date.now() - o.durationMs,
        endedAt: Date.now(),
        detail: o.code ?? null,
      });
    }
    scheduleStatus();
  });
  const offTelemetry = node.hardware?.sampler.subscribe((sample) => emit({ type: "telemetry", point: telemetryPoint(sample) }));

  return {
    handlers,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      listeners.clear();
      offNode();
      offTelemetry?.();
      clearTimeout(statusTimer);
    },
  };
}

/** The tray's four states from the policy's decision: the owner cares why it is not working, in four words. */
export function trayStateOf(decision: ContributionDecision | null, mode: ContributionMode): TrayState {
  if (decision?.contribute) return "contributing";
  if (mode === "paused" || decision === null || decision.reasonCode === "paused-by-owner") return "paused";
  if (decision.reasonCode === "too-hot" || decision.reasonCode === "power-limit") return "too-hot";
  return "waiting-for-idle";
}

function decisionView(decision: ContributionDecision, at: number): DecisionView {
  return { contribute: decision.contribute, reasonCode: decision.reasonCode, reason: decision.reason.slice(0, 500), at };
}

function telemetryPoint(sample: TelemetrySample): TelemetryPoint {
  return {
    at: sample.at,
    gpus: sample.gpus.slice(0, 16).map((g) => ({
      id: g.id,
      name: g.name,
      temperatureC: g.temperatureC,
      utilizationPercent: g.utilizationPercent,
      powerW: g.powerW,
      powerLimitW: g.powerLimitW,
      vramUsedBytes: g.vramUsedBytes,
      vramTotalBytes: g.vramTotalBytes,
    })),
    errors: sample.errors.slice(0, 16).map((e) => e.slice(0, 500)),
  };
}

function fitOf(node: RunningNode): { gpuLayers: number; onGpu: boolean; note: string } {
  const gpu = node.engine.describe().gpu;
  if (gpu === false) return { gpuLayers: 0, onGpu: false, note: "CPU: node-llama-cpp found no GPU backend on this machine" };
  return { gpuLayers: 0, onGpu: true, note: `GPU backend ${gpu}` };
}

/** Only what differs from the defaults' shape is kept; the schedule and limits are stored whole. */
function ownerPolicyOverlay(config: PolicyConfig): Record<string, unknown> {
  return { mode: config.mode, pauseKind: config.pauseKind, idleAfterSeconds: config.idleAfterSeconds, schedule: config.schedule, limits: config.limits, pauseWhenGameRunning: config.pauseWhenGameRunning };
}

async function readOwnerSettings(file: string | undefined, logger: Logger): Promise<z.infer<typeof ownerSettingsSchema>> {
  if (!file) return { policy: {} };
  try {
    return ownerSettingsSchema.parse(JSON.parse(await readFile(file, "utf8")));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") logger.warn({ err: error, file }, "the saved dashboard settings are unreadable; using the config file's");
    return { policy: {} };
  }
}

/** Written to a temporary file then renamed, so a crash mid-write leaves the old settings, not half of new ones. */
async function saveOwnerSettings(file: string | undefined, settings: z.infer<typeof ownerSettingsSchema>, logger: Logger) {
  if (!file) return;
  try {
    await mkdir(path.dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(settings, null, 2), { mode: 0o600 });
    await rename(temporary, file);
  } catch (error) {
    logger.warn({ err: error, file }, "could not save the dashboard settings; they last until the node stops");
  }
}
