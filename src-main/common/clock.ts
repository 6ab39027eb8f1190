/** Time and chance come in through factories, so tests drive them with fakes and never wait. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export type TimerHandle = unknown;

export interface Timers {
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Uniform in [0, 1), like `Math.random`. */
export type RandomSource = () => number;

export const systemClock: Clock = { now: () => Date.now() };

// Looked up at call time, so vitest's fake timers (installed after import) still apply.
export const systemTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Timers for background polling (policy, telemetry): they alone never keep a process alive. */
export const backgroundTimers: Timers = {
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    handle.unref();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export const systemRandom: RandomSource = () => Math.random();
