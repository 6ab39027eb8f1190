/**
 * The dashboard's one typed API: every call the renderer may make to the node, every event the node
 * pushes, each with its zod schema. Three places derive from this file and nothing else:
 * - the Electron preload exposes one named function per call (`window.inferswarm.getStatus()`);
 * - the Electron main process validates the sender and the argument, then forwards to the core;
 * - the headless bridge (src-main/api) serves the same calls over HTTP and the events over WebSocket.
 * The renderer cannot tell which one it has. This file runs in every process: zod only, no Node, no DOM.
 */
import { z } from "zod";

// ---------------------------------------------------------------------------------------------------
// Shared shapes
// ---------------------------------------------------------------------------------------------------

export const contributionModeSchema = z.enum(["always", "when-idle", "schedule", "paused"]);
export type ContributionMode = z.infer<typeof contributionModeSchema>;

/** What the tray and the Overview show: one of four states, each with the reason in the owner's words. */
export const trayStateSchema = z.enum(["contributing", "waiting-for-idle", "paused", "too-hot"]);
export type TrayState = z.infer<typeof trayStateSchema>;

export const decisionViewSchema = z.object({
  contribute: z.boolean(),
  /** A stable code (e.g. "owner-active", "gpu-too-hot") for tests and icons. */
  reasonCode: z.string().max(64),
  /** One sentence for the owner, e.g. "Waiting for 5 minutes of idle time (idle 42 s)". */
  reason: z.string().max(500),
  /** Epoch ms of the evaluation that produced it. */
  at: z.number(),
});
export type DecisionView = z.infer<typeof decisionViewSchema>;

export const servedModelViewSchema = z.object({
  name: z.string().max(200),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  quantization: z.string().max(32),
  threads: z.number().int().nonnegative(),
  tokensPerSecond: z.number().nonnegative(),
  active: z.number().int().nonnegative(),
  queued: z.number().int().nonnegative(),
});

export const nodeStatusSchema = z.object({
  peerId: z.string().max(128),
  addresses: z.array(z.string().max(256)).max(64),
  mode: contributionModeSchema,
  /** The mode to go back to when the owner resumes. */
  resumeMode: contributionModeSchema.exclude(["paused"]),
  tray: trayStateSchema,
  /** null before the policy's first evaluation, or on a node that serves no model. */
  decision: decisionViewSchema.nullable(),
  models: z.array(servedModelViewSchema).max(64),
  peers: z.number().int().nonnegative(),
  workersSeen: z.number().int().nonnegative(),
  jobs: z.object({
    answered: z.number().int().nonnegative(),
    failed: z.number().int().nonnegative(),
    gone: z.number().int().nonnegative(),
    tokensGenerated: z.number().int().nonnegative(),
  }),
  /** Epoch ms when the node started. */
  startedAt: z.number(),
});
export type NodeStatusView = z.infer<typeof nodeStatusSchema>;

const reading = z.number().nullable();

/** One GPU's readings at one instant; null means "the source could not tell", never 0. */
export const gpuPointSchema = z.object({
  id: z.string().max(128),
  name: z.string().max(200),
  temperatureC: reading,
  utilizationPercent: reading,
  powerW: reading,
  powerLimitW: reading,
  vramUsedBytes: reading,
  vramTotalBytes: reading,
});
export const telemetryPointSchema = z.object({
  at: z.number(),
  gpus: z.array(gpuPointSchema).max(16),
  errors: z.array(z.string().max(500)).max(16),
});
export type TelemetryPoint = z.infer<typeof telemetryPointSchema>;

/** The owner's limits, drawn as lines on the thermal charts. */
export const telemetryLimitsSchema = z.object({
  maxTemperatureC: z.number(),
  temperatureResumeMarginC: z.number(),
  maxPowerW: z.number().nullable(),
  maxPowerFractionOfLimit: z.number(),
  vramShare: z.number(),
});

export const telemetryHistorySchema = z.object({
  /** Where the readings come from: "live" (nvidia-smi, sysfs), "fixture" (recorded output replayed on a
   *  machine without a GPU), or "none" (no GPU tooling, nothing to plot). */
  source: z.enum(["live", "fixture", "none"]),
  intervalMs: z.number().int().positive(),
  samples: z.array(telemetryPointSchema).max(2000),
  limits: telemetryLimitsSchema,
});
export type TelemetryHistory = z.infer<typeof telemetryHistorySchema>;

export const jobStateSchema = z.enum(["running", "answered", "failed", "requester-gone"]);
export const jobViewSchema = z.object({
  jobId: z.string().max(128),
  model: z.string().max(200),
  /** The requester's peer id, shortened: enough to tell peers apart, not to track them. */
  requester: z.string().max(64),
  state: jobStateSchema,
  generatedTokens: z.number().int().nonnegative(),
  startedAt: z.number(),
  endedAt: z.number().nullable(),
  /** The finish reason (e.g. "length", "stop") or the error code when it failed. */
  detail: z.string().max(200).nullable(),
});
export type JobView = z.infer<typeof jobViewSchema>;

export const earningStateSchema = z.enum(["pending", "held", "payable", "forfeited"]);
export type EarningState = z.infer<typeof earningStateSchema>;
const amounts = z.object({ pending: z.number(), held: z.number(), payable: z.number(), forfeited: z.number() });

export const earningsSummarySchema = z.object({
  /** False until this node has a ledger (the trust and ledger issue, #5); the panel says so. */
  available: z.boolean(),
  unit: z.string().max(16),
  totals: z.object({ today: amounts, last7Days: amounts, last30Days: amounts }),
  /** Oldest first, one entry per local day that has any receipt, at most 30. */
  perDay: z.array(amounts.extend({ day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/), tokens: z.number().int().nonnegative() })).max(31),
  perModel: z.array(amounts.extend({ model: z.string().max(200), tokens: z.number().int().nonnegative(), jobs: z.number().int().nonnegative() })).max(64),
});
export type EarningsSummary = z.infer<typeof earningsSummarySchema>;

export const reputationViewSchema = z.object({
  /** False until the trust module exists (#5); the panel says so. */
  available: z.boolean(),
  score: z.number().min(0).max(1).nullable(),
  tier: z.string().max(32).nullable(),
  history: z
    .array(
      z.object({
        at: z.number(),
        kind: z.enum(["verification", "challenge", "failure", "stall"]),
        verdict: z.enum(["pass", "fail"]),
        detail: z.string().max(300),
      }),
    )
    .max(500),
});
export type ReputationView = z.infer<typeof reputationViewSchema>;

export const installedModelSchema = z.object({
  name: z.string().max(200),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  quantization: z.string().max(32),
  fileBytes: z.number().int().nonnegative(),
  parameters: z.number().nonnegative().nullable(),
  contextSize: z.number().int().positive(),
  serving: z.boolean(),
  /** Where the model runs on this machine and why (e.g. "CPU: no GPU detected"). */
  fit: z.object({ gpuLayers: z.number().int().nonnegative(), onGpu: z.boolean(), note: z.string().max(300) }),
});
/** A model's root: the sha256 of its manifest, how models are named over the swarm (lowercase hex). */
export const modelRootSchema = z.string().regex(/^[0-9a-f]{64}$/, "a model's root is 64 lowercase hexadecimal characters");
export const modelDownloadStateSchema = z.enum(["fetching", "finished", "failed"]);
export type ModelDownloadState = z.infer<typeof modelDownloadStateSchema>;
/** One model fetched over the swarm (#9), as the node folds its progress events. */
export const modelDownloadViewSchema = z.object({
  root: modelRootSchema,
  /** The GGUF's general.name or file name once known; the root's first 12 characters before that. */
  name: z.string().max(256),
  state: modelDownloadStateSchema,
  receivedBytes: z.number().nonnegative(),
  /** 0 until a peer has given the manifest. */
  totalBytes: z.number().nonnegative(),
  /** Sources pieces are coming from (peers and HTTP). */
  peers: z.number().int().nonnegative(),
  bytesPerSecond: z.number().nonnegative(),
  /** Seconds left at the current rate; null while unknown (no manifest, no rate, or failed). */
  etaSeconds: z.number().nonnegative().nullable(),
  /** Why it failed, for the owner, with the error code in brackets; null unless failed. */
  error: z.string().max(2000).nullable(),
  /** Epoch ms. */
  startedAt: z.number(),
});
export type ModelDownloadView = z.infer<typeof modelDownloadViewSchema>;
export const modelsViewSchema = z.object({
  installed: z.array(installedModelSchema).max(256),
  /** Models fetched over the swarm this session, newest first: running ones and the last finished or failed. */
  downloads: z.array(modelDownloadViewSchema).max(64),
});
export type ModelsView = z.infer<typeof modelsViewSchema>;

const clockTime = z.string().regex(/^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/);
export const scheduleWindowViewSchema = z.object({ days: z.array(z.number().int().min(0).max(6)).min(1).max(7), start: clockTime, end: clockTime });

export const settingsViewSchema = z.object({
  policy: z.object({
    mode: contributionModeSchema,
    pauseKind: z.enum(["soft", "hard"]),
    idleAfterSeconds: z.number().int().min(0).max(86_400),
    schedule: z.array(scheduleWindowViewSchema).max(64),
    limits: telemetryLimitsSchema.extend({ maxConcurrentJobs: z.number().int().min(1).max(64) }),
    pauseWhenGameRunning: z.boolean(),
  }),
  swarm: z.object({
    /** True when this node only talks to peers holding the same pre-shared key. */
    private: z.boolean(),
    swarmKeyFile: z.string().max(4096).nullable(),
    bootstrap: z.array(z.string().max(512)).max(64),
  }),
  /** The OpenAI-compatible API (#6): null until this node serves it. */
  api: z.object({ url: z.string().max(512), key: z.string().max(256) }).nullable(),
  /** Where the node's identity key is kept and whether that is encrypted at rest. */
  identityStorage: z.object({ kind: z.enum(["os-keyring", "plaintext-file"]), note: z.string().max(300) }),
  /** Start at login: null where this process cannot manage it (a headless node). */
  startAtLogin: z.boolean().nullable(),
});
export type SettingsView = z.infer<typeof settingsViewSchema>;

/** What the Settings page may change; every field optional, the node validates ranges again. */
export const settingsUpdateSchema = z
  .object({
    policy: settingsViewSchema.shape.policy.partial().extend({ limits: settingsViewSchema.shape.policy.shape.limits.partial().optional() }).optional(),
    startAtLogin: z.boolean().optional(),
  })
  .strict();
export type SettingsUpdate = z.infer<typeof settingsUpdateSchema>;

// ---------------------------------------------------------------------------------------------------
// Calls: name → argument schema and result schema
// ---------------------------------------------------------------------------------------------------

const none = z.object({}).strict();

export const dashboardCalls = {
  getStatus: { args: none, result: nodeStatusSchema },
  /** Pause (mode "paused") or resume (back to the mode before the pause). */
  setPaused: { args: z.object({ paused: z.boolean() }).strict(), result: nodeStatusSchema },
  setMode: { args: z.object({ mode: contributionModeSchema }).strict(), result: nodeStatusSchema },
  getTelemetry: { args: none, result: telemetryHistorySchema },
  getEarnings: { args: none, result: earningsSummarySchema },
  exportEarningsCsv: { args: z.object({ days: z.number().int().min(1).max(3660) }).strict(), result: z.object({ fileName: z.string().max(200), csv: z.string().max(20_000_000) }) },
  getReputation: { args: none, result: reputationViewSchema },
  listJobs: { args: z.object({ limit: z.number().int().min(1).max(500) }).strict(), result: z.object({ jobs: z.array(jobViewSchema).max(500) }) },
  getModels: { args: none, result: modelsViewSchema },
  /** Starts fetching a model over the swarm by its root (a second call while it runs returns the same download). */
  fetchModel: { args: z.object({ root: modelRootSchema }).strict(), result: modelDownloadViewSchema },
  getSettings: { args: none, result: settingsViewSchema },
  updateSettings: { args: settingsUpdateSchema, result: settingsViewSchema },
} as const;

export type DashboardCallName = keyof typeof dashboardCalls;
export const dashboardCallNames = Object.keys(dashboardCalls) as DashboardCallName[];
export type DashboardCallArgs<C extends DashboardCallName> = z.input<(typeof dashboardCalls)[C]["args"]>;
export type DashboardCallResult<C extends DashboardCallName> = z.output<(typeof dashboardCalls)[C]["result"]>;

export function isDashboardCallName(name: unknown): name is DashboardCallName {
  return typeof name === "string" && Object.hasOwn(dashboardCalls, name);
}

// ---------------------------------------------------------------------------------------------------
// Events the node pushes
// ---------------------------------------------------------------------------------------------------

export const dashboardEventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("status"), status: nodeStatusSchema }),
  z.object({ type: z.literal("telemetry"), point: telemetryPointSchema }),
  z.object({ type: z.literal("job"), job: jobViewSchema }),
  /** A download's progress (at most every 500 ms per download), and at once when it finishes or fails. */
  z.object({ type: z.literal("download"), download: modelDownloadViewSchema }),
]);
export type DashboardEvent = z.infer<typeof dashboardEventSchema>;

// ---------------------------------------------------------------------------------------------------
// Results on the wire and the API object the renderer holds
// ---------------------------------------------------------------------------------------------------

/** Errors cross IPC and HTTP as data (class identity does not survive either), then become DashboardCallError again. */
export const dashboardErrorSchema = z.object({ code: z.string().max(64), message: z.string().max(2000) });
export type DashboardErrorData = z.infer<typeof dashboardErrorSchema>;
export type DashboardCallOutcome<T> = { ok: true; value: T } | { ok: false; error: DashboardErrorData };

export class DashboardCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "DashboardCallError";
  }
}

/** The object the renderer is given (`window.inferswarm` in Electron, the bridge client in a browser). */
export type DashboardApi = {
  [C in DashboardCallName]: (args: DashboardCallArgs<C>) => Promise<DashboardCallResult<C>>;
} & {
  /** Live events; returns the function that stops them. */
  subscribe(listener: (event: DashboardEvent) => void): () => void;
};

/** The node's side: one handler per call, given the already-validated argument. */
export type DashboardHandlers = {
  [C in DashboardCallName]: (args: z.output<(typeof dashboardCalls)[C]["args"]>) => Promise<DashboardCallResult<C>>;
};

/** Validates a call's argument; throws DashboardCallError("BAD_ARGUMENT") naming the fields. */
export function parseCallArgs<C extends DashboardCallName>(name: C, args: unknown): z.output<(typeof dashboardCalls)[C]["args"]> {
  const parsed = dashboardCalls[name].args.safeParse(args ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(argument)"}: ${issue.message}`).join("; ");
    throw new DashboardCallError("BAD_ARGUMENT", `${name} was called with an invalid argument (${problems}).`);
  }
  return parsed.data as z.output<(typeof dashboardCalls)[C]["args"]>;
}

/**
 * Runs one call on the node's side: unknown name and bad argument are refused before any handler runs; a
 * handler's error becomes data with its code. Shared by the Electron IPC relay and the HTTP bridge.
 */
export async function dispatchDashboardCall(handlers: DashboardHandlers, name: unknown, args: unknown): Promise<DashboardCallOutcome<unknown>> {
  try {
    if (!isDashboardCallName(name)) throw new DashboardCallError("UNKNOWN_CALL", `There is no dashboard call named ${JSON.stringify(String(name)).slice(0, 80)}.`);
    const handler = handlers[name] as (a: unknown) => Promise<unknown>;
    const value = await handler(parseCallArgs(name, args));
    return { ok: true, value };
  } catch (error) {
    const code = typeof (error as { code?: unknown })?.code === "string" ? (error as { code: string }).code : "INTERNAL";
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, error: { code: code.slice(0, 64), message: message.slice(0, 2000) } };
  }
}

/** Turns a transport's raw outcome into the value, or throws DashboardCallError; validates the result too. */
export function unwrapCallOutcome<C extends DashboardCallName>(name: C, outcome: unknown): DashboardCallResult<C> {
  const shaped = z.union([z.object({ ok: z.literal(true), value: z.unknown() }), z.object({ ok: z.literal(false), error: dashboardErrorSchema })]).safeParse(outcome);
  if (!shaped.success) throw new DashboardCallError("BAD_RESPONSE", `The node answered ${name} with something that is not a call outcome.`);
  if (!shaped.data.ok) throw new DashboardCallError(shaped.data.error.code, shaped.data.error.message);
  const result = dashboardCalls[name].result.safeParse(shaped.data.value);
  if (!result.success) throw new DashboardCallError("BAD_RESPONSE", `The node's answer to ${name} does not match the contract: ${result.error.issues[0]?.message ?? "invalid"}.`);
  return result.data as DashboardCallResult<C>;
}

/** Builds the renderer's API object from one transport function, so every client has every named call. */
export function createDashboardApi(transport: {
  call(name: DashboardCallName, args: unknown): Promise<unknown>;
  subscribe(listener: (event: unknown) => void): () => void;
}): DashboardApi {
  const api = {} as Record<string, unknown>;
  for (const name of dashboardCallNames) {
    api[name] = async (args: unknown) => unwrapCallOutcome(name, await transport.call(name, parseCallArgs(name, args)));
  }
  api.subscribe = (listener: (event: DashboardEvent) => void) =>
    transport.subscribe((raw) => {
      const event = dashboardEventSchema.safeParse(raw);
      if (event.success) listener(event.data);
    });
  return api as DashboardApi;
}

/** The IPC channel of a call in Electron; the prefix keeps ours apart from anything else on ipcMain. */
export const ipcChannelFor = (name: DashboardCallName) => `inferswarm:${name}`;
export const IPC_EVENT_CHANNEL = "inferswarm:event";
/** The bridge's paths under the node's dashboard server. */
export const BRIDGE_CALL_PATH = "/bridge/v1/call/";
export const BRIDGE_EVENTS_PATH = "/bridge/v1/events";

/**
 * The bridge's WebSocket handshake: a browser cannot put the token in a WebSocket header, and a token in
 * the URL ends up in logs, so the client's first message carries it. The node closes a socket that has not
 * authenticated within BRIDGE_AUTH_TIMEOUT_MS (close code 4401), then sends {type:"ready"} and events as
 * JSON text frames, one DashboardEvent each.
 */
export const bridgeAuthMessageSchema = z.object({ type: z.literal("auth"), token: z.string().min(16).max(256) }).strict();
export const BRIDGE_AUTH_TIMEOUT_MS = 5000;
export const BRIDGE_UNAUTHORIZED_CLOSE_CODE = 4401;
/** HTTP calls carry the token as `Authorization: Bearer <token>`; the page reads it from the URL fragment `#token=`. */
export const BRIDGE_TOKEN_FRAGMENT = "token";
