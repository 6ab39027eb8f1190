import type { Clock, TimerHandle, Timers } from "../common/index.js";
import type { IdleListener, IdleReading, IdleSource } from "../policy/index.js";

/** What the core assumes when the shell's readings stop: someone is at the machine. */
export const OWNER_PRESENT: IdleReading = Object.freeze({ idleSeconds: 0, locked: false, suspended: false });

export interface RemoteIdleSource extends IdleSource {
  /** A reading from the shell (Electron's powerMonitor), received over the utilityProcess port. */
  push(reading: IdleReading): void;
}

export interface RemoteIdleSourceOptions {
  clock: Clock;
  timers: Timers;
  /** A reading older than this no longer counts; the shell sends one every few seconds. */
  staleAfterMs?: number;
}

/**
 * The policy's idle source inside Electron's utilityProcess, fed by the shell. Decision: when no reading
 * has arrived for `staleAfterMs` (the shell hung, or none came yet), the owner counts as present. Their
 * use of the machine wins when in doubt; a wrong "idle" would start jobs under someone playing a game.
 * Between readings the idle time grows with the clock: the shell pushes at once when the owner returns.
 */
export function createRemoteIdleSource(options: RemoteIdleSourceOptions): RemoteIdleSource {
  const { clock, timers } = options;
  const staleAfterMs = options.staleAfterMs ?? 20_000;
  const listeners = new Set<IdleListener>();
  let last: { reading: IdleReading; at: number } | undefined;
  let staleTimer: TimerHandle | undefined;
  let closed = false;

  const notify = (reading: IdleReading) => {
    for (const listener of listeners) listener(reading);
  };

  const current = (): IdleReading => {
    if (!last) return OWNER_PRESENT;
    const age = clock.now() - last.at;
    if (age > staleAfterMs) return OWNER_PRESENT;
    return { ...last.reading, idleSeconds: last.reading.idleSeconds + Math.max(0, age) / 1000 };
  };

  return {
    read: () => Promise.resolve(current()),
    push(reading) {
      if (closed) return;
      last = { reading: { ...reading }, at: clock.now() };
      if (staleTimer !== undefined) timers.clearTimeout(staleTimer);
      // Tell the policy as soon as the readings stop, not at its next poll.
      staleTimer = timers.setTimeout(() => {
        staleTimer = undefined;
        if (!closed) notify(current());
      }, staleAfterMs + 1);
      notify(current());
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      closed = true;
      if (staleTimer !== undefined) timers.clearTimeout(staleTimer);
      listeners.clear();
    },
  };
}
