import type { Stream } from "@libp2p/interface";
import { lpStream, type LengthPrefixedStream } from "@libp2p/utils";
import type { z } from "zod";
import { JOB_LIMITS } from "./job-protocol.js";
import { SwarmError } from "./swarm-errors.js";

export interface ReadFrameOptions {
  /** Longest wait for the whole frame; past it the peer is stalled. */
  deadlineMs: number;
  signal?: AbortSignal;
}

export interface WriteFrameOptions {
  /** Longest wait for the peer to take the frame (backpressure); past it the peer is stalled. */
  deadlineMs?: number;
  signal?: AbortSignal;
}

/** JSON frames in unsigned-varint length-prefixed messages over one libp2p stream. */
export interface FrameStream {
  readonly stream: Stream;
  readFrame<S extends z.ZodType>(schema: S, options: ReadFrameOptions): Promise<z.infer<S>>;
  writeFrame(frame: unknown, options?: WriteFrameOptions): Promise<void>;
  /** Closes our writing side gracefully (after queued frames are sent). Never throws. */
  close(options?: { deadlineMs?: number }): Promise<void>;
  /** Resets the stream at once: the peer sees it end without an end frame. */
  abort(reason: string): void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function createFrameStream(stream: Stream, options: { maxFrameBytes?: number } = {}): FrameStream {
  const maxFrameBytes = options.maxFrameBytes ?? JOB_LIMITS.maxFrameBytes;
  // The read buffer holds frames not yet read: a few frames' worth, beyond which the peer is flooding.
  const lp: LengthPrefixedStream<Stream> = lpStream(stream, { maxDataLength: maxFrameBytes, maxBufferSize: Math.max(4 * 1024 * 1024, 4 * maxFrameBytes) });

  async function readBytes(options: ReadFrameOptions): Promise<Uint8Array> {
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), options.deadlineMs);
    const signal = options.signal ? AbortSignal.any([options.signal, deadline.signal]) : deadline.signal;
    try {
      return (await lp.read({ signal })).subarray();
    } catch (error) {
      if (options.signal?.aborted) throw new SwarmError("SWARM_ABORTED", "Reading from the peer was cancelled by the caller.", { retryable: false, cause: error });
      if (deadline.signal.aborted) {
        throw new SwarmError("SWARM_STALLED", `The peer sent no complete frame for ${options.deadlineMs} ms; it is stalled or overloaded, try another peer.`, { retryable: true, cause: error });
      }
      throw translateReadError(error, maxFrameBytes);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    stream,
    async readFrame(schema, options) {
      const bytes = await readBytes(options);
      let value: unknown;
      try {
        value = JSON.parse(decoder.decode(bytes));
      } catch (error) {
        throw new SwarmError("SWARM_BAD_FRAME", `The peer sent a frame of ${bytes.byteLength} bytes that is not UTF-8 JSON; it does not speak this protocol version.`, { retryable: true, cause: error });
      }
      const parsed = schema.safeParse(value);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue && issue.path.length > 0 ? ` at ${issue.path.join(".")}` : "";
        throw new SwarmError("SWARM_BAD_FRAME", `The peer sent a frame that breaks the protocol schema${where}: ${issue?.message ?? "invalid"}.`, { retryable: true, cause: parsed.error });
      }
      return parsed.data;
    },
    async writeFrame(frame, options = {}) {
      const bytes = encoder.encode(JSON.stringify(frame));
      if (bytes.byteLength > maxFrameBytes) {
        // Our own bug (a frame the peer would refuse), so not retryable on another peer.
        throw new SwarmError("SWARM_FRAME_TOO_LARGE", `A frame of ${bytes.byteLength} bytes exceeds the ${maxFrameBytes}-byte limit; send less per frame.`, { retryable: false });
      }
      const deadline = new AbortController();
      const timer = options.deadlineMs === undefined ? undefined : setTimeout(() => deadline.abort(), options.deadlineMs);
      const signal = options.signal ? AbortSignal.any([options.signal, deadline.signal]) : deadline.signal;
      try {
        await lp.write(bytes, { signal });
      } catch (error) {
        if (options.signal?.aborted) throw new SwarmError("SWARM_ABORTED", "Writing to the peer was cancelled by the caller.", { retryable: false, cause: error });
        if (deadline.signal.aborted) {
          throw new SwarmError("SWARM_STALLED", `The peer took no data for ${options.deadlineMs} ms; it is stalled, try another peer.`, { retryable: true, cause: error });
        }
        throw new SwarmError("SWARM_NO_END", `The stream closed while writing (${describe(error)}); the peer went away.`, { retryable: true, cause: error });
      } finally {
        clearTimeout(timer);
      }
    },
    async close(closeOptions = {}) {
      try {
        await stream.close({ signal: AbortSignal.timeout(closeOptions.deadlineMs ?? 5_000) });
      } catch {
        stream.abort(new Error("graceful close timed out"));
      }
    },
    abort(reason) {
      stream.abort(new Error(reason));
    },
  };
}

function translateReadError(error: unknown, maxFrameBytes: number): SwarmError {
  const name = error instanceof Error ? error.name : "";
  switch (name) {
    case "InvalidDataLengthError":
    case "InvalidDataLengthLengthError":
    case "StreamBufferError":
      return new SwarmError("SWARM_FRAME_TOO_LARGE", `The peer announced or sent more than ${maxFrameBytes} bytes in one frame; it is misbehaving.`, { retryable: true, cause: error });
    case "InvalidMessageLengthError":
      return new SwarmError("SWARM_BAD_FRAME", "The peer sent an invalid frame length prefix; it does not speak this protocol.", { retryable: true, cause: error });
    default:
      // UnexpectedEOFError (closed mid-frame or before one), StreamResetError, a closed connection.
      return new SwarmError("SWARM_NO_END", `The stream ended before the expected frame (${describe(error)}); the peer went away or refused the stream.`, { retryable: true, cause: error });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
