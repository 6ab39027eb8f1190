import { coreToMainMessageSchema, type CoreStartParams } from "../../src-contract/core-port.js";
import type { DashboardCallOutcome, DashboardEvent } from "../../src-contract/index.js";
import type { Clock, Logger, TimerHandle, Timers } from "../common/index.js";
import type { IdleReading } from "../policy/index.js";
import { createCoreRpcClient, CoreRpcError, type CoreRpcClient, type CoreRpcClientOptions } from "./core-rpc-client.js";

/** The core's utilityProcess as the supervisor needs it; main.ts adapts Electron's `UtilityProcess`. */
export interface CoreChild {
  postMessage(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
  onExit(listener: (code: number) => void): void;
  kill(): void;
}

export type CoreState =
  | { kind: "starting"; attempt: number }
  | { kind: "running"; peerId: string }
  | { kind: "restarting"; reason: string; restartInMs: number; attempt: number }
  | { kind: "failed"; reason: string }
  | { kind: "stopped" };

export interface CoreBackoff {
  initialMs: number;
  maxMs: number;
  /** Consecutive failed starts or crashes before giving up (the owner can restart from the tray). */
  maxRestarts: number;
  /** A core that ran this long counts as healthy: the next crash starts the backoff over. */
  stableAfterMs: number;
}
export const DEFAULT_CORE_BACKOFF: CoreBackoff = { initialMs: 1_000, maxMs: 60_000, maxRestarts: 6, stableAfterMs: 5 * 60_000 };

/** An error of the shell's own preparation (the keyring): restarting the core cannot fix it. */
export class CoreSetupError extends Error {
  readonly code = "CORE_SETUP_FAILED";
}

export interface CoreSupervisorOptions {
  fork(): CoreChild;
  /** Runs before every start (the identity handshake); a CoreSetupError ends supervision, anything else restarts. */
  prepareStart(core: Pick<CoreRpcClient, "generateIdentity">): Promise<CoreStartParams>;
  onEvent(event: DashboardEvent): void;
  timers: Timers;
  clock: Clock;
  logger: Logger;
  backoff?: Partial<CoreBackoff>;
  rpc?: Pick<CoreRpcClientOptions, "maxInFlight" | "timeoutMs">;
  /** How long stop() waits for the core to exit on its own before killing it. */
  exitGraceMs?: number;
}

export interface CoreSupervisor {
  start(): void;
  /** Stops the node cleanly (bounded), then the process. */
  stop(): Promise<void>;
  /** After giving up: try again from scratch (the tray's "Restart the node"). */
  restart(): void;
  call(name: string, args: unknown): Promise<DashboardCallOutcome<unknown>>;
  /** Remembered and sent now, and again to every new core. */
  sendIdle(reading: IdleReading): void;
  state(): CoreState;
  onState(listener: (state: CoreState) => void): () => void;
}

interface Instance {
  child: CoreChild;
  rpc: CoreRpcClient;
  ready: boolean;
  runningSince: number | undefined;
  startError: string | undefined;
  exited: Promise<void>;
}

/**
 * Keeps the node core alive in its utilityProcess: forks it, runs the identity handshake and start, relays
 * calls while it runs, and restarts it after a crash or a failed start with exponential backoff (1 s
 * doubling to 60 s), giving up after `maxRestarts` in a row so a broken install does not spin forever.
 */
export function createCoreSupervisor(options: CoreSupervisorOptions): CoreSupervisor {
  const { timers, clock } = options;
  const logger = options.logger.child({ module: "core-supervisor" });
  const backoff = { ...DEFAULT_CORE_BACKOFF, ...options.backoff };
  const exitGraceMs = options.exitGraceMs ?? 5_000;
  const listeners = new Set<(state: CoreState) => void>();
  let state: CoreState = { kind: "stopped" };
  let current: Instance | undefined;
  let failures = 0;
  let restartTimer: TimerHandle | undefined;
  let stopping = false;
  let lastIdle: IdleReading | undefined;

  const setState = (next: CoreState) => {
    state = next;
    for (const listener of listeners) listener(next);
  };

  function spawn(): void {
    restartTimer = undefined;
    setState({ kind: "starting", attempt: failures + 1 });
    let child: CoreChild;
    try {
      child = options.fork();
    } catch (error) {
      // A fork that fails outright is a crash with no process to wait for.
      failures++;
      afterFailure(`The node process could not be started: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    let exitedResolve!: () => void;
    const instance: Instance = {
      child,
      rpc: createCoreRpcClient({ post: (message) => child.postMessage(message), timers, ...options.rpc }),
      ready: false,
      runningSince: undefined,
      startError: undefined,
      exited: new Promise<void>((resolve) => (exitedResolve = resolve)),
    };
    current = instance;
    child.onMessage((raw) => {
      const parsed = coreToMainMessageSchema.safeParse(raw);
      if (!parsed.success) return logger.warn({ issue: parsed.error.issues[0]?.message }, "ignoring a malformed message from the core");
      const message = parsed.data;
      if (message.type === "ready" && !instance.ready) void boot(instance);
      else if (message.type === "response") instance.rpc.handleResponse(message);
      else if (message.type === "event" && instance.runningSince !== undefined) options.onEvent(message.event);
    });
    child.onExit((code) => {
      exitedResolve();
      onExit(instance, code);
    });
  }

  async function boot(instance: Instance): Promise<void> {
    instance.ready = true;
    if (lastIdle) instance.child.postMessage({ type: "idle", reading: lastIdle });
    let params: CoreStartParams;
    try {
      params = await options.prepareStart(instance.rpc);
    } catch (error) {
      if (instance !== current) return;
      const reason = error instanceof Error ? error.message : String(error);
      if (error instanceof CoreSetupError) {
        logger.error({ err: error }, "the node cannot be started");
        setState({ kind: "failed", reason });
      } else {
        instance.startError = `The node could not be prepared: ${reason}`;
      }
      instance.child.kill();
      return;
    }
    try {
      const { peerId } = await instance.rpc.start(params);
      if (instance !== current) return;
      instance.runningSince = clock.now();
      setState({ kind: "running", peerId });
    } catch (error) {
      if (instance !== current) return;
      instance.startError = `The node could not start: ${error instanceof Error ? error.message : String(error)}`;
      logger.warn({ err: error }, "the node failed to start");
      instance.child.kill();
    }
  }

  function onExit(instance: Instance, code: number): void {
    if (instance !== current) return;
    current = undefined;
    const reason = instance.startError ?? `The node stopped unexpectedly (exit code ${code})`;
    instance.rpc.close("CORE_UNAVAILABLE", `${reason}.`);
    if (stopping) return setState({ kind: "stopped" });
    if (state.kind === "failed") return;
    if (instance.runningSince !== undefined && clock.now() - instance.runningSince >= backoff.stableAfterMs) failures = 0;
    failures++;
    logger.warn({ code, failures }, reason);
    afterFailure(reason);
  }

  function afterFailure(reason: string): void {
    if (failures > backoff.maxRestarts) {
      return setState({ kind: "failed", reason: `${reason}; gave up after ${backoff.maxRestarts} restarts` });
    }
    const restartInMs = Math.min(backoff.maxMs, backoff.initialMs * 2 ** (failures - 1));
    setState({ kind: "restarting", reason, restartInMs, attempt: failures });
    restartTimer = timers.setTimeout(spawn, restartInMs);
  }

  function unavailable(): DashboardCallOutcome<unknown> {
    const error = (code: string, message: string) => ({ ok: false as const, error: { code, message } });
    switch (state.kind) {
      case "starting":
        return error("CORE_STARTING", "The node is starting (loading models and measuring this machine); this can take a minute.");
      case "restarting":
        return error("CORE_RESTARTING", `${state.reason}; restarting it in ${Math.ceil(state.restartInMs / 1000)} s.`);
      case "failed":
        return error("CORE_FAILED", `${state.reason}. Choose "Restart the node" in the tray menu, or quit and reopen InferSwarm.`);
      case "stopped":
      case "running":
        return error("CORE_STOPPED", "The node is not running (InferSwarm is quitting).");
    }
  }

  return {
    start() {
      if (current || restartTimer !== undefined || stopping) return;
      failures = 0;
      spawn();
    },
    restart() {
      if (current || stopping) return;
      if (restartTimer !== undefined) timers.clearTimeout(restartTimer);
      failures = 0;
      spawn();
    },
    async stop() {
      stopping = true;
      if (restartTimer !== undefined) timers.clearTimeout(restartTimer);
      restartTimer = undefined;
      const instance = current;
      if (!instance) return setState({ kind: "stopped" });
      // A core still starting has nothing to save: it is killed at once.
      if (instance.runningSince === undefined) instance.child.kill();
      else await instance.rpc.stop().catch((error: unknown) => logger.warn({ err: error }, "the node did not stop cleanly"));
      let graceTimer: TimerHandle | undefined;
      const grace = new Promise<"timeout">((resolve) => (graceTimer = timers.setTimeout(() => resolve("timeout"), exitGraceMs)));
      if ((await Promise.race([instance.exited, grace])) === "timeout") {
        instance.child.kill();
        await instance.exited;
      }
      timers.clearTimeout(graceTimer);
    },
    async call(name, args) {
      const instance = current;
      if (!instance || instance.runningSince === undefined) return unavailable();
      try {
        return { ok: true, value: await instance.rpc.call(name, args) };
      } catch (error) {
        const rpcError = error instanceof CoreRpcError ? error : new CoreRpcError("INTERNAL", String(error));
        return { ok: false, error: { code: rpcError.code, message: rpcError.message } };
      }
    },
    sendIdle(reading) {
      lastIdle = reading;
      if (current?.ready) current.child.postMessage({ type: "idle", reading });
    },
    state: () => state,
    onState(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
