import type { TimerHandle, Timers } from "../common/index.js";
import type { IdleListener, IdleReading, IdleSource } from "../policy/index.js";

type PowerEvent = "lock-screen" | "unlock-screen" | "suspend" | "resume";

/** The part of Electron's `powerMonitor` this source uses; injected so tests pass a fake EventEmitter. */
export interface PowerMonitorLike {
  getSystemIdleTime(): number;
  getSystemIdleState(idleThreshold: number): "active" | "idle" | "locked" | "unknown";
  on(event: PowerEvent, listener: () => void): unknown;
  removeListener(event: PowerEvent, listener: () => void): unknown;
}

export interface ElectronIdleSourceOptions {
  /** Electron's `powerMonitor`, usable only after `app` is ready. */
  powerMonitor: PowerMonitorLike;
  timers: Timers;
  /** How often the idle time is polled to notice the owner coming back. */
  pollMs?: number;
}

/**
 * Presence on a desktop. Electron has no "became idle" or "became active" event, so the idle time is
 * polled and a drop in it (the owner touched the machine) is pushed at once; lock and sleep arrive as
 * events. `lock-screen` fires only on macOS and Windows: on Linux, locking is read from
 * `getSystemIdleState`, which may answer "unknown" (some Wayland setups), hence the other signals.
 */
export function createElectronIdleSource(options: ElectronIdleSourceOptions): IdleSource {
  const { powerMonitor, timers } = options;
  const pollMs = options.pollMs ?? 1000;
  const listeners = new Set<IdleListener>();
  let lockedByEvent = false;
  let suspended = false;
  let lastIdleSeconds = powerMonitor.getSystemIdleTime();
  let timer: TimerHandle | undefined;
  let closed = false;

  const reading = (): IdleReading => {
    const idleSeconds = powerMonitor.getSystemIdleTime();
    lastIdleSeconds = idleSeconds;
    return { idleSeconds, locked: lockedByEvent || powerMonitor.getSystemIdleState(1) === "locked", suspended };
  };

  const emit = (): void => {
    const current = reading();
    for (const listener of listeners) listener(current);
  };

  const handlers: Record<PowerEvent, () => void> = {
    "lock-screen": () => {
      lockedByEvent = true;
      emit();
    },
    "unlock-screen": () => {
      lockedByEvent = false;
      emit();
    },
    suspend: () => {
      suspended = true;
      emit();
    },
    resume: () => {
      suspended = false;
      emit();
    },
  };
  for (const [event, handler] of Object.entries(handlers) as [PowerEvent, () => void][]) powerMonitor.on(event, handler);

  const poll = (): void => {
    if (closed) return;
    const idleSeconds = powerMonitor.getSystemIdleTime();
    const cameBack = idleSeconds < lastIdleSeconds;
    lastIdleSeconds = idleSeconds;
    if (cameBack) emit();
    timer = timers.setTimeout(poll, pollMs);
  };
  timer = timers.setTimeout(poll, pollMs);

  return {
    read: () => Promise.resolve(reading()),
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      closed = true;
      if (timer !== undefined) timers.clearTimeout(timer);
      for (const [event, handler] of Object.entries(handlers) as [PowerEvent, () => void][]) powerMonitor.removeListener(event, handler);
      listeners.clear();
    },
  };
}
