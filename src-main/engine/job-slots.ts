import { abortError, EngineError } from "./engine-errors.js";

export interface JobSlotStats {
  active: number;
  queued: number;
  /** The current limit (the policy may lower it below the number of sequences). */
  maxActive: number;
  maxQueued: number;
  accepting: boolean;
}

interface Waiter {
  grant: (release: () => void) => void;
  fail: (error: Error) => void;
}

/**
 * A bounded semaphore with a bounded FIFO queue: at most `maxActive` jobs run, at most `maxQueued` wait,
 * and anything beyond that is refused at once (ENGINE_BUSY) so callers can back off or go elsewhere.
 */
export class JobSlots {
  private active = 0;
  private readonly queue: Waiter[] = [];
  private closed = false;
  private limit: number;
  private pausedReason: string | undefined;

  constructor(
    readonly capacity: number,
    readonly maxQueued: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be an integer >= 1, got ${capacity}`);
    if (!Number.isInteger(maxQueued) || maxQueued < 0) throw new RangeError(`maxQueued must be an integer >= 0, got ${maxQueued}`);
    this.limit = capacity;
  }

  stats(): JobSlotStats {
    return { active: this.active, queued: this.queue.length, maxActive: this.limit, maxQueued: this.maxQueued, accepting: this.pausedReason === undefined };
  }

  /**
   * The policy's say: how many jobs may run (0..capacity; running jobs above a lowered limit finish),
   * and whether new jobs are admitted at all. Pausing refuses queued jobs at once so their requesters
   * can go elsewhere.
   */
  setAdmission(admission: { accepting: boolean; maxActive: number; reason?: string }): void {
    this.limit = Math.max(0, Math.min(this.capacity, Math.floor(admission.maxActive)));
    this.pausedReason = admission.accepting ? undefined : (admission.reason ?? "this node is not taking jobs right now");
    if (this.pausedReason !== undefined) {
      for (const waiter of this.queue.splice(0)) waiter.fail(this.pausedError());
      return;
    }
    while (this.active < this.limit && this.queue.length > 0) {
      this.active++;
      this.queue.shift()!.grant(this.releaser());
    }
  }

  /** Resolves with a release function once a slot is free. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (this.closed) return Promise.reject(new EngineError("ENGINE_CLOSED", "The model was closed; load it again."));
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.pausedReason !== undefined) return Promise.reject(this.pausedError());
    if (this.active < this.limit) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    if (this.queue.length >= this.maxQueued) {
      return Promise.reject(
        new EngineError(
          "ENGINE_BUSY",
          `All ${this.limit} job slots are busy and ${this.queue.length} jobs are already queued; retry later or use another worker.`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const index = this.queue.indexOf(waiter);
        if (index >= 0) this.queue.splice(index, 1);
        reject(abortError(signal!));
      };
      const waiter: Waiter = {
        grant: (release) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(release);
        },
        fail: (error) => {
          signal?.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  /** Refuses new work and fails every queued waiter; running jobs finish on their own. */
  close(): void {
    this.closed = true;
    for (const waiter of this.queue.splice(0)) waiter.fail(new EngineError("ENGINE_CLOSED", "The model was closed while the job was queued."));
  }

  private pausedError(): EngineError {
    return new EngineError("ENGINE_PAUSED", `Not taking jobs: ${this.pausedReason}. Send the job to another worker.`);
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // A lowered limit takes effect as running jobs finish.
      const next = this.active <= this.limit ? this.queue.shift() : undefined;
      if (next) next.grant(this.releaser());
      else this.active--;
    };
  }
}
