import type { Connection, Stream } from "@libp2p/interface";
import { canonicalJson, type Logger } from "../common/index.js";
import type { ModelManifest } from "../models/index.js";
import { createPiecesFrames, type PiecesFrames } from "./pieces-frames.js";
import { PIECES_LIMITS, PIECES_PROTOCOL_ID, piecesRequestSchema, type PiecesRequest } from "./pieces-protocol.js";
import { createTokenBucket, createUploadSlots, type BucketTime, type UploadCaps } from "./pieces-upload-caps.js";
import { SwarmError } from "./swarm-errors.js";
import type { SwarmLibp2p } from "./swarm-node.js";

/** A model this node can seed: its manifest and a reader of its verified pieces. */
export interface SeededModel {
  readonly manifest: ModelManifest;
  read(index: number): Promise<Uint8Array>;
}

export interface PiecesServerOptions {
  resolve: (root: string) => SeededModel | undefined;
  caps?: Partial<UploadCaps>;
  logger: Logger;
  /** For reputation: a peer sent a malformed or oversized request. */
  onMisbehaviour?: (peerId: string, reason: string) => void;
  idleDeadlineMs?: number;
  frameDeadlineMs?: number;
  /** Tests replace the bucket's clock. */
  time?: BucketTime;
}

export interface PiecesServerStats {
  activeUploads: number;
  bytesSent: number;
  piecesSent: number;
  /** Sessions refused at the concurrent-upload cap. */
  refusedBusy: number;
}

export interface PiecesServer {
  stats(): PiecesServerStats;
  /** The owner changed the caps (applies to new chunks and new sessions). */
  setCaps(caps: Partial<UploadCaps>): void;
  stop(): Promise<void>;
}

/** The seeder's side of /inferswarm/pieces/1.0.0, with the owner's upload caps. */
export async function registerPiecesHandler(node: SwarmLibp2p, options: PiecesServerOptions): Promise<PiecesServer> {
  const logger = options.logger.child({ module: "swarm", component: "pieces-server" });
  const idleDeadlineMs = options.idleDeadlineMs ?? PIECES_LIMITS.idleDeadlineMs;
  const frameDeadlineMs = options.frameDeadlineMs ?? PIECES_LIMITS.frameDeadlineMs;
  const bucket = createTokenBucket({ bytesPerSecond: options.caps?.maxUploadBytesPerSecond, time: options.time });
  const slots = createUploadSlots(options.caps?.maxConcurrentUploads ?? PIECES_LIMITS.defaultMaxConcurrentUploads);
  const stats = { bytesSent: 0, piecesSent: 0, refusedBusy: 0 };
  const sessions = new Set<{ controller: AbortController; done: Promise<void> }>();
  const manifestBytes = new Map<string, Uint8Array>();
  let stopping = false;

  const misbehaved = (peerId: string, reason: string) => {
    logger.warn({ peerId, reason }, "peer misbehaved on the pieces protocol");
    try {
      options.onMisbehaviour?.(peerId, reason);
    } catch (error) {
      logger.error({ err: error }, "onMisbehaviour hook threw");
    }
  };

  const refuse = (frames: PiecesFrames, code: string, message: string, retryable: boolean, signal: AbortSignal) =>
    frames.writeJson({ type: "error", code, message: message.slice(0, 1024), retryable }, { deadlineMs: frameDeadlineMs, signal });

  async function sendBytes(frames: PiecesFrames, bytes: Uint8Array, signal: AbortSignal) {
    for (let at = 0; at < bytes.byteLength; at += PIECES_LIMITS.maxChunkBytes) {
      const chunk = bytes.subarray(at, Math.min(bytes.byteLength, at + PIECES_LIMITS.maxChunkBytes));
      await bucket.take(chunk.byteLength, signal);
      await frames.writeBytes(chunk, { deadlineMs: frameDeadlineMs, signal });
      stats.bytesSent += chunk.byteLength;
    }
  }

  async function answer(frames: PiecesFrames, request: PiecesRequest, peerId: string, signal: AbortSignal): Promise<"continue" | "end"> {
    const model = options.resolve(request.root);
    if (!model) {
      await refuse(frames, "PIECES_NOT_HELD", `This node does not hold model ${request.root}; ask another provider.`, true, signal);
      return "continue";
    }
    if (request.type === "manifest") {
      let bytes = manifestBytes.get(request.root);
      if (!bytes) manifestBytes.set(request.root, (bytes = new TextEncoder().encode(canonicalJson(model.manifest))));
      await frames.writeJson({ type: "manifest", bytes: bytes.byteLength }, { deadlineMs: frameDeadlineMs, signal });
      await sendBytes(frames, bytes, signal);
      return "continue";
    }
    const pieceCount = model.manifest.parts.reduce((sum, part) => sum + part.pieces.length, 0);
    if (request.index >= pieceCount) {
      misbehaved(peerId, `asked for piece ${request.index} of ${pieceCount}`);
      await refuse(frames, "PIECES_BAD_REQUEST", `Model ${request.root} has ${pieceCount} pieces; there is no piece ${request.index}.`, false, signal);
      return "end";
    }
    const bytes = await model.read(request.index);
    await frames.writeJson({ type: "piece", index: request.index, bytes: bytes.byteLength }, { deadlineMs: frameDeadlineMs, signal });
    await sendBytes(frames, bytes, signal);
    stats.piecesSent++;
    return "continue";
  }

  async function serve(frames: PiecesFrames, peerId: string, signal: AbortSignal) {
    for (;;) {
      let request: PiecesRequest;
      try {
        request = await frames.readJson(piecesRequestSchema, { deadlineMs: idleDeadlineMs, signal });
      } catch (error) {
        // The fetcher closing its side (or going quiet) ends the session; anything else is a bad request.
        if (error instanceof SwarmError && (error.code === "SWARM_NO_END" || error.code === "SWARM_STALLED" || error.code === "SWARM_ABORTED")) return;
        misbehaved(peerId, `pieces request: ${error instanceof SwarmError ? error.code : "invalid"}`);
        await refuse(frames, "PIECES_BAD_REQUEST", `The request was refused: ${error instanceof Error ? error.message : String(error)}`, false, signal).catch(() => undefined);
        return;
      }
      if ((await answer(frames, request, peerId, signal)) === "end") return;
    }
  }

  async function handle(stream: Stream, connection: Connection) {
    const peerId = connection.remotePeer.toString();
    // Requests are tiny: a longer frame is refused before it is read.
    const frames = createPiecesFrames(stream, { maxFrameBytes: PIECES_LIMITS.maxRequestFrameBytes });
    const controller = new AbortController();
    if (stopping) {
      await refuse(frames, "PIECES_SHUTTING_DOWN", "This node is shutting down; ask another provider.", true, controller.signal).catch(() => undefined);
      return frames.close();
    }
    const release = slots.tryAcquire();
    if (!release) {
      stats.refusedBusy++;
      await refuse(frames, "PIECES_BUSY", "This node is at its upload cap; ask another provider.", true, controller.signal).catch(() => undefined);
      return frames.close();
    }
    let settle!: () => void;
    const session = { controller, done: new Promise<void>((resolve) => (settle = resolve)) };
    sessions.add(session);
    try {
      await serve(frames, peerId, controller.signal);
      await frames.close();
    } catch (error) {
      if (!controller.signal.aborted && !(error instanceof SwarmError)) logger.error({ err: error, peerId }, "serving pieces failed");
      frames.abort("the pieces session failed");
    } finally {
      release();
      sessions.delete(session);
      settle();
    }
  }

  await node.handle(
    PIECES_PROTOCOL_ID,
    (stream, connection) =>
      handle(stream, connection).catch((error: unknown) => {
        logger.error({ err: error }, "pieces handler failed");
        stream.abort(error instanceof Error ? error : new Error(String(error)));
      }),
    { maxInboundStreams: PIECES_LIMITS.maxInboundStreams, maxOutboundStreams: PIECES_LIMITS.maxOutboundStreams },
  );

  return {
    stats: () => ({ activeUploads: slots.active(), ...stats }),
    setCaps(caps) {
      if (caps.maxConcurrentUploads !== undefined) slots.setLimit(caps.maxConcurrentUploads);
      if ("maxUploadBytesPerSecond" in caps) bucket.setRate(caps.maxUploadBytesPerSecond);
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      await node.unhandle(PIECES_PROTOCOL_ID).catch(() => undefined);
      const open = [...sessions];
      for (const session of open) session.controller.abort(new Error("the seeder is shutting down"));
      await Promise.all(open.map((session) => session.done));
    },
  };
}
