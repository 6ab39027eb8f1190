import type { Clock, Timers } from "./clock.js";

/**
 * A clock and timers that move only when a test says so: modules take `Clock` and `Timers` through their
 * factories, and their tests drive them with this instead of waiting.
 */
export interface FakeTime {
  clock: Clock;
  timers: Timers;
  /** Moves time forward, firing due timers in order and letting the work they start settle. */
  advance(ms: number): Promise<void>;
  pendingTimers(): number;
}

/** Lets every promise chain already started run to its end (all of them are microtasks here). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export function createFakeTime(startMs = 1_700_000_000_000): FakeTime {
  let now = startMs;
  let nextId = 1;
  const pending = new Map<number, { at: number; callback: () => void }>();
  return {
    clock: { now: () => now },
    timers: {
      setTimeout(callback, ms) {
        const id = nextId++;
        pending.set(id, { at: now + Math.max(0, ms), callback });
        return id;
      },
      clearTimeout(handle) {
        pending.delete(handle as number);
      },
    },
    async advance(ms) {
      const until = now + ms;
      await settle();
      for (let fired = 0; fired < 100_000; fired++) {
        let due: [number, { at: number; callback: () => void }] | undefined;
        for (const entry of pending) if (entry[1].at <= until && (!due || entry[1].at < due[1].at)) due = entry;
        if (!due) break;
        pending.delete(due[0]);
        now = due[1].at;
        due[1].callback();
        await settle();
      }
      now = until;
      await settle();
    },
    pendingTimers: () => pending.size,
  };
}
