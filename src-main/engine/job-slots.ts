import { abortError, EngineError } from "./engine-errors.js";

export interface JobSlotStats {
  active: number;
  queued: number;
  maxActive: number;
  maxQueued: number;
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

  constructor(
    readonly maxActive: number,
    readonly maxQueued: number,
  ) {
    if (!Number.isInteger(maxActive) || maxActive < 1) throw new RangeError(`maxActive must be an integer >= 1, got ${maxActive}`);
    if (!Number.isInteger(maxQueued) || maxQueued < 0) throw new RangeError(`maxQueued must be an integer >= 0, got ${maxQueued}`);
  }

  stats(): JobSlotStats {
    return { active: this.active, queued: this.queue.length, maxActive: this.maxActive, maxQueued: this.maxQueued };
  }

  /** Resolves with a release function once a slot is free. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (this.closed) return Promise.reject(new EngineError("ENGINE_CLOSED", "The model was closed; load it again."));
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.active < this.maxActive) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    if (this.queue.length >= this.maxQueued) {
      return Promise.reject(
        new EngineError(
          "ENGINE_BUSY",
          `All ${this.maxActive} job slots are busy and ${this.queue.length} jobs are already queued; retry later or use another worker.`,
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

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.queue.shift();
      if (next) next.grant(this.releaser());
      else this.active--;
    };
  }
}
