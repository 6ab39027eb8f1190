import { webcrypto } from "node:crypto";
import type { PieceSpan } from "../models/index.js";
import { PiecesError } from "./pieces-protocol.js";
import type { PieceSource } from "./pieces-sources.js";

export interface FetchProgress {
  bytesDone: number;
  bytesTotal: number;
  piecesDone: number;
  piecesTotal: number;
  /** Sources still in use, by kind. */
  peers: number;
  httpSources: number;
  /** Over the last few seconds; 0 before the first piece. */
  bytesPerSecond: number;
  /** Undefined while the rate is unknown. */
  etaSeconds: number | undefined;
}

export type PieceFetchEvent =
  | { type: "progress"; progress: FetchProgress }
  | { type: "piece-rejected"; sourceId: string; index: number; reason: string }
  | { type: "source-retired"; sourceId: string; reason: string; banned: boolean };

export interface FetchPiecesOptions {
  spans: readonly PieceSpan[];
  /** Indexes still to fetch (the others are already verified on disk). */
  missing: readonly number[];
  sources: readonly PieceSource[];
  /** Persists a verified piece; a throw here (a full disk) ends the whole fetch with that error. */
  store: (index: number, bytes: Uint8Array) => Promise<void>;
  onEvent?: (event: PieceFetchEvent) => void;
  /** A source sent a piece that failed verification (feed reputation from here). */
  onSourcePenalized?: (sourceId: string, reason: string) => void;
  /** Bad pieces after which a source is banned for this download. */
  maxBadPiecesPerSource?: number;
  /** Transport failures in a row after which a source is retired. */
  maxFailuresPerSource?: number;
  signal?: AbortSignal;
  now?: () => number;
  progressIntervalMs?: number;
}

export interface FetchPiecesSummary {
  piecesFetched: number;
  bytesFetched: number;
  piecesRejected: number;
  bytesBySource: Record<string, number>;
}

/**
 * Fetches the missing pieces from every source at once: each source runs `parallelism` workers over one
 * shared queue, so faster sources take more pieces. Every piece is checked (length and sha256) before it
 * is stored; a bad one goes back to the queue, barred from that source, which is banned after a few.
 */
export async function fetchPieces(options: FetchPiecesOptions): Promise<FetchPiecesSummary> {
  const now = options.now ?? (() => performance.now());
  const maxBad = options.maxBadPiecesPerSource ?? 2;
  const maxFailures = options.maxFailuresPerSource ?? 3;
  const progressIntervalMs = options.progressIntervalMs ?? 250;
  const spans = options.spans;
  const queue = [...options.missing];
  const inFlight = new Set<number>();
  const barred = new Map<number, Set<string>>();
  const controller = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
  const summary: FetchPiecesSummary = { piecesFetched: 0, bytesFetched: 0, piecesRejected: 0, bytesBySource: {} };
  const bytesTotal = spans.reduce((sum, span) => sum + span.length, 0);
  const missingBytes = options.missing.reduce((sum, index) => sum + (spans[index]?.length ?? 0), 0);
  const state = new Map(options.sources.map((source) => [source.id, { bad: 0, failures: 0, retired: false, source }]));
  let fatal: unknown;
  let waiters: (() => void)[] = [];
  const samples: { at: number; bytes: number }[] = [{ at: now(), bytes: 0 }];
  let lastProgressAt = -Infinity;

  for (const index of options.missing) {
    if (!spans[index]) throw new PiecesError("PIECES_BAD_REQUEST", `Piece ${index} is not in the manifest (${spans.length} pieces).`, { retryable: false });
  }

  const emit = (event: PieceFetchEvent) => {
    try {
      options.onEvent?.(event);
    } catch {
      // A listener's fault must not break the download.
    }
  };
  const notify = () => {
    const woken = waiters;
    waiters = [];
    for (const wake of woken) wake();
  };
  const changed = () => new Promise<void>((resolve) => waiters.push(resolve));

  function progress(force: boolean): void {
    const at = now();
    if (!force && at - lastProgressAt < progressIntervalMs) return;
    lastProgressAt = at;
    samples.push({ at, bytes: summary.bytesFetched });
    while (samples.length > 2 && at - samples[0]!.at > 5_000) samples.shift();
    const first = samples[0]!;
    const seconds = (at - first.at) / 1000;
    const bytesPerSecond = seconds > 0 ? (summary.bytesFetched - first.bytes) / seconds : 0;
    const live = [...state.values()].filter((entry) => !entry.retired);
    const remaining = missingBytes - summary.bytesFetched;
    emit({
      type: "progress",
      progress: {
        bytesDone: bytesTotal - remaining,
        bytesTotal,
        piecesDone: spans.length - (options.missing.length - summary.piecesFetched),
        piecesTotal: spans.length,
        peers: live.filter((entry) => entry.source.kind === "peer").length,
        httpSources: live.filter((entry) => entry.source.kind === "http").length,
        bytesPerSecond,
        etaSeconds: bytesPerSecond > 0 ? remaining / bytesPerSecond : undefined,
      },
    });
  }

  function retire(entry: { retired: boolean; source: PieceSource }, reason: string, banned: boolean) {
    if (entry.retired) return;
    entry.retired = true;
    emit({ type: "source-retired", sourceId: entry.source.id, reason, banned });
    void entry.source.close().catch(() => undefined);
    notify();
  }

  function reject(entry: { bad: number; retired: boolean; source: PieceSource }, index: number, reason: string) {
    summary.piecesRejected++;
    let sources = barred.get(index);
    if (!sources) barred.set(index, (sources = new Set()));
    sources.add(entry.source.id);
    emit({ type: "piece-rejected", sourceId: entry.source.id, index, reason });
    // Pieces still in flight from a banned source were already paid for with the ban.
    if (entry.retired) return;
    entry.bad++;
    try {
      options.onSourcePenalized?.(entry.source.id, reason);
    } catch {
      // Reputation is best effort.
    }
    if (entry.bad >= maxBad) retire(entry, `${entry.bad} pieces failed verification`, true);
  }

  function take(sourceId: string): number | undefined {
    const position = queue.findIndex((index) => !barred.get(index)?.has(sourceId));
    if (position < 0) return undefined;
    return queue.splice(position, 1)[0];
  }

  async function worker(entry: { bad: number; failures: number; retired: boolean; source: PieceSource }) {
    const { source } = entry;
    while (!entry.retired && !signal.aborted) {
      const index = take(source.id);
      if (index === undefined) {
        // Nothing for us now; pieces in flight elsewhere may still come back to the queue.
        if (inFlight.size === 0) return;
        await changed();
        continue;
      }
      const span = spans[index]!;
      inFlight.add(index);
      let bytes: Uint8Array;
      try {
        bytes = await source.fetchPiece(index, signal);
      } catch (error) {
        inFlight.delete(index);
        queue.unshift(index);
        notify();
        if (signal.aborted) return;
        if (error instanceof PiecesError && error.code === "PIECES_BAD_PIECE") {
          reject(entry, index, error.message);
          continue;
        }
        entry.failures++;
        const retryable = !(error instanceof PiecesError) || error.retryable;
        const busy = error instanceof PiecesError && (error.code === "PIECES_BUSY" || error.code === "PIECES_NOT_HELD");
        if (!retryable || busy || entry.failures >= maxFailures) retire(entry, error instanceof Error ? error.message : String(error), false);
        else await new Promise((resolve) => setTimeout(resolve, 100 * entry.failures));
        continue;
      }
      if (bytes.byteLength !== span.length || (await digestHex(bytes)) !== span.sha256) {
        inFlight.delete(index);
        queue.unshift(index);
        reject(entry, index, `piece ${index} failed verification (${bytes.byteLength} bytes, hash mismatch)`);
        notify();
        continue;
      }
      try {
        await options.store(index, bytes);
      } catch (error) {
        fatal ??= error;
        controller.abort(error);
        notify();
        return;
      }
      inFlight.delete(index);
      entry.failures = 0;
      summary.piecesFetched++;
      summary.bytesFetched += span.length;
      summary.bytesBySource[source.id] = (summary.bytesBySource[source.id] ?? 0) + span.length;
      progress(false);
      notify();
    }
  }

  signal.addEventListener("abort", notify, { once: true });
  progress(true);
  try {
    await Promise.all([...state.values()].flatMap((entry) => Array.from({ length: Math.max(1, entry.source.parallelism) }, () => worker(entry))));
  } finally {
    await Promise.all(options.sources.map((source) => source.close().catch(() => undefined)));
  }
  if (fatal !== undefined) throw fatal;
  if (options.signal?.aborted) throw new PiecesError("PIECES_ABORTED", "The download was cancelled; fetching again resumes it.", { retryable: false, cause: options.signal.reason });
  progress(true);
  const left = options.missing.length - summary.piecesFetched;
  if (left > 0) {
    throw new PiecesError("PIECES_NO_SOURCES", `${left} of ${spans.length} pieces are still missing and no source is left that could give them; fetch again later (verified pieces are kept).`, { retryable: true });
  }
  return summary;
}

/** WebCrypto's digest runs on libuv's thread pool: the event loop keeps decrypting streams meanwhile. */
async function digestHex(bytes: Uint8Array): Promise<string> {
  return Buffer.from(await webcrypto.subtle.digest("SHA-256", bytes)).toString("hex");
}
