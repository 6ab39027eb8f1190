import type { LlamaContext, LlamaContextSequence } from "node-llama-cpp";
import { EngineError } from "./engine-errors.js";
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
