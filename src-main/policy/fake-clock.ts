import type { Clock, TimerHandle, Timers } from "./clock-and-timers.js";

/** A clock and timers that move only when a test says so (for the policy's own tests). */
export interface FakeTime {
  clock: Clock;
  timers: Timers;
  /** Moves time forward, firing due timers in order and letting the promises they start settle. */
  advance(ms: number): Promise<void>;
  pendingTimers(): number;
}

export function createFakeTime(startMs: number): FakeTime {
  let now = startMs;
  let nextId = 1;
  const pending = new Map<number, { at: number; callback: () => void }>();

  return {
    clock: { now: () => now },
    timers: {
      setTimeout(callback, ms): TimerHandle {
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
      for (;;) {
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

/** Lets every promise chain already started run to its end (they are all microtasks here). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
