import type { Clock, Logger, TimerHandle, Timers } from "../common/index.js";
import {
  decideContribution,
  initialPolicyState,
  publicReasonFor,
  type ContributionDecision,
  type ContributionInputs,
  type OtherGpuUser,
  type PolicyState,
} from "./contribution-policy.js";
import type { PolicyTelemetrySample } from "./gpu-limits.js";
import type { IdleReading, IdleSource } from "./idle-source.js";
import { parsePolicyConfig, type PolicyConfig, type PolicyConfigInput } from "./policy-config.js";
import { systemLocalTime, type LocalTimeAccessor } from "./schedule-windows.js";

/** What the policy steers; the engine's LoadedModel has this shape. */
export interface AdmissionTarget {
  /** `reason` is safe to send to requesters (see `publicReasonFor`). */
  setAdmission(admission: { accepting: boolean; maxActiveJobs: number; reason?: string }): void;
  abortRunning(reason: string): void;
}

export interface GameState {
  gameRunning: boolean;
  games: readonly string[];
  otherGpuUsers: readonly OtherGpuUser[];
}

export interface PolicyControllerOptions {
  config: PolicyConfigInput;
  idleSource: IdleSource;
  readTelemetry: () => PolicyTelemetrySample | null;
  readGameState: () => Promise<GameState>;
  ourVramBytes: () => number;
  target: AdmissionTarget;
  clock: Clock;
  timers: Timers;
  intervalMs?: number;
  localTime?: LocalTimeAccessor;
  logger: Logger;
}

export type DecisionListener = (decision: ContributionDecision) => void;

export interface PolicyController {
  /** Evaluates at once (resolves when the first decision is applied), then every `intervalMs`. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Owner actions (pause, resume, a mode change) apply before this returns, then are re-evaluated with fresh readings. */
  setConfig(config: PolicyConfigInput): Promise<ContributionDecision | null>;
  config(): PolicyConfig;
  /** The decision in force; null before the first evaluation. */
  decision(): ContributionDecision | null;
  /** Called with each decision that differs from the one before. */
  subscribe(listener: DecisionListener): () => void;
  /** One evaluation now (the timer calls this; tests and the IPC "refresh" may too). */
  evaluate(): Promise<ContributionDecision>;
}

const UNKNOWN_GAME_STATE: GameState = { gameRunning: false, games: [], otherGpuUsers: [] };
/** When presence cannot be read, assume the owner is here: their use of the machine wins when in doubt. */
const OWNER_PRESENT: IdleReading = { idleSeconds: 0, locked: false, suspended: false };

/**
 * Applies the contribution decision to the engine: admission on every evaluation (idempotent), an abort
 * only on the transition into a decision that demands one, so a game running for an hour aborts once.
 */
export function createPolicyController(options: PolicyControllerOptions): PolicyController {
  const { idleSource, target, clock, timers } = options;
  const intervalMs = options.intervalMs ?? 2000;
  const localTime = options.localTime ?? systemLocalTime;
  const logger = options.logger.child({ module: "policy" });

  let config = parsePolicyConfig(options.config);
  let state: PolicyState = initialPolicyState();
  let current: ContributionDecision | null = null;
  let lastIdle: IdleReading = OWNER_PRESENT;
  let lastGame: GameState = UNKNOWN_GAME_STATE;
  let running = false;
  let timer: TimerHandle | undefined;
  let unsubscribeIdle: (() => void) | undefined;
  let idlePushes = 0;
  // Evaluations run one after another, so two readings never race to apply out of order.
  let queue: Promise<unknown> = Promise.resolve();
  const listeners = new Set<DecisionListener>();

  function decideAndApply(): ContributionDecision {
    const inputs: ContributionInputs = {
      config,
      now: clock.now(),
      localTime,
      idle: lastIdle,
      telemetry: safely("telemetry", options.readTelemetry, null),
      ourVramBytes: safely("our VRAM", options.ourVramBytes, 0),
      gameRunning: { running: lastGame.gameRunning, names: lastGame.games },
      otherGpuUsers: lastGame.otherGpuUsers,
    };
    const result = decideContribution(inputs, state);
    state = result.state;
    apply(result.decision);
    return result.decision;
  }

  function apply(decision: ContributionDecision): void {
    const previous = current;
    current = decision;
    const publicReason = publicReasonFor(decision.reasonCode);
    target.setAdmission({
      accepting: decision.contribute,
      maxActiveJobs: decision.maxConcurrentJobs,
      ...(decision.contribute ? {} : { reason: publicReason }),
    });
    const sameAbortAsBefore = previous !== null && previous.abortRunning && previous.reasonCode === decision.reasonCode;
    if (decision.abortRunning && !sameAbortAsBefore) {
      logger.info({ reasonCode: decision.reasonCode }, `aborting running jobs: ${decision.reason}`);
      target.abortRunning(publicReason);
    }
    if (previous?.reasonCode !== decision.reasonCode) {
      logger.info({ reasonCode: decision.reasonCode, contribute: decision.contribute, maxConcurrentJobs: decision.maxConcurrentJobs }, decision.reason);
    }
    if (previous === null || !sameDecision(previous, decision)) {
      for (const listener of listeners) {
        try {
          listener(decision);
        } catch (error) {
          logger.warn({ err: error }, "a policy decision listener threw");
        }
      }
    }
  }

  function safely<T>(what: string, read: () => T, fallback: T): T {
    try {
      return read();
    } catch (error) {
      logger.warn({ err: error }, `reading ${what} failed; treating it as unknown`);
      return fallback;
    }
  }

  async function readInputs(): Promise<void> {
    const pushesBefore = idlePushes;
    const [idle, game] = await Promise.allSettled([idleSource.read(), options.readGameState()]);
    // A change pushed while this read was under way (a "suspend") is newer than what the read returned.
    const superseded = idlePushes !== pushesBefore;
    if (idle.status === "rejected") logger.warn({ err: idle.reason }, "reading idle state failed; assuming the owner is present");
    if (!superseded) lastIdle = idle.status === "fulfilled" ? idle.value : OWNER_PRESENT;
    // A detector that fails keeps its last answer: a game it saw running stays running.
    if (game.status === "fulfilled") lastGame = game.value;
    else logger.warn({ err: game.reason }, "reading running games failed; keeping the last known state");
  }

  function evaluate(): Promise<ContributionDecision> {
    const run = queue.then(async () => {
      await readInputs();
      return decideAndApply();
    });
    queue = run.catch(() => undefined);
    return run;
  }

  function schedule(): void {
    if (!running) return;
    timer = timers.setTimeout(() => {
      timer = undefined;
      evaluate()
        .catch((error: unknown) => logger.error({ err: error }, "policy evaluation failed"))
        .finally(schedule);
    }, intervalMs);
  }

  return {
    async start() {
      if (running) return;
      running = true;
      unsubscribeIdle = idleSource.onChange((reading) => {
        if (!running) return;
        // Decide synchronously: on "suspend" the process may be frozen before any await resolves.
        lastIdle = reading;
        idlePushes++;
        decideAndApply();
        void evaluate().catch((error: unknown) => logger.error({ err: error }, "policy evaluation failed"));
      });
      try {
        await evaluate();
      } finally {
        schedule();
      }
    },
    async stop() {
      running = false;
      if (timer !== undefined) timers.clearTimeout(timer);
      timer = undefined;
      unsubscribeIdle?.();
      unsubscribeIdle = undefined;
      await queue;
    },
    async setConfig(input) {
      config = parsePolicyConfig(input);
      if (!running) return current;
      // Apply now with the readings we have, so "pause now" waits for no process spawn; then refresh them.
      decideAndApply();
      return evaluate();
    },
    config: () => config,
    decision: () => current,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    evaluate,
  };
}

function sameDecision(a: ContributionDecision, b: ContributionDecision): boolean {
  return (
    a.contribute === b.contribute &&
    a.maxConcurrentJobs === b.maxConcurrentJobs &&
    a.reason === b.reason &&
    a.reasonCode === b.reasonCode &&
    a.abortRunning === b.abortRunning
  );
}
