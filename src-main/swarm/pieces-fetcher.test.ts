import { describe, expect, it } from "vitest";
import { hashPiece, type PieceSpan } from "../models/index.js";
import { fetchPieces, type PieceFetchEvent } from "./pieces-fetcher.js";
import { PiecesError } from "./pieces-protocol.js";
import type { PieceSource } from "./pieces-sources.js";

const PIECE = 16;
const data = Uint8Array.from({ length: PIECE * 20 + 5 }, (_, i) => (i * 7 + 3) & 0xff);
const spans: PieceSpan[] = Array.from({ length: Math.ceil(data.byteLength / PIECE) }, (_, index) => {
  const offset = index * PIECE;
  const length = Math.min(PIECE, data.byteLength - offset);
  return { part: 0, offset, length, sha256: hashPiece(data.subarray(offset, offset + length)) };
});
const all = spans.map((_, index) => index);
const pieceOf = (index: number) => data.slice(spans[index]!.offset, spans[index]!.offset + spans[index]!.length);

function source(id: string, behave: (index: number, call: number) => Uint8Array | Error = pieceOf, parallelism = 2): PieceSource & { calls: number[]; closed: boolean } {
  const calls: number[] = [];
  const made = {
    id,
    kind: "peer" as const,
    parallelism,
    calls,
    closed: false,
    async fetchPiece(index: number) {
      calls.push(index);
      await new Promise((resolve) => setImmediate(resolve));
      const result = behave(index, calls.length);
      if (result instanceof Error) throw result;
      return result;
    },
    async close() {
      made.closed = true;
    },
  };
  return made;
}

async function run(sources: PieceSource[], extra: Partial<Parameters<typeof fetchPieces>[0]> = {}) {
  const stored = new Map<number, Uint8Array>();
  const events: PieceFetchEvent[] = [];
  const penalized: string[] = [];
  const summary = await fetchPieces({
    spans,
    missing: all,
    sources,
    store: async (index, bytes) => void stored.set(index, bytes),
    onEvent: (event) => events.push(event),
    onSourcePenalized: (id) => penalized.push(id),
    progressIntervalMs: 0,
    ...extra,
  });
  return { stored, events, penalized, summary };
}

const assemble = (stored: Map<number, Uint8Array>) => Buffer.concat(all.map((index) => stored.get(index)!));

describe("fetchPieces", () => {
  it("spreads the pieces over every source and stores each verified piece once", async () => {
    const a = source("a");
    const b = source("b");
    const { stored, summary, events } = await run([a, b]);
    expect(assemble(stored)).toEqual(Buffer.from(data));
    expect(a.calls.length).toBeGreaterThan(0);
    expect(b.calls.length).toBeGreaterThan(0);
    expect(a.calls.length + b.calls.length).toBe(spans.length);
    expect(summary.bytesFetched).toBe(data.byteLength);
    expect(a.closed && b.closed).toBe(true);
    const last = events.filter((event) => event.type === "progress").at(-1);
    expect(last).toMatchObject({ progress: { bytesDone: data.byteLength, piecesDone: spans.length, piecesTotal: spans.length } });
  });

  it("throws away a lying source's pieces, bans it after two, and gets them elsewhere", async () => {
    const liar = source("liar", (index) => {
      const bytes = pieceOf(index);
      bytes[0] = bytes[0]! ^ 1;
      return bytes;
    });
    const honest = source("honest");
    const { stored, penalized, events, summary } = await run([liar, honest]);
    expect(assemble(stored)).toEqual(Buffer.from(data));
    expect(penalized).toEqual(["liar", "liar"]);
    expect(summary.piecesRejected).toBeGreaterThanOrEqual(2);
    expect(events).toContainEqual(expect.objectContaining({ type: "source-retired", sourceId: "liar", banned: true }));
    expect(summary.bytesBySource.liar).toBeUndefined();
  });

  it("never asks the same source again for a piece it lied about", async () => {
    // Lies about piece 3 only: with a high ban threshold, it keeps serving the rest.
    const picky = source("picky", (index) => (index === 3 ? new Uint8Array(PIECE) : pieceOf(index)), 1);
    const other = source("other", pieceOf, 1);
    const { stored } = await run([picky, other], { maxBadPiecesPerSource: 5, missing: [3, 4, 5, 6] });
    expect(Buffer.from(stored.get(3)!)).toEqual(Buffer.from(pieceOf(3)));
    expect(picky.calls.filter((index) => index === 3)).toHaveLength(1);
    expect(other.calls).toContain(3);
  });

  it("retries a flaky source and retires one that keeps failing", async () => {
    const flaky = source("flaky", (index, call) => (call % 3 === 1 ? new PiecesError("PIECES_SOURCE_FAILED", "reset", { retryable: true }) : pieceOf(index)));
    const dead = source("dead", () => new PiecesError("PIECES_SOURCE_FAILED", "gone", { retryable: true }));
    const { stored, events } = await run([flaky, dead]);
    expect(assemble(stored)).toEqual(Buffer.from(data));
    expect(events).toContainEqual(expect.objectContaining({ type: "source-retired", sourceId: "dead", banned: false }));
  });

  it("fails clearly, keeping what it stored, when no source can give the rest", async () => {
    const partial = source("partial", (index) => (index < 5 ? pieceOf(index) : new PiecesError("PIECES_NOT_HELD", "not held", { retryable: true })));
    const stored = new Map<number, Uint8Array>();
    await expect(fetchPieces({ spans, missing: all, sources: [partial], store: async (index, bytes) => void stored.set(index, bytes) })).rejects.toMatchObject({ code: "PIECES_NO_SOURCES" });
    expect(stored.size).toBeGreaterThan(0);
  });

  it("ends the whole fetch with the store's error (a full disk)", async () => {
    const full = Object.assign(new Error("disk full"), { code: "MODEL_STORE_DISK_FULL" });
    let writes = 0;
    await expect(
      fetchPieces({
        spans,
        missing: all,
        sources: [source("a"), source("b")],
        store: async () => {
          if (++writes > 3) throw full;
        },
      }),
    ).rejects.toBe(full);
  });

  it("stops on abort with PIECES_ABORTED", async () => {
    const controller = new AbortController();
    const slow = source("slow", (index, call) => {
      if (call >= 3) controller.abort();
      return pieceOf(index);
    });
    await expect(run([slow], { signal: controller.signal })).rejects.toMatchObject({ code: "PIECES_ABORTED" });
  });

  it("fetches only the missing pieces", async () => {
    const a = source("a");
    const stored = new Map<number, Uint8Array>();
    await fetchPieces({ spans, missing: [2, 7], sources: [a], store: async (index, bytes) => void stored.set(index, bytes) });
    expect([...stored.keys()].sort()).toEqual([2, 7]);
    expect(a.calls.sort()).toEqual([2, 7]);
  });
});
