import type { Clock, Logger, RandomSource, TimerHandle, Timers } from "../common/index.js";
import type { GenerateRequest, GenerationResult, ModelInfo } from "../engine/index.js";
import type { ClaimedFinish } from "./answer-scores.js";
import type { Reputation } from "./reputation.js";
import { scoreAnswer, type ScoringModel } from "./scoring.js";
import { toleranceFor } from "./tolerance.js";
import { judgeAnswer, type Judgement } from "./verdict.js";

/** What a challenger needs of the model it serves (the engine's LoadedModel has it). */
export interface ChallengeModel extends ScoringModel {
  readonly info: Pick<ModelInfo, "sha256" | "quantization">;
  tokenizePrompt(text: string): number[];
  generateText(request: GenerateRequest): Promise<GenerationResult>;
}

/** A challenge goes out as an ordinary job: the fields a requester's job request has. */
export interface ChallengeJob {
  jobId: string;
  modelSha256: string;
  prompt: { tokens: number[]; text: string };
  sampling: { temperature: number; topK?: number; seed?: number };
  maxTokens: number;
  stop: string[];
}

export interface ChallengeAnswer {
  tokens: number[];
  finishReason: ClaimedFinish;
}

export interface ChallengeOutcome {
  peerId: string;
  jobId: string;
  /** "error": the worker did not answer (refused, stalled, went away); no verdict. */
  verdict: "pass" | "fail" | "error";
  judgement?: Judgement;
  /** Whether the worker's tokens equal the answer computed here (informative only: judging uses the tolerance). */
  matchesExpected?: boolean;
  error?: { code: string; message: string };
}

export interface ChallengerOptions {
  /** Mean time between challenges (exponentially distributed, so their timing cannot be predicted). Default 10 min. */
  meanIntervalMs?: number;
  /** Answer budgets drawn at random, like requesters' varied max_tokens. */
  maxTokensChoices?: number[];
  /** Fraction of challenges sent with sampling (temperature > 0, seeded), as many real requests are. Default 0.5. */
  sampledShare?: number;
  /** Job ids in the same format ordinary requests use (a different format would give challenges away). */
  newJobId?: () => string;
}

export interface ChallengerDeps {
  model: ChallengeModel;
  /** The bank of plausible prompts (see buildChallengePrompts; seed it secretly per node). */
  prompts: readonly string[];
  /** Sends the job to that worker exactly like an ordinary job (the job protocol) and returns its answer. */
  runJob: (peerId: string, job: ChallengeJob, options: { signal: AbortSignal }) => Promise<ChallengeAnswer>;
  /** Workers serving the model that may be challenged (this node excluded). */
  targets: (modelSha256: string) => Promise<string[]>;
  reputation: Reputation;
  random: RandomSource;
  timers: Timers;
  clock: Clock;
  logger: Logger;
  onOutcome?: (outcome: ChallengeOutcome) => void;
  options?: ChallengerOptions;
}

export interface Challenger {
  /** Challenges one worker now. */
  challenge(peerId: string, options?: { signal?: AbortSignal }): Promise<ChallengeOutcome>;
  /** Challenges a random target at random times until stopped. */
  start(): void;
  stop(): Promise<void>;
}

const JOB_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/**
 * Hidden challenges: the challenger serves the model, so it computes the answer to a plausible prompt
 * itself, sends the prompt to a worker as an ordinary job at a random time, and judges the worker's answer
 * by teacher-forcing it through its own model with the validators' tolerance (never by equality: honest
 * numerics differ slightly between nodes).
 */
export function createChallenger(deps: ChallengerDeps): Challenger {
  const { model, random, timers, reputation } = deps;
  const logger = deps.logger.child({ module: "trust", component: "challenger" });
  const options = deps.options ?? {};
  const meanIntervalMs = options.meanIntervalMs ?? 10 * 60_000;
  const maxTokensChoices = options.maxTokensChoices ?? [32, 48, 64, 96, 128];
  const sampledShare = options.sampledShare ?? 0.5;
  const newJobId = options.newJobId ?? (() => Array.from({ length: 16 }, () => JOB_ID_ALPHABET[Math.floor(random() * JOB_ID_ALPHABET.length)]).join(""));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  let timer: TimerHandle | undefined;
  let running = false;
  let inFlight: Promise<unknown> = Promise.resolve();
  const stopping = new AbortController();

  function makeJob(): ChallengeJob {
    const text = pick(deps.prompts);
    const sampled = random() < sampledShare;
    return {
      jobId: newJobId(),
      modelSha256: model.info.sha256,
      prompt: { tokens: model.tokenizePrompt(text), text },
      sampling: sampled ? { temperature: pick([0.7, 0.8, 1]), seed: Math.floor(random() * 0x7fffffff) } : { temperature: 0 },
      maxTokens: pick(maxTokensChoices),
      stop: [],
    };
  }

  function report(outcome: ChallengeOutcome) {
    try {
      deps.onOutcome?.(outcome);
    } catch (error) {
      logger.error({ err: error }, "onOutcome hook threw");
    }
    return outcome;
  }

  async function challenge(peerId: string, callOptions: { signal?: AbortSignal } = {}): Promise<ChallengeOutcome> {
    const signal = callOptions.signal ? AbortSignal.any([callOptions.signal, stopping.signal]) : stopping.signal;
    const job = makeJob();
    const expected = await model.generateText({ prompt: { tokens: job.prompt.tokens }, maxTokens: job.maxTokens, sampling: job.sampling, signal });

    let answer: ChallengeAnswer;
    try {
      answer = await deps.runJob(peerId, job, { signal });
    } catch (error) {
      if (signal.aborted) throw error;
      const code = error instanceof Error && "code" in error && typeof error.code === "string" ? error.code : "UNKNOWN";
      const retryable = error instanceof Error && "retryable" in error && error.retryable === true;
      // A busy or paused worker said no like it would to anyone: not held against it.
      if (code === "SWARM_STALLED") reputation.record(peerId, { kind: "stall", detail: `challenge ${job.jobId}: no frame within the deadline` });
      else if (!(code === "SWARM_WORKER_ERROR" && retryable)) reputation.record(peerId, { kind: "failure", detail: `challenge ${job.jobId}: ${code}` });
      return report({ peerId, jobId: job.jobId, verdict: "error", error: { code, message: error instanceof Error ? error.message.slice(0, 300) : String(error) } });
    }

    const scores = await scoreAnswer(model, { promptTokens: job.prompt.tokens, claimedTokens: answer.tokens, finishReason: answer.finishReason, sampling: job.sampling, signal });
    const judgement = judgeAnswer(
      scores,
      { finishReason: answer.finishReason, tokenCount: answer.tokens.length, maxTokens: job.maxTokens, stopRequested: job.stop.length > 0 },
      job.sampling,
      toleranceFor(model.info.quantization),
    );
    const matchesExpected = answer.finishReason === expected.finishReason && answer.tokens.length === expected.tokens.length && answer.tokens.every((t, i) => t === expected.tokens[i]);
    const detail =
      judgement.verdict === "pass"
        ? `challenge ${job.jobId}: ${answer.tokens.length} tokens within tolerance`
        : `challenge ${job.jobId}: ${judgement.reasons.join(", ")}; ${judgement.stats.failing} of ${judgement.stats.count} positions outside tolerance`;
    reputation.record(peerId, { kind: "challenge", verdict: judgement.verdict, detail });
    logger.info({ peerId, jobId: job.jobId, verdict: judgement.verdict, matchesExpected }, "challenge judged");
    return report({ peerId, jobId: job.jobId, verdict: judgement.verdict, judgement, matchesExpected });
  }

  function schedule() {
    if (!running) return;
    // Exponential gaps: a memoryless schedule gives a worker nothing to time its honesty by.
    const delay = -Math.log(1 - random()) * meanIntervalMs;
    timer = timers.setTimeout(() => {
      inFlight = (async () => {
        const targets = await deps.targets(model.info.sha256);
        if (targets.length > 0) await challenge(pick(targets));
      })()
        .catch((error: unknown) => {
          if (!stopping.signal.aborted) logger.warn({ err: error }, "challenge failed");
        })
        .finally(schedule);
    }, delay);
  }

  return {
    challenge,
    start() {
      if (running) return;
      running = true;
      schedule();
    },
    async stop() {
      running = false;
      if (timer !== undefined) timers.clearTimeout(timer);
      stopping.abort(new Error("the challenger stopped"));
      await inFlight.catch(() => undefined);
    },
  };
}
