import { z } from "zod";
import { InferSwarmError } from "../common/index.js";
import { MANIFEST_LIMITS } from "../models/index.js";
import { errorFrameSchema } from "./job-protocol.js";

/**
 * The pieces protocol: a fetcher opens one stream per seeding peer and sends requests on it, several
 * ahead (pipelined); the seeder answers them in order. Each answer is a JSON header frame, then the
 * bytes it announces as binary frames of at most `maxChunkBytes`, or a JSON error frame. The fetcher
 * closes its side when done; a seeder closes a session idle for `idleDeadlineMs`.
 */
export const PIECES_PROTOCOL_ID = "/inferswarm/pieces/1.0.0";

export const PIECES_LIMITS = {
  /** Binary frames carry at most this much; JSON frames are far smaller. */
  maxChunkBytes: 1024 * 1024,
  maxRequestFrameBytes: 1024,
  /** A seeder waits this long for the next request on an open session. */
  idleDeadlineMs: 30_000,
  /** Longest wait for any one frame of an answer (a throttled seeder sends chunks in time). */
  frameDeadlineMs: 20_000,
  /** Requests a fetcher keeps outstanding on one session. */
  maxPipelined: 4,
  maxInboundStreams: 64,
  maxOutboundStreams: 64,
  defaultMaxConcurrentUploads: 4,
} as const;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "must be a lowercase hex sha256");

export const piecesRequestSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("manifest"), root: sha256Hex }),
  z.strictObject({ type: z.literal("piece"), root: sha256Hex, index: z.number().int().nonnegative().max(MANIFEST_LIMITS.maxPieces) }),
]);

export const piecesAnswerSchema = z.discriminatedUnion("type", [
  /** The manifest's canonical JSON follows in `bytes` bytes of binary frames. */
  z.strictObject({ type: z.literal("manifest"), bytes: z.number().int().positive().max(MANIFEST_LIMITS.maxManifestBytes) }),
  z.strictObject({ type: z.literal("piece"), index: z.number().int().nonnegative(), bytes: z.number().int().positive().max(MANIFEST_LIMITS.maxPieceBytes) }),
  errorFrameSchema,
]);

export type PiecesRequest = z.infer<typeof piecesRequestSchema>;
export type PiecesAnswer = z.infer<typeof piecesAnswerSchema>;

export type PiecesErrorCode =
  /** The seeder is at its concurrent-upload cap: try another. */
  | "PIECES_BUSY"
  /** The seeder does not hold that model (or stopped holding it). */
  | "PIECES_NOT_HELD"
  | "PIECES_BAD_REQUEST"
  /** A piece that failed its hash or length: the sender lied or its disk is bad. */
  | "PIECES_BAD_PIECE"
  /** A source failed in transport (closed, stalled, HTTP error): its pieces go elsewhere. */
  | "PIECES_SOURCE_FAILED"
  /** Pieces are still missing and no source is left that could give them. */
  | "PIECES_NO_SOURCES"
  /** No peer gave a manifest matching the root. */
  | "PIECES_NO_MANIFEST"
  | "PIECES_SHUTTING_DOWN"
  /** This node is already fetching that model. */
  | "PIECES_ALREADY_FETCHING"
  | "PIECES_ABORTED";

export class PiecesError extends InferSwarmError {
  declare readonly code: PiecesErrorCode;
  readonly retryable: boolean;

  constructor(code: PiecesErrorCode, message: string, options: { retryable: boolean; cause?: unknown }) {
    super(code, message, { cause: options.cause });
    this.retryable = options.retryable;
  }
}
