/**
 * The baseline for bench/fetch, in its own process: node:http serving one file with Range support (as a
 * Hugging Face or mirror download would), printing `{"url"}` on stdout. Loopback only.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { file: { type: "string" } } });
if (!values.file) throw new Error("--file is required");
const file = values.file;
const size = (await stat(file)).size;
const name = path.basename(file);

const server = http.createServer((request, response) => {
  if (request.url !== `/${name}`) {
    response.writeHead(404).end();
    return;
  }
  const range = /^bytes=(\d+)-(\d+)?$/.exec(request.headers.range ?? "");
  if (range) {
    const start = Number(range[1]);
    const end = Math.min(size - 1, range[2] === undefined ? size - 1 : Number(range[2]));
    if (start > end) {
      response.writeHead(416, { "content-range": `bytes */${size}` }).end();
      return;
    }
    response.writeHead(206, { "content-length": end - start + 1, "content-range": `bytes ${start}-${end}/${size}`, "accept-ranges": "bytes" });
    createReadStream(file, { start, end, highWaterMark: 1024 * 1024 }).pipe(response);
    return;
  }
  response.writeHead(200, { "content-length": size, "accept-ranges": "bytes" });
  createReadStream(file, { highWaterMark: 1024 * 1024 }).pipe(response);
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no address");
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${address.port}/${name}` })}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.stdin.on("close", stop);
process.stdin.resume();
