import type { Clock, RandomSource } from "../common/index.js";

export interface BackoffOptions {
  /** The first failure's delay; each further consecutive failure doubles it. */
  baseMs: number;
  maxMs: number;
  /** A delay is drawn from [delay × (1 − jitter), delay], so peers failed together do not return together. */
  jitter: number;
  /** Peers remembered at most; the least recently touched is forgotten first. */
  maxPeers: number;
  /** A busy or paused worker is not broken: it is skipped this long, never longer, and never escalates. */
  busyMs: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = { baseMs: 2000, maxMs: 5 * 60_000, jitter: 0.2, maxPeers: 1024, busyMs: 1000 };

export interface PeerBackoff {
  /** Records a failure and returns the time until which the peer is skipped. */
  failed(peerId: string): number;
  /** Records "full right now" (busy, paused): a short skip that does not count as a failure. */
  busy(peerId: string): number;
  succeeded(peerId: string): void;
  /** When the peer may be tried again, or undefined if it is not backed off now. */
  backedOffUntil(peerId: string): number | undefined;
  size(): number;
}

/**
 * Exponential backoff per peer, bounded in memory (a Map kept in least-recently-touched order). A peer
 * that has behaved for a whole `maxMs` past its last backoff starts again from `baseMs`.
 */
export function createPeerBackoff(options: BackoffOptions, clock: Clock, random: RandomSource): PeerBackoff {
  const peers = new Map<string, { failures: number; until: number }>();

  function remember(peerId: string, entry: { failures: number; until: number }) {
    peers.delete(peerId);
    peers.set(peerId, entry);
    for (const oldest of peers.keys()) {
      if (peers.size <= options.maxPeers) break;
      peers.delete(oldest);
    }
  }

  return {
    busy(peerId) {
      const now = clock.now();
      const previous = peers.get(peerId);
      // A real backoff already running is kept; a busy mark never extends it.
      if (previous && previous.until > now) return previous.until;
      const until = now + options.busyMs;
      remember(peerId, { failures: previous?.failures ?? 0, until });
      return until;
    },
    failed(peerId) {
      const now = clock.now();
      const previous = peers.get(peerId);
      const failures = previous && now - previous.until < options.maxMs ? previous.failures + 1 : 1;
      const delay = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(failures - 1, 30));
      const until = now + Math.round(delay * (1 - options.jitter * random()));
      remember(peerId, { failures, until });
      return until;
    },
    succeeded(peerId) {
      peers.delete(peerId);
    },
    backedOffUntil(peerId) {
      const entry = peers.get(peerId);
      return entry && entry.until > clock.now() ? entry.until : undefined;
    },
    size: () => peers.size,
  };
}
