import type { PieceSpan } from "../models/index.js";
import { PiecesError } from "./pieces-protocol.js";
import type { PieceSource } from "./pieces-sources.js";

export interface HttpPieceSourceOptions {
  /** One URL per manifest part, in part order (a Hugging Face file URL, a mirror, a LAN server). */
  urls: readonly string[];
  spans: readonly PieceSpan[];
  /** Range requests kept in flight. */
  parallelism?: number;
  /** Longest one range request may take. */
  requestTimeoutMs?: number;
}

/**
 * Pieces from an HTTP(S) copy by range requests (Node's built-in fetch, keep-alive). A server that
 * ignores ranges (200 instead of 206) or sends another length fails the request: the source is retired
 * rather than downloading whole files into memory.
 */
export function createHttpPieceSource(options: HttpPieceSourceOptions): PieceSource {
  const timeoutMs = options.requestTimeoutMs ?? 60_000;
  return {
    id: options.urls[0] ?? "http",
    kind: "http",
    parallelism: options.parallelism ?? 4,
    async fetchPiece(index, signal) {
      const span = options.spans[index];
      const url = span ? options.urls[span.part] : undefined;
      if (!span || !url) throw new PiecesError("PIECES_SOURCE_FAILED", `No HTTP URL for piece ${index}.`, { retryable: false });
      const requestSignal = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
      let response: Response;
      try {
        response = await fetch(url, { headers: { range: `bytes=${span.offset}-${span.offset + span.length - 1}` }, signal: requestSignal, redirect: "follow" });
      } catch (error) {
        if (signal.aborted) throw new PiecesError("PIECES_ABORTED", "The fetch was cancelled.", { retryable: false, cause: error });
        throw new PiecesError("PIECES_SOURCE_FAILED", `${redact(url)} failed: ${error instanceof Error ? error.message : String(error)}`, { retryable: true, cause: error });
      }
      if (response.status !== 206) {
        await response.body?.cancel().catch(() => undefined);
        const retryable = response.status === 429 || response.status >= 500;
        throw new PiecesError("PIECES_SOURCE_FAILED", `${redact(url)} answered ${response.status} to a range request (206 expected).`, { retryable });
      }
      const announced = Number(response.headers.get("content-length") ?? span.length);
      if (announced !== span.length) {
        await response.body?.cancel().catch(() => undefined);
        throw new PiecesError("PIECES_BAD_PIECE", `${redact(url)} announced ${announced} bytes for a ${span.length}-byte range.`, { retryable: true });
      }
      try {
        const body = new Uint8Array(await response.arrayBuffer());
        if (body.byteLength !== span.length) throw new PiecesError("PIECES_BAD_PIECE", `${redact(url)} sent ${body.byteLength} of ${span.length} bytes.`, { retryable: true });
        return body;
      } catch (error) {
        if (error instanceof PiecesError) throw error;
        throw new PiecesError("PIECES_SOURCE_FAILED", `${redact(url)} broke off a range transfer: ${error instanceof Error ? error.message : String(error)}`, { retryable: true, cause: error });
      }
    },
    async close() {},
  };
}

/** URLs can carry tokens in their query: errors and logs name only the origin and path. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return "the HTTP source";
  }
}
