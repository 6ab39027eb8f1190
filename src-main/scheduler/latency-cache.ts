import type { LatencyProbe } from "./scheduler-ports.js";
import type { Clock, Timers } from "../common/index.js";

export interface LatencyCacheOptions {
  ttlMs: number;
  /** How long ranking waits for a probe; a slower answer still fills the cache for the next job. */
  probeTimeoutMs: number;
  maxEntries: number;
}

export const DEFAULT_LATENCY_CACHE: Readonly<LatencyCacheOptions> = { ttlMs: 60_000, probeTimeoutMs: 500, maxEntries: 1024 };

export interface LatencyCache {
  /** Latencies for these peers: cached ones at once, the rest probed in parallel within the timeout. */
  latencies(peerIds: readonly string[]): Promise<Map<string, number | undefined>>;
}

/** Pings are cached (unknown results too, so an unreachable peer is not pinged on every job). */
export function createLatencyCache(probe: LatencyProbe, clock: Clock, timers: Timers, options: LatencyCacheOptions): LatencyCache {
  const cache = new Map<string, { latencyMs: number | undefined; at: number }>();
  const inFlight = new Map<string, Promise<number | undefined>>();

  function remember(peerId: string, latencyMs: number | undefined): void {
    cache.delete(peerId);
    cache.set(peerId, { latencyMs, at: clock.now() });
    for (const oldest of cache.keys()) {
      if (cache.size <= options.maxEntries) break;
      cache.delete(oldest);
    }
  }

  function measure(peerId: string): Promise<number | undefined> {
    let pending = inFlight.get(peerId);
    if (!pending) {
      pending = Promise.resolve()
        .then(() => probe.latencyMs(peerId))
        .then(
          (ms) => (ms !== undefined && Number.isFinite(ms) && ms >= 0 ? ms : undefined),
          () => undefined,
        )
        .then((ms) => {
          inFlight.delete(peerId);
          remember(peerId, ms);
          return ms;
        });
      inFlight.set(peerId, pending);
    }
    return pending;
  }

  return {
    async latencies(peerIds) {
      const now = clock.now();
      const result = new Map<string, number | undefined>();
      const toProbe: string[] = [];
      for (const peerId of peerIds) {
        const entry = cache.get(peerId);
        if (entry && now - entry.at < options.ttlMs) result.set(peerId, entry.latencyMs);
        else toProbe.push(peerId);
      }
      if (toProbe.length === 0) return result;
      let timer: unknown;
      const timeout = new Promise<void>((resolve) => (timer = timers.setTimeout(resolve, options.probeTimeoutMs)));
      await Promise.race([Promise.all(toProbe.map(async (peerId) => result.set(peerId, await measure(peerId)))), timeout]);
      timers.clearTimeout(timer);
      // A map filled by probes that land after the race is returned too late to matter; copy what is in.
      return new Map([...toProbe.map((peerId): [string, undefined] => [peerId, undefined]), ...result]);
    },
  };
}
