import type { PeerId } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import { MANIFEST_LIMITS, parseManifest, pieceSpans, type ModelManifest, type PieceSpan } from "../models/index.js";
import { createPiecesFrames, type PiecesFrames } from "./pieces-frames.js";
import { PIECES_LIMITS, PIECES_PROTOCOL_ID, PiecesError, piecesAnswerSchema } from "./pieces-protocol.js";
import { SwarmError } from "./swarm-errors.js";
import type { SwarmLibp2p } from "./swarm-node.js";

/** Somewhere pieces come from: a seeding peer or an HTTP(S) copy of the file. */
export interface PieceSource {
  /** A peer id or a URL: what penalties and progress name. */
  readonly id: string;
  readonly kind: "peer" | "http";
  /** Requests kept in flight at this source. */
  readonly parallelism: number;
  /** The piece's bytes, unverified (the fetcher checks them). */
  fetchPiece(index: number, signal: AbortSignal): Promise<Uint8Array>;
  close(): Promise<void>;
}

export interface PeerPieceSource extends PieceSource {
  readonly kind: "peer";
  fetchManifest(signal: AbortSignal): Promise<ModelManifest>;
}

export interface PeerSourceOptions {
  root: string;
  /** Lengths of the pieces, once the manifest is known: an answer of another length is a lie. */
  spans?: readonly PieceSpan[];
  parallelism?: number;
  frameDeadlineMs?: number;
  dialTimeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * One pieces session with a seeding peer. Requests are written ahead (up to `parallelism`) and the
 * answers read in the same order, so a loopback peer streams without a round trip per piece. Any fault
 * breaks the session (the stream's position is lost): every later call fails and the source is retired.
 */
export async function openPeerPieceSource(node: SwarmLibp2p, peerId: string, options: PeerSourceOptions): Promise<PeerPieceSource> {
  const frameDeadlineMs = options.frameDeadlineMs ?? PIECES_LIMITS.frameDeadlineMs;
  const parallelism = Math.min(options.parallelism ?? PIECES_LIMITS.maxPipelined, PIECES_LIMITS.maxPipelined);
  let target: PeerId;
  try {
    target = peerIdFromString(peerId);
  } catch (error) {
    throw new PiecesError("PIECES_SOURCE_FAILED", `"${peerId.slice(0, 80)}" is not a peer id.`, { retryable: false, cause: error });
  }
  let frames: PiecesFrames;
  try {
    const dialSignal = AbortSignal.timeout(options.dialTimeoutMs ?? 10_000);
    const stream = await node.dialProtocol(target, PIECES_PROTOCOL_ID, { signal: options.signal ? AbortSignal.any([options.signal, dialSignal]) : dialSignal });
    // Every pipelined answer may arrive before we read it; the manifest comes alone.
    const unread = Math.max(MANIFEST_LIMITS.maxManifestBytes, parallelism * MANIFEST_LIMITS.maxPieceBytes) + 1024 * 1024;
    frames = createPiecesFrames(stream, { maxFrameBytes: PIECES_LIMITS.maxChunkBytes + 1024, maxBufferBytes: unread });
  } catch (error) {
    throw new PiecesError("PIECES_SOURCE_FAILED", `Could not open a pieces stream to ${peerId}: ${error instanceof Error ? error.message : String(error)}`, { retryable: true, cause: error });
  }

  let spans = options.spans;
  let broken: PiecesError | undefined;
  let writes: Promise<void> = Promise.resolve();
  let reads: Promise<unknown> = Promise.resolve();

  const fail = (error: unknown): PiecesError => {
    const wrapped =
      error instanceof PiecesError
        ? error
        : new PiecesError(
            error instanceof SwarmError && error.code === "SWARM_ABORTED" ? "PIECES_ABORTED" : "PIECES_SOURCE_FAILED",
            `Peer ${peerId} failed: ${error instanceof Error ? error.message : String(error)}`,
            { retryable: true, cause: error },
          );
    if (!broken) {
      broken = wrapped;
      frames.abort(wrapped.message);
    }
    return wrapped;
  };

  /** Reads `bytes` bytes of binary frames. */
  async function readBody(bytes: number, signal: AbortSignal): Promise<Uint8Array> {
    const first = await frames.readBytes({ deadlineMs: frameDeadlineMs, signal });
    if (first.byteLength > bytes || first.byteLength === 0) throw new PiecesError("PIECES_BAD_PIECE", `Peer ${peerId} sent more bytes than it announced.`, { retryable: true });
    // A piece of at most one chunk (the default) is used as it came, without a copy.
    if (first.byteLength === bytes) return first;
    const body = new Uint8Array(bytes);
    body.set(first, 0);
    let at = first.byteLength;
    while (at < bytes) {
      const chunk = await frames.readBytes({ deadlineMs: frameDeadlineMs, signal });
      if (chunk.byteLength === 0 || at + chunk.byteLength > bytes) throw new PiecesError("PIECES_BAD_PIECE", `Peer ${peerId} sent more bytes than it announced.`, { retryable: true });
      body.set(chunk, at);
      at += chunk.byteLength;
    }
    return body;
  }

  /** Queues one request and its answer's read; both run in call order. */
  function exchange<T>(request: unknown, readAnswer: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T> {
    if (broken) return Promise.reject(broken);
    const written = (writes = writes.then(() => {
      if (broken) throw broken;
      return frames.writeJson(request, { deadlineMs: frameDeadlineMs, signal });
    }));
    const answered = reads.then(async () => {
      if (broken) throw broken;
      try {
        await written;
        return await readAnswer(signal);
      } catch (error) {
        throw fail(error);
      }
    });
    writes = written.catch(() => undefined);
    reads = answered.catch(() => undefined);
    return answered;
  }

  async function readHeader(signal: AbortSignal) {
    const header = await frames.readJson(piecesAnswerSchema, { deadlineMs: frameDeadlineMs, signal });
    if (header.type === "error") throw new PiecesError(header.code === "PIECES_BUSY" || header.code === "PIECES_NOT_HELD" ? header.code : "PIECES_SOURCE_FAILED", `Peer ${peerId} refused: ${header.message}`, { retryable: header.retryable });
    return header;
  }

  return {
    id: peerId,
    kind: "peer",
    parallelism,
    fetchManifest(signal) {
      return exchange(
        { type: "manifest", root: options.root },
        async (readSignal) => {
          const header = await readHeader(readSignal);
          if (header.type !== "manifest") throw new PiecesError("PIECES_SOURCE_FAILED", `Peer ${peerId} answered a manifest request with a ${header.type}.`, { retryable: true });
          const body = await readBody(header.bytes, readSignal);
          let manifest: ModelManifest;
          try {
            manifest = parseManifest(JSON.parse(new TextDecoder().decode(body)), options.root);
          } catch (error) {
            throw new PiecesError("PIECES_BAD_PIECE", `Peer ${peerId} sent a manifest that does not match root ${options.root}.`, { retryable: true, cause: error });
          }
          spans ??= pieceSpans(manifest);
          return manifest;
        },
        signal,
      );
    },
    fetchPiece(index, signal) {
      return exchange(
        { type: "piece", root: options.root, index },
        async (readSignal) => {
          const header = await readHeader(readSignal);
          const expected = spans?.[index]?.length;
          if (header.type !== "piece" || header.index !== index || (expected !== undefined && header.bytes !== expected)) {
            throw new PiecesError("PIECES_BAD_PIECE", `Peer ${peerId} answered piece ${index} with ${header.type === "piece" ? `piece ${header.index} of ${header.bytes} bytes` : header.type}.`, { retryable: true });
          }
          return readBody(header.bytes, readSignal);
        },
        signal,
      );
    },
    async close() {
      if (broken) return;
      broken = new PiecesError("PIECES_ABORTED", `The session with ${peerId} was closed.`, { retryable: false });
      await writes;
      await frames.close();
    },
  };
}
