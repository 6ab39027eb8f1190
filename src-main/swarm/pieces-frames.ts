import type { Stream } from "@libp2p/interface";
import { lpStream, type LengthPrefixedStream } from "@libp2p/utils";
import type { z } from "zod";
import { SwarmError } from "./swarm-errors.js";

/**
 * Length-prefixed frames that are either JSON (headers, requests, errors) or raw bytes (piece data).
 * createFrameStream only speaks JSON; base64 in JSON would cost a third more bytes and a parse of every
 * piece, so the pieces protocol reads both kinds from one lpStream, which cannot be shared.
 */
export interface PiecesFrames {
  readJson<S extends z.ZodType>(schema: S, options: { deadlineMs: number; signal?: AbortSignal }): Promise<z.infer<S>>;
  readBytes(options: { deadlineMs: number; signal?: AbortSignal }): Promise<Uint8Array>;
  writeJson(frame: unknown, options: { deadlineMs: number; signal?: AbortSignal }): Promise<void>;
  writeBytes(bytes: Uint8Array, options: { deadlineMs: number; signal?: AbortSignal }): Promise<void>;
  close(): Promise<void>;
  abort(reason: string): void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * `maxBufferBytes` bounds what may arrive unread: a fetcher that pipelines requests must allow every
 * answer it asked for, or the stream is aborted with StreamBufferError.
 */
export function createPiecesFrames(stream: Stream, options: { maxFrameBytes: number; maxBufferBytes?: number }): PiecesFrames {
  const maxBufferSize = options.maxBufferBytes ?? 4 * options.maxFrameBytes + 64 * 1024;
  const lp: LengthPrefixedStream<Stream> = lpStream(stream, { maxDataLength: options.maxFrameBytes, maxBufferSize });

  async function withDeadline<T>(what: "read" | "write", run: (signal: AbortSignal) => Promise<T>, deadlineMs: number, callerSignal?: AbortSignal): Promise<T> {
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), deadlineMs);
    const signal = callerSignal ? AbortSignal.any([callerSignal, deadline.signal]) : deadline.signal;
    try {
      return await run(signal);
    } catch (error) {
      if (callerSignal?.aborted) throw new SwarmError("SWARM_ABORTED", `The ${what} was cancelled by the caller.`, { retryable: false, cause: error });
      if (deadline.signal.aborted) throw new SwarmError("SWARM_STALLED", `The peer ${what === "read" ? "sent" : "took"} no frame for ${deadlineMs} ms; it is stalled, try another peer.`, { retryable: true, cause: error });
      const name = error instanceof Error ? error.name : "";
      if (name === "InvalidDataLengthError" || name === "InvalidDataLengthLengthError" || name === "StreamBufferError") {
        throw new SwarmError("SWARM_FRAME_TOO_LARGE", `The peer sent a frame over ${options.maxFrameBytes} bytes; it is misbehaving.`, { retryable: true, cause: error });
      }
      const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new SwarmError("SWARM_NO_END", `The stream ended during a ${what} (${detail}); the peer went away.`, { retryable: true, cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    async readJson(schema, readOptions) {
      const bytes = await withDeadline("read", async (signal) => (await lp.read({ signal })).subarray(), readOptions.deadlineMs, readOptions.signal);
      let value: unknown;
      try {
        value = JSON.parse(decoder.decode(bytes));
      } catch (error) {
        throw new SwarmError("SWARM_BAD_FRAME", `The peer sent ${bytes.byteLength} bytes where a JSON frame was due; it does not speak this protocol version.`, { retryable: true, cause: error });
      }
      const parsed = schema.safeParse(value);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue && issue.path.length > 0 ? ` at ${issue.path.join(".")}` : "";
        throw new SwarmError("SWARM_BAD_FRAME", `The peer sent a frame that breaks the protocol schema${where}: ${issue?.message ?? "invalid"}.`, { retryable: true, cause: parsed.error });
      }
      return parsed.data;
    },
    readBytes: (readOptions) => withDeadline("read", async (signal) => (await lp.read({ signal })).subarray(), readOptions.deadlineMs, readOptions.signal),
    writeJson: (frame, writeOptions) => withDeadline("write", (signal) => lp.write(encoder.encode(JSON.stringify(frame)), { signal }), writeOptions.deadlineMs, writeOptions.signal),
    writeBytes: (bytes, writeOptions) => withDeadline("write", (signal) => lp.write(bytes, { signal }), writeOptions.deadlineMs, writeOptions.signal),
    async close() {
      try {
        await stream.close({ signal: AbortSignal.timeout(5_000) });
      } catch {
        stream.abort(new Error("graceful close timed out"));
      }
    },
    abort(reason) {
      stream.abort(new Error(reason));
    },
  };
}
