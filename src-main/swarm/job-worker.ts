import type { Connection, Stream } from "@libp2p/interface";
import type { Logger } from "../common/index.js";
import { EngineError, type GeneratedToken, type GenerationStream, type LoadedModel } from "../engine/index.js";
import { createFrameStream, type FrameStream } from "./frame-stream.js";
import { JOB_LIMITS, JOB_PROTOCOL_ID, jobRequestSchema, type JobRequest, type WorkerFrame } from "./job-protocol.js";
import { SwarmError } from "./swarm-errors.js";
import type { SwarmLibp2p } from "./swarm-node.js";

export interface JobOutcome {
  jobId: string;
  peerId: string;
  modelSha256: string;
  /** `end`: answered; `error`: an error frame was sent; `gone`: the requester left (nothing sent). */
  outcome: "end" | "error" | "gone";
  code?: string;
  promptTokens: number;
  answerTokens: number;
  generatedTokens: number;
  /** What the worker was asked and what it sent, for its receipts: the requester's receipt must match these. */
  promptTokenIds: readonly number[];
  resumeTokenIds: readonly number[];
  /** The ids this worker sent in token frames (not the resumed ones). */
  generatedTokenIds: readonly number[];
  durationMs: number;
}

export interface JobHandlerOptions {
  /** The loaded model for a content hash, or undefined when this node does not serve it. */
  resolveModel: (sha256: string) => LoadedModel | undefined;
  logger: Logger;
  /** Concurrent job streams per connection; excess streams are reset by libp2p. */
  maxInboundStreams?: number;
  /** For the dashboard's live jobs: a request for a served model was read and is about to run. */
  onJobStarted?: (job: { jobId: string; peerId: string; modelSha256: string }) => void;
  /** For the ledger and stats: called once per request that was read. */
  onJobFinished?: (outcome: JobOutcome) => void;
  /** For reputation: a peer sent a malformed, oversized, truncated or late request. */
  onMisbehaviour?: (peerId: string, reason: string) => void;
  /** How long a requester has to send its request after opening the stream. */
  requestDeadlineMs?: number;
  keepaliveIntervalMs?: number;
  maxBatchDelayMs?: number;
  /** How long a requester may refuse our frames (backpressure) before the job is dropped. */
  writeDeadlineMs?: number;
}

export interface JobHandler {
  /** Jobs whose stream is open (queued or generating). */
  activeJobs(): number;
  /** Stops taking jobs, ends running ones with a retryable error frame and closes their streams. */
  stop(): Promise<void>;
}

const RETRYABLE_ENGINE_CODES = new Set(["ENGINE_BUSY", "ENGINE_PAUSED", "ENGINE_PREEMPTED", "ENGINE_CLOSED"]);

type StopReason = "gone" | "shutdown" | "write-stalled";

interface RunningJob {
  controller: AbortController;
  done: Promise<void>;
}

export async function registerJobHandler(node: SwarmLibp2p, options: JobHandlerOptions): Promise<JobHandler> {
  const logger = options.logger.child({ module: "swarm", component: "job-worker" });
  const requestDeadlineMs = options.requestDeadlineMs ?? JOB_LIMITS.frameDeadlineMs;
  const keepaliveIntervalMs = options.keepaliveIntervalMs ?? JOB_LIMITS.keepaliveIntervalMs;
  const maxBatchDelayMs = options.maxBatchDelayMs ?? JOB_LIMITS.maxBatchDelayMs;
  const writeDeadlineMs = options.writeDeadlineMs ?? JOB_LIMITS.frameDeadlineMs;
  const running = new Set<RunningJob>();
  let stopping = false;

  const misbehaved = (peerId: string, reason: string) => {
    logger.warn({ peerId, reason }, "peer misbehaved on the job protocol");
    try {
      options.onMisbehaviour?.(peerId, reason);
    } catch (error) {
      logger.error({ err: error }, "onMisbehaviour hook threw");
    }
  };

  const finished = (outcome: JobOutcome) => {
    logger.debug(outcome, "job finished");
    try {
      options.onJobFinished?.(outcome);
    } catch (error) {
      logger.error({ err: error }, "onJobFinished hook threw");
    }
  };

  /** Sends an error frame and closes; a peer that already left is not an error worth reporting. */
  async function refuse(frames: FrameStream, code: string, message: string, retryable: boolean) {
    try {
      await frames.writeFrame({ type: "error", code, message, retryable } satisfies WorkerFrame, { deadlineMs: writeDeadlineMs });
      await frames.close();
    } catch {
      frames.abort("could not send the error frame");
    }
  }

  async function handle(stream: Stream, connection: Connection) {
    const peerId = connection.remotePeer.toString();
    const frames = createFrameStream(stream);
    if (stopping) return refuse(frames, "SWARM_SHUTTING_DOWN", "This worker is shutting down; send the job to another worker.", true);

    let request: JobRequest;
    try {
      request = await frames.readFrame(jobRequestSchema, { deadlineMs: requestDeadlineMs });
    } catch (error) {
      const code = error instanceof SwarmError ? error.code : "SWARM_INTERNAL";
      misbehaved(peerId, `request: ${code}`);
      if (code === "SWARM_NO_END") return frames.abort("the request was truncated");
      const message = error instanceof Error ? `The job request was refused: ${error.message}` : "The job request was refused.";
      return refuse(frames, "SWARM_BAD_REQUEST", message.slice(0, 1024), false);
    }

    const model = options.resolveModel(request.modelSha256);
    if (!model) {
      finished(summary(request, peerId, "error", "SWARM_MODEL_NOT_SERVED", 0, 0, []));
      return refuse(frames, "SWARM_MODEL_NOT_SERVED", `This worker does not serve model ${request.modelSha256}; pick a worker that advertises it.`, true);
    }

    try {
      options.onJobStarted?.({ jobId: request.jobId, peerId, modelSha256: request.modelSha256 });
    } catch (error) {
      logger.error({ err: error }, "onJobStarted hook threw");
    }
    const controller = new AbortController();
    let settle!: () => void;
    const job: RunningJob = { controller, done: new Promise<void>((resolve) => (settle = resolve)) };
    running.add(job);
    try {
      await runJob(request, model, frames, peerId, controller);
    } finally {
      running.delete(job);
      settle();
    }
  }

  async function runJob(request: JobRequest, model: LoadedModel, frames: FrameStream, peerId: string, controller: AbortController) {
    const startedAt = performance.now();
    const stop = (reason: StopReason) => {
      if (!controller.signal.aborted) controller.abort(reason);
    };
    // The requester keeps its side open for the job's life: its close or reset means it left.
    const onGone = () => stop("gone");
    frames.stream.addEventListener("close", onGone);
    frames.stream.addEventListener("remoteCloseWrite", onGone);
    if (frames.stream.status !== "open" || frames.stream.remoteWriteStatus !== "writable") stop("gone");

    let answerTokens = request.resumeTokens.length;
    let generatedTokens = 0;
    const sentIds: number[] = [];
    const write = (frame: WorkerFrame) =>
      frames.writeFrame(frame, { deadlineMs: writeDeadlineMs, signal: controller.signal }).catch((error: unknown) => {
        if (error instanceof SwarmError && error.code === "SWARM_STALLED") stop("write-stalled");
        else stop("gone");
        throw error;
      });

    try {
      const generation = model.generate({
        prompt: { tokens: request.prompt.tokens },
        resumeTokens: request.resumeTokens,
        maxTokens: request.maxTokens,
        stop: request.stop,
        sampling: request.sampling,
        signal: controller.signal,
      });
      const stats = model.stats();
      const admitted = stats.accepting && (stats.active < stats.maxActive || stats.queued < stats.maxQueued);
      if (admitted) await write({ type: "accepted", queuePosition: stats.active < stats.maxActive ? 0 : stats.queued + 1 });

      await pumpTokens(generation, request.resumeTokens.length, write, (ids) => {
        generatedTokens += ids.length;
        sentIds.push(...ids);
      });
      const result = await generation.result;
      answerTokens = result.tokens.length;
      await write({
        type: "end",
        finishReason: result.finishReason,
        promptTokens: result.promptTokenCount,
        answerTokens: result.tokens.length,
        generatedTokens: result.generatedTokenCount,
      });
      await frames.close();
      finished({ ...summary(request, peerId, "end", undefined, answerTokens, generatedTokens, sentIds), durationMs: performance.now() - startedAt });
    } catch (error) {
      const reason = controller.signal.reason as StopReason | undefined;
      const base = { ...summary(request, peerId, "error", undefined, answerTokens, generatedTokens, sentIds), durationMs: performance.now() - startedAt };
      if (reason === "gone" || reason === "write-stalled") {
        frames.abort("the requester went away");
        finished({ ...base, outcome: "gone", code: reason });
        return;
      }
      const frame = errorFrame(reason === "shutdown" ? new SwarmError("SWARM_SHUTTING_DOWN", "This worker is shutting down; resume the job on another worker.", { retryable: true }) : error);
      if (frame.code === "SWARM_INTERNAL") logger.error({ err: error, jobId: request.jobId }, "job failed unexpectedly");
      await refuse(frames, frame.code, frame.message, frame.retryable);
      finished({ ...base, code: frame.code });
    } finally {
      frames.stream.removeEventListener("close", onGone);
      frames.stream.removeEventListener("remoteCloseWrite", onGone);
    }
  }

  /**
   * Batches tokens (up to maxTokensPerFrame, or what arrived within maxBatchDelayMs) and sends a
   * keepalive when nothing was sent for a while (queued, or a long prompt being evaluated).
   */
  async function pumpTokens(generation: GenerationStream, firstIndex: number, write: (frame: WorkerFrame) => Promise<void>, sent: (ids: readonly number[]) => void) {
    const iterator = generation[Symbol.asyncIterator]();
    let batch: GeneratedToken[] = [];
    let nextIndex = firstIndex;
    let batchStartedAt = 0;
    let lastSentAt = performance.now();
    const flush = async () => {
      if (batch.length === 0) return;
      const frame: WorkerFrame = { type: "tokens", index: nextIndex, ids: batch.map((t) => t.tokenId), texts: batch.map((t) => t.text) };
      nextIndex += batch.length;
      sent(frame.ids);
      batch = [];
      await write(frame);
      lastSentAt = performance.now();
    };
    let next = iterator.next();
    // One timer per waiting window (a batch filling, or the quiet before a keepalive), not one per token:
    // tokens arriving inside the same window race the same timer.
    const window = createWindowTimer();
    try {
      for (;;) {
        const step = await Promise.race([next, window.until(batch.length > 0 ? batchStartedAt + maxBatchDelayMs : lastSentAt + keepaliveIntervalMs)]);
        if (step === "timeout") {
          if (batch.length > 0) await flush();
          else {
            await write({ type: "keepalive" });
            lastSentAt = performance.now();
          }
          continue;
        }
        if (step.done) break;
        if (batch.length === 0) batchStartedAt = performance.now();
        batch.push(step.value);
        next = iterator.next();
        // The first token goes out at once (time to first token is what users feel); later ones batch.
        if (batch.length >= JOB_LIMITS.maxTokensPerFrame || nextIndex === firstIndex) await flush();
      }
      await flush();
    } finally {
      window.cancel();
      // A failed write leaves the generator running: end it (it releases the engine's job slot).
      await iterator.return?.(undefined).catch(() => undefined);
      next.catch(() => undefined);
    }
  }

  await node.handle(JOB_PROTOCOL_ID, (stream, connection) => handle(stream, connection).catch((error: unknown) => {
    logger.error({ err: error }, "job handler failed");
    stream.abort(error instanceof Error ? error : new Error(String(error)));
  }), { maxInboundStreams: options.maxInboundStreams ?? 32 });

  return {
    activeJobs: () => running.size,
    async stop() {
      if (stopping) return;
      stopping = true;
      await node.unhandle(JOB_PROTOCOL_ID).catch(() => undefined);
      const jobs = [...running];
      for (const job of jobs) job.controller.abort("shutdown" satisfies StopReason);
      await Promise.all(jobs.map((job) => job.done));
    },
  };
}

/** A promise that resolves "timeout" at a deadline (performance.now() time); asking again for the same deadline reuses the timer. */
function createWindowTimer() {
  let current: { at: number; timer: NodeJS.Timeout; fired: Promise<"timeout"> } | undefined;
  return {
    until(at: number): Promise<"timeout"> {
      if (current?.at === at) return current.fired;
      if (current) clearTimeout(current.timer);
      let timer!: NodeJS.Timeout;
      const fired = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), Math.max(0, at - performance.now()))));
      current = { at, timer, fired };
      return fired;
    },
    cancel() {
      if (current) clearTimeout(current.timer);
      current = undefined;
    },
  };
}

function errorFrame(error: unknown): { code: string; message: string; retryable: boolean } {
  if (error instanceof EngineError) return { code: error.code, message: error.message.slice(0, 1024), retryable: RETRYABLE_ENGINE_CODES.has(error.code) };
  if (error instanceof SwarmError) return { code: error.code, message: error.message.slice(0, 1024), retryable: error.retryable };
  return { code: "SWARM_INTERNAL", message: "The worker failed unexpectedly; resume the job on another worker.", retryable: true };
}

function summary(request: JobRequest, peerId: string, outcome: JobOutcome["outcome"], code: string | undefined, answerTokens: number, generatedTokens: number, sentIds: readonly number[]): JobOutcome {
  return {
    jobId: request.jobId,
    peerId,
    modelSha256: request.modelSha256,
    outcome,
    ...(code !== undefined && { code }),
    promptTokens: request.prompt.tokens.length,
    answerTokens,
    generatedTokens,
    promptTokenIds: request.prompt.tokens,
    resumeTokenIds: request.resumeTokens,
    generatedTokenIds: sentIds,
    durationMs: 0,
  };
}
