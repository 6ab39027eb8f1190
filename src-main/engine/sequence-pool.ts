import type { LlamaContext, LlamaContextSequence } from "node-llama-cpp";
import { EngineError } from "./engine-errors.js";
import type { GenerationResult, GenerationStream } from "./generation.js";
import { JobSlots, type JobSlotStats } from "./job-slots.js";

/** One context's sequences handed out one per job, behind the engine's bounded job slots. */
export interface SequencePool {
  /**
   * Takes a free sequence for one job; `done` returns it to the pool and frees the slot. The job's signal
   * fires when its caller aborts or when the node preempts running work (`abortRunning`).
   */
  take(callerSignal: AbortSignal | undefined): Promise<{ sequence: LlamaContextSequence; signal: AbortSignal; done: () => void }>;
  stats(): JobSlotStats;
  setAdmission(admission: { accepting: boolean; maxActiveJobs: number; reason?: string }): void;
  /** Stops every running job with ENGINE_PREEMPTED (e.g. a game started); their requesters fail over. */
  abortRunning(reason: string): void;
  /** Refuses new jobs from now on (the caller then disposes the context). */
  close(): void;
}

export function createSequencePool(context: LlamaContext, options: { modelName: string; maxQueuedJobs: number }): SequencePool {
  const sequences: LlamaContextSequence[] = [];
  for (let i = 0; i < context.totalSequences; i++) sequences.push(context.getSequence());
  const slots = new JobSlots(sequences.length, options.maxQueuedJobs);
  const running = new Set<AbortController>();
  let closed = false;

  return {
    async take(callerSignal) {
      if (closed) throw new EngineError("ENGINE_CLOSED", `Model ${options.modelName} was closed; load it again.`);
      const releaseSlot = await slots.acquire(callerSignal);
      const sequence = sequences.pop();
      if (!sequence) {
        releaseSlot();
        throw new Error("job slot granted without a free sequence (slots and sequences out of step)");
      }
      const preemption = new AbortController();
      running.add(preemption);
      let done = false;
      return {
        sequence,
        signal: callerSignal ? AbortSignal.any([callerSignal, preemption.signal]) : preemption.signal,
        done: () => {
          if (done) return;
          done = true;
          running.delete(preemption);
          sequences.push(sequence);
          releaseSlot();
        },
      };
    },
    stats: () => slots.stats(),
    setAdmission(admission) {
      slots.setAdmission({ accepting: admission.accepting, maxActive: admission.maxActiveJobs, reason: admission.reason });
    },
    abortRunning(reason) {
      for (const job of running) job.abort(new EngineError("ENGINE_PREEMPTED", `This node stopped the job: ${reason}. Resume it on another worker.`));
    },
    close() {
      closed = true;
      slots.close();
    },
  };
}

export type PooledJob = Awaited<ReturnType<SequencePool["take"]>>;

/**
 * A generation stream that takes a sequence from `pool` only when first read (a queued job holds none),
 * then streams what `start` builds on it; `result` settles with that inner stream's result. `start` must
 * hand `job.done` to the inner stream; if it throws instead, the sequence goes back to the pool.
 */
export function pooledGenerationStream<S extends GenerationStream>(
  pool: SequencePool,
  callerSignal: AbortSignal | undefined,
  start: (job: PooledJob) => S | Promise<S>,
): GenerationStream & { inner(): S | undefined } {
  let settle!: { resolve: (r: GenerationResult) => void; reject: (e: unknown) => void };
  const result = new Promise<GenerationResult>((resolve, reject) => (settle = { resolve, reject }));
  result.catch(() => undefined);
  let started = false;
  let inner: S | undefined;
  return {
    result,
    inner: () => inner,
    async *[Symbol.asyncIterator]() {
      if (started) throw new Error("A generation stream can be iterated only once.");
      started = true;
      let job: PooledJob | undefined;
      try {
        job = await pool.take(callerSignal);
        inner = await start(job);
      } catch (error) {
        job?.done();
        settle.reject(error);
        throw error;
      }
      const stream: S = inner;
      stream.result.then(settle.resolve, settle.reject);
      yield* stream;
    },
  };
}
