/**
 * Fakes for the scheduler's tests (and for anyone testing against the scheduler): a clock and timers
 * that move only when told, a transport whose workers follow scripts, and a few worker behaviours.
 * Not exported from the module's door.
 */
import { JOB_LIMITS, SwarmError, workerFrameSchema, type CapacityAdvertBody, type JobRequest, type WorkerFrame } from "../swarm/index.js";
import type { JobRun, JobRunResult, StreamedToken } from "./job-run.js";
import type { CandidateSource, JobTransport, LatencyProbe, ReputationSource, WorkerCandidate } from "./scheduler-ports.js";

import { createFakeTime, settle, type FakeTime, type Timers } from "../common/index.js";

export { createFakeTime, settle, type FakeTime };

// ---- the answer every scripted worker "generates": position i is always the same token ----

export const answerToken = (index: number) => ({ id: 1000 + index, text: `t${index} ` });
export const answerIds = (from: number, to: number) => Array.from({ length: to - from }, (_, offset) => answerToken(from + offset).id);
export const answerText = (length: number) => Array.from({ length }, (_, index) => answerToken(index).text).join("");

function tokensFrame(index: number, count: number): WorkerFrame {
  const ids = answerIds(index, index + count);
  return { type: "tokens", index, ids, texts: ids.map((_, offset) => answerToken(index + offset).text) };
}

// ---- workers ----

export interface WorkerIo {
  /** Aborted when the requester closes the attempt (or the transport gives up on it). */
  signal: AbortSignal;
  /** Waits on the fake timers; rejects if the attempt is closed meanwhile. */
  sleep(ms: number): Promise<void>;
  /** Never resolves: the worker has gone silent (rejects once the attempt is closed). */
  hang(): Promise<never>;
}

/** A worker's behaviour for one attempt: the frames it sends. Returning without end/error = a stream closed early. */
export type WorkerScript = (request: JobRequest, io: WorkerIo) => AsyncIterable<WorkerFrame>;

interface TokenPlan {
  /** Answer length the worker's "model" produces before eos (default 12). */
  answerLength?: number;
  firstTokenDelayMs?: number;
  tokenDelayMs?: number;
  /** Tokens per frame (default 1). */
  batch?: number;
}

async function* waitWithKeepalives(io: WorkerIo, ms: number): AsyncGenerator<WorkerFrame> {
  for (let waited = 0; waited < ms; ) {
    const step = Math.min(JOB_LIMITS.keepaliveIntervalMs, ms - waited);
    await io.sleep(step);
    waited += step;
    if (waited < ms) yield { type: "keepalive" };
  }
}

/** Sends answer positions [resume, stopAt) and returns the position it reached. */
async function* sendTokens(request: JobRequest, io: WorkerIo, plan: TokenPlan, stopAt: number): AsyncGenerator<WorkerFrame, number> {
  let position = request.resumeTokens.length;
  const batch = plan.batch ?? 1;
  if (position < stopAt) yield* waitWithKeepalives(io, plan.firstTokenDelayMs ?? 0);
  while (position < stopAt) {
    if (position > request.resumeTokens.length) yield* waitWithKeepalives(io, plan.tokenDelayMs ?? 0);
    const count = Math.min(batch, stopAt - position);
    yield tokensFrame(position, count);
    position += count;
  }
  return position;
}

/** Answers the whole request: continues after `resumeTokens` and ends with eos (or length at the budget). */
export function goodWorker(plan: TokenPlan = {}): WorkerScript {
  return async function* (request, io) {
    yield { type: "accepted", queuePosition: 0 };
    const length = plan.answerLength ?? 12;
    const stopAt = Math.min(length, request.maxTokens);
    const reached = yield* sendTokens(request, io, plan, stopAt);
    yield {
      type: "end",
      finishReason: reached >= request.maxTokens && length > request.maxTokens ? "length" : "eos",
      promptTokens: request.prompt.tokens.length,
      answerTokens: reached,
      generatedTokens: reached - request.resumeTokens.length,
    };
  };
}

/** Sends `afterTokens` tokens, then goes silent (the transport's frame deadline turns that into SWARM_STALLED). */
export function stallingWorker(afterTokens: number, plan: TokenPlan = {}): WorkerScript {
  return async function* (request, io) {
    yield { type: "accepted", queuePosition: 0 };
    yield* sendTokens(request, io, plan, request.resumeTokens.length + afterTokens);
    await io.hang();
  };
}

/** Sends `afterTokens` tokens, then closes the stream without `end` (SWARM_NO_END). */
export function closingWorker(afterTokens: number, plan: TokenPlan = {}): WorkerScript {
  return async function* (request, io) {
    yield { type: "accepted", queuePosition: 0 };
    yield* sendTokens(request, io, plan, request.resumeTokens.length + afterTokens);
  };
}

/** Sends `afterTokens` tokens, then an `error` frame (or, with `thrown`, the transport throws SWARM_WORKER_ERROR). */
export function erroringWorker(code: string, retryable: boolean, options: { afterTokens?: number; thrown?: boolean } = {}): WorkerScript {
  return async function* (request, io) {
    yield* sendTokens(request, io, {}, request.resumeTokens.length + (options.afterTokens ?? 0));
    if (options.thrown) throw new SwarmError("SWARM_WORKER_ERROR", `worker error ${code}`, { retryable, workerCode: code });
    yield { type: "error", code, message: `scripted ${code}`, retryable };
  };
}

/** Sends `afterTokens` good tokens, then a frame whose index repeats (shift < 0) or skips (shift > 0) positions. */
export function wrongIndexWorker(afterTokens: number, shift: number): WorkerScript {
  return async function* (request, io) {
    const reached = yield* sendTokens(request, io, {}, request.resumeTokens.length + afterTokens);
    yield tokensFrame(Math.max(0, reached + shift), 2);
    await io.hang();
  };
}

/** Admits the job and sends keepalives forever, never a token. */
export function keepaliveOnlyWorker(): WorkerScript {
  return async function* (_request, io) {
    yield { type: "accepted", queuePosition: 3 };
    for (let i = 0; i < 100_000; i++) {
      await io.sleep(JOB_LIMITS.keepaliveIntervalMs);
      yield { type: "keepalive" };
    }
  };
}

/** The dial itself fails. */
export function unreachableWorker(): WorkerScript {
  // eslint-disable-next-line require-yield
  return async function* (_request, _io) {
    throw new SwarmError("SWARM_DIAL_FAILED", "scripted dial failure", { retryable: true });
  };
}

// ---- the transport ----

export interface ScriptedCall {
  peerId: string;
  request: JobRequest;
  frameDeadlineMs: number | undefined;
  /** Frames handed to the requester. */
  frames: WorkerFrame[];
  /** The stream is closed (ended, failed, or closed by the requester). */
  closed: boolean;
  /** The requester aborted the attempt's signal. */
  aborted: boolean;
}

export interface ScriptedTransport extends JobTransport {
  readonly calls: ScriptedCall[];
  callsTo(peerId: string): ScriptedCall[];
}

/**
 * A JobTransport whose workers follow scripts; it keeps the real transport's contract: frames are
 * validated (SWARM_BAD_FRAME), silence beyond the frame deadline throws SWARM_STALLED, a script that
 * returns without end/error throws SWARM_NO_END, an unknown peer throws SWARM_DIAL_FAILED. A list of
 * scripts gives each successive call to that peer the next one (the last repeats).
 */
export function createScriptedTransport(workers: Record<string, WorkerScript | WorkerScript[]>, timers: Timers): ScriptedTransport {
  const calls: ScriptedCall[] = [];
  const callCounts = new Map<string, number>();

  function scriptFor(peerId: string): WorkerScript | undefined {
    const entry = workers[peerId];
    if (entry === undefined) return undefined;
    const count = callCounts.get(peerId) ?? 0;
    callCounts.set(peerId, count + 1);
    return Array.isArray(entry) ? entry[Math.min(count, entry.length - 1)] : entry;
  }

  async function* openJob(peerId: string, request: JobRequest, options: { signal?: AbortSignal; frameDeadlineMs?: number }): AsyncGenerator<WorkerFrame> {
    const call: ScriptedCall = { peerId, request: structuredClone(request), frameDeadlineMs: options.frameDeadlineMs, frames: [], closed: false, aborted: false };
    calls.push(call);
    const script = scriptFor(peerId);
    const local = new AbortController();
    const onAbort = () => {
      call.aborted = true;
      local.abort();
    };
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    const closedError = () => new SwarmError("SWARM_ABORTED", "the attempt was closed", { retryable: false });
    const io: WorkerIo = {
      signal: local.signal,
      sleep: (ms) =>
        new Promise<void>((resolve, reject) => {
          if (local.signal.aborted) return reject(closedError());
          const handle = timers.setTimeout(resolve, ms);
          local.signal.addEventListener("abort", () => (timers.clearTimeout(handle), reject(closedError())), { once: true });
        }),
      hang: () => new Promise<never>((_, reject) => local.signal.addEventListener("abort", () => reject(closedError()), { once: true })),
    };
    try {
      if (!script) throw new SwarmError("SWARM_DIAL_FAILED", `no scripted worker ${peerId}`, { retryable: true });
      const frames = script(request, io)[Symbol.asyncIterator]();
      const deadlineMs = options.frameDeadlineMs ?? JOB_LIMITS.frameDeadlineMs;
      for (let i = 0; i < 100_000; i++) {
        let timer: unknown;
        const stalled = new Promise<never>((_, reject) => {
          timer = timers.setTimeout(() => reject(new SwarmError("SWARM_STALLED", `scripted ${peerId} sent nothing for ${deadlineMs} ms`, { retryable: true })), deadlineMs);
        });
        const closed = new Promise<never>((_, reject) => local.signal.addEventListener("abort", () => reject(closedError()), { once: true }));
        let next: IteratorResult<WorkerFrame>;
        try {
          next = await Promise.race([frames.next(), stalled, closed]);
        } finally {
          timers.clearTimeout(timer);
        }
        if (next.done) throw new SwarmError("SWARM_NO_END", `scripted ${peerId} closed without end`, { retryable: true });
        const parsed = workerFrameSchema.safeParse(next.value);
        if (!parsed.success) throw new SwarmError("SWARM_BAD_FRAME", `scripted ${peerId} sent a malformed frame`, { retryable: true });
        call.frames.push(parsed.data);
        yield parsed.data;
        if (parsed.data.type === "end" || parsed.data.type === "error") return;
      }
    } finally {
      call.closed = true;
      options.signal?.removeEventListener("abort", onAbort);
      local.abort(); // ends a script still waiting
    }
  }

  return {
    calls,
    callsTo: (peerId) => calls.filter((call) => call.peerId === peerId),
    openJob,
  };
}

// ---- the other ports ----

export function staticCandidates(list: WorkerCandidate[] | (() => WorkerCandidate[])): CandidateSource & { queries: number } {
  const source = {
    queries: 0,
    async candidates() {
      source.queries++;
      return typeof list === "function" ? list() : list;
    },
  };
  return source;
}

export function fixedLatencies(latencies: Record<string, number | undefined>): LatencyProbe & { probes: string[] } {
  const probe = {
    probes: [] as string[],
    async latencyMs(peerId: string) {
      probe.probes.push(peerId);
      return latencies[peerId];
    },
  };
  return probe;
}

export function fixedReputation(scores: Record<string, number>, fallback = 0.5): ReputationSource {
  return { score: (peerId) => scores[peerId] ?? fallback };
}

export const MODEL_SHA = "a".repeat(64);

export function advertFor(
  peerId: string,
  now: number,
  fields: { tokensPerSecond?: number; freeSlots?: number; queueLength?: number; price?: number; contribute?: boolean; models?: string[]; expiresInMs?: number } = {},
): CapacityAdvertBody {
  return {
    peerId,
    issuedAt: now,
    expiresAt: now + (fields.expiresInMs ?? 60_000),
    sequence: 1,
    models: (fields.models ?? [MODEL_SHA]).map((sha256) => ({
      sha256,
      name: "synthetic",
      quantization: "F16",
      contextSize: 2048,
      tokensPerSecond: fields.tokensPerSecond ?? 50,
      pricePer1kTokens: fields.price ?? 0,
    })),
    freeSlots: fields.freeSlots ?? 1,
    queueLength: fields.queueLength ?? 0,
    policy: { contribute: fields.contribute ?? true, reasonCode: fields.contribute === false ? "game-running" : "idle" },
    addresses: [],
  };
}

export function jobRequest(overrides: Partial<Omit<JobRequest, "resumeTokens">> = {}): Omit<JobRequest, "resumeTokens"> {
  return {
    type: "request",
    jobId: "job-0001",
    modelSha256: MODEL_SHA,
    prompt: { tokens: [1, 2, 3, 4] },
    sampling: { temperature: 0.7, seed: 42 },
    maxTokens: 64,
    stop: [],
    ...overrides,
  };
}

export interface Drained {
  tokens: StreamedToken[];
  result?: JobRunResult;
  error?: unknown;
}

/** Reads a run to its end while moving fake time in steps; throws if it does not end within `maxMs`. */
export async function drain(run: JobRun, time: FakeTime, options: { stepMs?: number; maxMs?: number } = {}): Promise<Drained> {
  const drained: Drained = { tokens: [] };
  let done = false;
  const reading = (async () => {
    try {
      for await (const token of run) drained.tokens.push(token);
      drained.result = await run.result;
    } catch (error) {
      drained.error = error;
    } finally {
      done = true;
    }
  })();
  const stepMs = options.stepMs ?? 100;
  const maxMs = options.maxMs ?? 10 * 60_000;
  await settle();
  for (let elapsed = 0; !done && elapsed < maxMs; elapsed += stepMs) await time.advance(stepMs);
  if (!done) throw new Error(`the job did not end within ${maxMs} ms of fake time`);
  await reading;
  return drained;
}
