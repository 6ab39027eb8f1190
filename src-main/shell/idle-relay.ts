import type { TimerHandle, Timers } from "../common/index.js";
import type { IdleReading, IdleSource } from "../policy/index.js";

/**
 * Sends Electron's presence readings to the core: every change at once (the owner came back, lock,
 * sleep) and a heartbeat every `intervalMs`, which the core's RemoteIdleSource needs to trust them (it
 * counts the owner present when the heartbeat stops).
 */
export function createIdleRelay(options: { source: IdleSource; send(reading: IdleReading): void; timers: Timers; intervalMs?: number }): { close(): void } {
  const { source, timers } = options;
  const intervalMs = options.intervalMs ?? 5_000;
  let timer: TimerHandle | undefined;
  let closed = false;

  const send = (reading: IdleReading) => {
    if (!closed) options.send(reading);
  };
  const unsubscribe = source.onChange(send);
  const beat = () => {
    if (closed) return;
    source.read().then(send, () => {
      // A failed read sends nothing: the core's staleness rule then errs on the owner's side.
    });
    timer = timers.setTimeout(beat, intervalMs);
  };
  beat();

  return {
    close() {
      closed = true;
      unsubscribe();
      if (timer !== undefined) timers.clearTimeout(timer);
    },
  };
}
