/** Wall-clock time in epoch milliseconds; injected so tests control it. */
export interface Clock {
  now(): number;
}

/** The two timer calls the module needs; injected so tests can drive time. */
export interface Timers {
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = { now: () => Date.now() };

// Looked up at call time, so vitest's fake timers (installed after import) still apply.
export const systemTimers: Timers = {
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
