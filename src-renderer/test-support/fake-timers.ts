import type { Timers } from "../api/bridge-transport.js";

/** Timers a test advances by hand; records every delay asked for. */
export function createManualTimers() {
  let now = 0;
  let nextId = 1;
  const pending = new Map<number, { at: number; callback: () => void }>();
  const delays: number[] = [];
  const timers: Timers = {
    setTimeout(callback, ms) {
      const id = nextId++;
      delays.push(ms);
      pending.set(id, { at: now + ms, callback });
      return id;
    },
    clearTimeout(handle) {
      pending.delete(handle as number);
    },
  };
  return {
    timers,
    delays,
    pendingCount: () => pending.size,
    /** Runs every timer due within `ms`, in order. */
    advance(ms: number) {
      const until = now + ms;
      for (;;) {
        const due = [...pending].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        pending.delete(due[0]);
        now = due[1].at;
        due[1].callback();
      }
      now = until;
    },
  };
}
