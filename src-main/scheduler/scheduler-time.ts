/** Time and chance come in through the factory, so tests drive them with fakes and never wait. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Uniform in [0, 1), like `Math.random`. */
export type RandomSource = () => number;

export const systemClock: Clock = { now: () => Date.now() };

// Looked up at call time, so vitest's fake timers (installed after import) still apply. Not unref'd:
// a timer here belongs to a job somebody is waiting for.
export const systemTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export const systemRandom: RandomSource = () => Math.random();
