import type { Clock, Logger, Timers } from "../common/index.js";
import { SwarmError, type JobRequest, type WorkerFrame } from "../swarm/index.js";
import type { JobTransport } from "./scheduler-ports.js";
import { createTokenStream } from "./token-stream.js";

/** One answer token as the consumer sees it; `index` runs 0, 1, 2, … with no gap and no repeat. */
export interface StreamedToken {
  tokenId: number;
  text: string;
  index: number;
}

/**
 * completed: sent `end`. failed: broke down (dial, stall, no end, bad frame, wrong index, a retryable
 * worker error); the peer is backed off. rejected: refused the request for a reason no other worker
 * would avoid (prompt too long, bad request); the job ends. aborted: closed because the job ended
 * (consumer abort, or another attempt's non-retryable error). hedge-lost: the other hedged attempt
 * delivered a token first.
 */
export type AttemptOutcome = "completed" | "failed" | "rejected" | "aborted" | "hedge-lost";

export interface AttemptError {
  code: string;
  message: string;
  /** For SWARM_WORKER_ERROR: the worker's own code (ENGINE_BUSY, ENGINE_PROMPT_TOO_LONG, …). */
  workerCode?: string;
}

export interface AttemptRecord {
  peerId: string;
  outcome: AttemptOutcome;
  /** Answer tokens accepted from this attempt. */
  tokensReceived: number;
  error?: AttemptError;
  /** Started by the hedge timer, beside a slow attempt. */
  hedge: boolean;
  /** The answer position this attempt resumed from (tokens already received when it started). */
  firstIndex: number;
  /** Epoch ms: when the attempt was opened and when it closed (for receipts). */
  startedAt: number;
  finishedAt: number | undefined;
}

export interface JobRunResult {
  finishReason: "eos" | "length" | "stop";
  tokens: number[];
  text: string;
  attempts: AttemptRecord[];
  /** The worker that sent `end` (or, if the budget ran out before one did, that sent the last token). */
  workerPeerId: string;
  promptTokens: number;
  answerTokens: number;
}

/** The job's tokens as they arrive, and its result. Iterate once; breaking out aborts the job. */
export interface JobRun extends AsyncIterable<StreamedToken> {
  readonly jobId: string;
  /** The worker streaming the answer now (the leader once a token arrived), for status views and tests. */
  currentWorker(): string | undefined;
  /** Rejects with a SwarmError when the job fails (the iterator throws the same error). */
  readonly result: Promise<JobRunResult>;
}

/** What the trust module hears about each attempt (through the scheduler's `onWorkerOutcome`). */
export interface WorkerOutcome {
  jobId: string;
  outcome: AttemptOutcome;
  tokensReceived: number;
  /** The error's code for failed/rejected attempts (the worker's own code for worker errors). */
  code?: string;
}

export interface JobRunSettings {
  maxAttempts: number;
  hedge: boolean;
  hedgeAfterMs: number;
  frameDeadlineMs: number;
  tokenGapMs: number;
}

export interface JobRunContext {
  transport: JobTransport;
  /** The best peer for the job now, excluding `exclude`; undefined when there is none. */
  selectWorker(request: JobRequest, exclude: ReadonlySet<string>, receivedTokens: number, signal: AbortSignal): Promise<string | undefined>;
  attemptClosed(peerId: string, outcome: WorkerOutcome): void;
  timers: Timers;
  clock: Clock;
  logger: Logger;
  settings: JobRunSettings;
}

interface Attempt {
  peerId: string;
  record: AttemptRecord;
  controller: AbortController;
  closed: boolean;
  hedgeTimer: unknown;
  /** The hedge timer fired: this attempt has been slow to its first token. */
  hedgeDue: boolean;
  gapTimer: unknown;
}

type JobEvent =
  | { kind: "frame"; attempt: Attempt; frame: WorkerFrame }
  | { kind: "failed"; attempt: Attempt; error: unknown }
  | { kind: "hedge"; attempt: Attempt }
  | { kind: "gap"; attempt: Attempt }
  | { kind: "abort"; reason: string };

/** Events are handled one at a time, so attempts racing each other never interleave inside a handler. */
function createEventQueue() {
  const items: { event: JobEvent; ack: () => void }[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  return {
    /** Resolves once the event has been handled, so a fast worker waits for the job to keep up. */
    push(event: JobEvent): Promise<void> {
      if (closed) return Promise.resolve();
      return new Promise<void>((ack) => {
        items.push({ event, ack });
        wake?.();
        wake = undefined;
      });
    },
    async take(): Promise<{ event: JobEvent; ack: () => void }> {
      // Bounded: each wait ends with a push, and every push comes from a finite source (frames, timers).
      while (items.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      return items.shift() as { event: JobEvent; ack: () => void };
    },
    close(): void {
      closed = true;
      for (const item of items.splice(0)) item.ack();
    },
  };
}

function describe(error: unknown): AttemptError {
  if (error instanceof SwarmError) return { code: error.code, message: error.message, ...(error.workerCode !== undefined && { workerCode: error.workerCode }) };
  const code = typeof (error as { code?: unknown })?.code === "string" ? (error as { code: string }).code : "UNEXPECTED";
  return { code, message: error instanceof Error ? error.message : String(error) };
}

/** Failures that are about one peer's connection or conduct, whatever `retryable` says (e.g. a malformed peer id). */
const PEER_FAULTS: ReadonlySet<string> = new Set(["SWARM_DIAL_FAILED", "SWARM_STALLED", "SWARM_NO_END", "SWARM_BAD_FRAME", "SWARM_FRAME_TOO_LARGE"]);

/** Another worker may succeed after any failure except a SwarmError that says otherwise. */
function isRetryable(error: unknown): boolean {
  return error instanceof SwarmError ? error.retryable || PEER_FAULTS.has(error.code) : true;
}

/**
 * Runs one job across as many attempts as it takes: the first worker, failover workers resumed from the
 * tokens received so far, and (with hedging) a second worker racing a slow first token.
 */
export function startJobRun(ctx: JobRunContext, request: JobRequest, signal: AbortSignal | undefined): JobRun {
  const { settings, timers } = ctx;
  const logger = ctx.logger.child({ jobId: request.jobId });
  const events = createEventQueue();
  const stopped = new AbortController(); // the job is over, or its caller/consumer is gone
  let abortReason: string | undefined;
  const requestAbort = (reason: string) => {
    abortReason ??= reason;
    stopped.abort();
    void events.push({ kind: "abort", reason });
  };
  const stream = createTokenStream<StreamedToken>(() => requestAbort("the consumer stopped reading the token stream"));

  let settleResult!: { resolve: (r: JobRunResult) => void; reject: (e: unknown) => void };
  const result = new Promise<JobRunResult>((resolve, reject) => (settleResult = { resolve, reject }));
  result.catch(() => undefined); // the iterator reports the error too; `result` is for those who ask

  const received: { id: number; text: string; peerId: string }[] = [];
  const attempts: Attempt[] = [];
  const active = new Set<Attempt>();
  const tried = new Set<string>();
  let leader: Attempt | undefined;
  let finished = false;
  let selectionError: unknown;

  const onAbort = () => requestAbort("the caller aborted the job");
  signal?.addEventListener("abort", onAbort, { once: true });

  function armGapTimer(attempt: Attempt): void {
    timers.clearTimeout(attempt.gapTimer);
    attempt.gapTimer = timers.setTimeout(() => void events.push({ kind: "gap", attempt }), settings.tokenGapMs);
  }

  async function startAttempt(hedge: boolean): Promise<boolean> {
    if (attempts.length >= settings.maxAttempts || finished) return false;
    let peerId: string | undefined;
    try {
      peerId = await ctx.selectWorker(request, tried, received.length, stopped.signal);
    } catch (error) {
      selectionError = error;
      logger.warn({ err: error }, "finding workers failed");
    }
    if (peerId === undefined || finished) return false;
    tried.add(peerId);
    const attempt: Attempt = {
      peerId,
      record: { peerId, outcome: "aborted", tokensReceived: 0, hedge, firstIndex: received.length, startedAt: ctx.clock.now(), finishedAt: undefined },
      controller: new AbortController(),
      closed: false,
      hedgeTimer: undefined,
      hedgeDue: false,
      gapTimer: undefined,
    };
    attempts.push(attempt);
    active.add(attempt);
    armGapTimer(attempt);
    if (settings.hedge && leader === undefined) {
      attempt.hedgeTimer = timers.setTimeout(() => void events.push({ kind: "hedge", attempt }), settings.hedgeAfterMs);
    }
    const attemptRequest: JobRequest = { ...request, resumeTokens: received.map((token) => token.id) };
    logger.debug({ peerId, hedge, resumeTokens: received.length, attempt: attempts.length }, "attempt started");
    void pump(attempt, attemptRequest);
    return true;
  }

  async function pump(attempt: Attempt, attemptRequest: JobRequest): Promise<void> {
    try {
      const frames = ctx.transport.openJob(attempt.peerId, attemptRequest, { signal: attempt.controller.signal, frameDeadlineMs: settings.frameDeadlineMs });
      for await (const frame of frames) {
        await events.push({ kind: "frame", attempt, frame });
        // Leaving the loop closes the stream (the transport's contract).
        if (attempt.closed || frame.type === "end" || frame.type === "error") return;
      }
      await events.push({ kind: "failed", attempt, error: new SwarmError("SWARM_NO_END", `Worker ${attempt.peerId} closed the job stream without an end frame.`, { retryable: true }) });
    } catch (error) {
      await events.push({ kind: "failed", attempt, error });
    }
  }

  function closeAttempt(attempt: Attempt, outcome: AttemptOutcome, error?: unknown): void {
    if (attempt.closed) return;
    attempt.closed = true;
    active.delete(attempt);
    timers.clearTimeout(attempt.hedgeTimer);
    timers.clearTimeout(attempt.gapTimer);
    if (outcome !== "completed") attempt.controller.abort(new SwarmError("SWARM_ABORTED", `Attempt closed: ${outcome}.`, { retryable: false }));
    attempt.record.outcome = outcome;
    attempt.record.finishedAt = ctx.clock.now();
    const described = error === undefined ? undefined : describe(error);
    if (described) attempt.record.error = described;
    if (leader === attempt) leader = undefined;
    logger.debug({ peerId: attempt.peerId, outcome, tokens: attempt.record.tokensReceived, code: described?.code }, "attempt closed");
    ctx.attemptClosed(attempt.peerId, {
      jobId: request.jobId,
      outcome,
      tokensReceived: attempt.record.tokensReceived,
      ...(described && { code: described.workerCode ?? described.code }),
    });
  }

  function finish(outcome: { ok: JobRunResult } | { error: unknown }): void {
    if (finished) return;
    finished = true;
    for (const attempt of [...active]) closeAttempt(attempt, "aborted");
    signal?.removeEventListener("abort", onAbort);
    stopped.abort();
    events.close();
    if ("ok" in outcome) {
      settleResult.resolve(outcome.ok);
      stream.end();
    } else {
      settleResult.reject(outcome.error);
      stream.fail(outcome.error);
    }
  }

  function succeed(workerPeerId: string, finishReason: JobRunResult["finishReason"], promptTokens: number): void {
    finish({
      ok: {
        finishReason,
        tokens: received.map((token) => token.id),
        text: received.map((token) => token.text).join(""),
        attempts: attempts.map((attempt) => ({ ...attempt.record })),
        workerPeerId,
        promptTokens,
        answerTokens: received.length,
      },
    });
  }

  function summary(): string {
    return attempts
      .map(({ record }) => `${record.peerId}: ${record.error?.workerCode ?? record.error?.code ?? record.outcome} after ${record.tokensReceived} token(s)`)
      .join("; ");
  }

  function aborted(reason: string): SwarmError {
    return new SwarmError("SWARM_ABORTED", `Job ${request.jobId} was aborted: ${reason}.`, { retryable: false, cause: signal?.reason });
  }

  function failNoMoreWorkers(): void {
    // An abort while workers were being chosen explains the empty choice better than "no workers".
    if (abortReason !== undefined) return finish({ error: aborted(abortReason) });
    if (attempts.length === 0) {
      const why = selectionError === undefined ? "" : ` (finding workers failed: ${describe(selectionError).message})`;
      finish({
        error: new SwarmError(
          "SWARM_NO_WORKERS",
          `No worker is available for model ${request.modelSha256} right now${why}: none serves it, or all are paused or backed off. Retry in a few seconds, or run a node that serves this model.`,
          { retryable: true, cause: selectionError },
        ),
      });
      return;
    }
    const bound = attempts.length >= settings.maxAttempts ? `the limit of ${settings.maxAttempts} attempts` : "no other worker left to try";
    finish({
      error: new SwarmError(
        "SWARM_ATTEMPTS_EXHAUSTED",
        `Job ${request.jobId} stopped after ${received.length} answer token(s) with ${bound}. Attempts: ${summary()}. Retry the request later; the tokens already streamed are valid.`,
        { retryable: true, attemptCodes: attempts.map(({ record }) => record.error?.workerCode ?? record.error?.code ?? record.outcome) },
      ),
    });
  }

  async function attemptFailed(attempt: Attempt, error: unknown): Promise<void> {
    const retryable = isRetryable(error);
    closeAttempt(attempt, retryable ? "failed" : "rejected", error);
    logger.info({ peerId: attempt.peerId, ...describe(error), tokens: received.length }, retryable ? "attempt failed; failing over" : "worker refused the job");
    if (!retryable) return finish({ error });
    const last = received.at(-1);
    // The budget is spent: the answer is complete whatever the worker would have said next.
    if (last && received.length >= request.maxTokens) return succeed(last.peerId, "length", request.prompt.tokens.length);
    if (active.size > 0) {
      const [other] = active;
      // The hedge failed while the attempt it was racing is still slow: race that one again.
      if (other?.hedgeDue && leader === undefined) await startAttempt(true);
      return;
    }
    if (!(await startAttempt(false))) failNoMoreWorkers();
  }

  function takeLead(attempt: Attempt): void {
    if (leader === attempt) return;
    leader = attempt;
    timers.clearTimeout(attempt.hedgeTimer);
    for (const other of [...active]) if (other !== attempt) closeAttempt(other, "hedge-lost");
  }

  async function onFrame(attempt: Attempt, frame: WorkerFrame): Promise<void> {
    switch (frame.type) {
      case "accepted":
      case "keepalive":
        return;
      case "tokens": {
        // A worker that repeats or skips answer positions cannot be trusted with the rest of the answer.
        if (frame.index !== received.length) {
          return attemptFailed(
            attempt,
            new SwarmError("SWARM_BAD_FRAME", `Worker ${attempt.peerId} sent answer position ${frame.index} where ${received.length} was expected.`, { retryable: true }),
          );
        }
        if (received.length + frame.ids.length > request.maxTokens) {
          return attemptFailed(
            attempt,
            new SwarmError("SWARM_BAD_FRAME", `Worker ${attempt.peerId} sent tokens beyond the answer budget of ${request.maxTokens}.`, { retryable: true }),
          );
        }
        takeLead(attempt);
        frame.ids.forEach((tokenId, offset) => {
          const text = frame.texts[offset] ?? "";
          stream.push({ tokenId, text, index: received.length });
          received.push({ id: tokenId, text, peerId: attempt.peerId });
        });
        attempt.record.tokensReceived += frame.ids.length;
        armGapTimer(attempt);
        return;
      }
      case "end":
        takeLead(attempt);
        if (frame.answerTokens !== received.length) {
          logger.warn({ peerId: attempt.peerId, claimed: frame.answerTokens, received: received.length }, "worker's end frame counts a different answer length");
        }
        closeAttempt(attempt, "completed");
        return succeed(attempt.peerId, frame.finishReason, frame.promptTokens);
      case "error":
        return attemptFailed(
          attempt,
          new SwarmError("SWARM_WORKER_ERROR", `Worker ${attempt.peerId} refused the job: ${frame.code}: ${frame.message}`, { retryable: frame.retryable, workerCode: frame.code }),
        );
    }
  }

  async function handle(event: JobEvent): Promise<void> {
    if (event.kind === "abort") {
      return finish({ error: aborted(event.reason) });
    }
    const { attempt } = event;
    if (attempt.closed) return;
    switch (event.kind) {
      case "frame":
        return onFrame(attempt, event.frame);
      case "failed":
        return attemptFailed(attempt, event.error);
      case "gap":
        return attemptFailed(
          attempt,
          new SwarmError("SWARM_STALLED", `Worker ${attempt.peerId} sent no token for ${settings.tokenGapMs} ms (keepalives alone do not count).`, { retryable: true }),
        );
      case "hedge":
        attempt.hedgeDue = true;
        if (leader === undefined && active.size < 2) await startAttempt(true);
        return;
    }
  }

  async function run(): Promise<void> {
    try {
      if (signal?.aborted) return finish({ error: aborted("the caller aborted the job before it started") });
      if (!(await startAttempt(false))) return failNoMoreWorkers();
      // Bounded: every event comes from an attempt's finite frames or a timer, and attempts are bounded.
      while (!finished) {
        const { event, ack } = await events.take();
        try {
          await handle(event);
        } finally {
          ack();
        }
      }
    } catch (error) {
      logger.error({ err: error }, "scheduler bug: job ended unexpectedly");
      finish({ error });
    }
  }

  void run();

  return {
    jobId: request.jobId,
    currentWorker: () => leader?.peerId ?? [...active][0]?.peerId,
    result,
    [Symbol.asyncIterator]: () => stream[Symbol.asyncIterator](),
  };
}

/** A run that has already failed (e.g. an invalid request), with the same shape as any other. */
export function failedJobRun(jobId: string, error: unknown): JobRun {
  const stream = createTokenStream<StreamedToken>(() => undefined);
  stream.fail(error);
  const result = Promise.reject(error);
  result.catch(() => undefined);
  return { jobId, currentWorker: () => undefined, result, [Symbol.asyncIterator]: () => stream[Symbol.asyncIterator]() };
}
