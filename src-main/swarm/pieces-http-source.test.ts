import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPiece, type PieceSpan } from "../models/index.js";
import { createHttpPieceSource } from "./pieces-http-source.js";

const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 13) & 0xff);
const spans: PieceSpan[] = [0, 1, 2, 3].map((index) => {
  const offset = index * 256;
  const length = Math.min(256, data.byteLength - offset);
  return { part: 0, offset, length, sha256: hashPiece(data.subarray(offset, offset + length)) };
});

describe("HTTP piece source", () => {
  let server: http.Server;
  let base: string;

  beforeAll(async () => {
    server = http.createServer((request, response) => {
      const range = /^bytes=(\d+)-(\d+)$/.exec(request.headers.range ?? "");
      if (request.url === "/no-ranges" || !range) {
        response.writeHead(200, { "content-length": data.byteLength }).end(Buffer.from(data));
        return;
      }
      const start = Number(range[1]);
      const end = Number(range[2]);
      if (request.url === "/truncated") {
        response.writeHead(206, { "content-length": end - start + 1 });
        response.write(Buffer.from(data.subarray(start, start + 10)));
        response.destroy();
        return;
      }
      response.writeHead(206, { "content-length": end - start + 1 }).end(Buffer.from(data.subarray(start, end + 1)));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("fetches pieces with range requests, the short last one included", async () => {
    const source = createHttpPieceSource({ urls: [`${base}/model.gguf`], spans });
    expect(Buffer.from(await source.fetchPiece(1, AbortSignal.timeout(5_000)))).toEqual(Buffer.from(data.subarray(256, 512)));
    expect((await source.fetchPiece(3, AbortSignal.timeout(5_000))).byteLength).toBe(1000 - 768);
  });

  it("fails a server that ignores ranges instead of downloading the whole file", async () => {
    const source = createHttpPieceSource({ urls: [`${base}/no-ranges`], spans });
    await expect(source.fetchPiece(0, AbortSignal.timeout(5_000))).rejects.toMatchObject({ code: "PIECES_SOURCE_FAILED", retryable: false });
  });

  it("fails a truncated transfer as retryable", async () => {
    const source = createHttpPieceSource({ urls: [`${base}/truncated`], spans });
    await expect(source.fetchPiece(0, AbortSignal.timeout(5_000))).rejects.toMatchObject({ retryable: true });
  });
});
