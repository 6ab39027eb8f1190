import type { Stream } from "@libp2p/interface";
import { streamPair } from "@libp2p/utils";
import { afterEach, describe, expect, it } from "vitest";
import { varint } from "./length-prefix.test-support.js";
import { z } from "zod";
import { createFrameStream } from "./frame-stream.js";
import { JOB_LIMITS, workerFrameSchema } from "./job-protocol.js";
import { SwarmError } from "./swarm-errors.js";

const opened: Stream[] = [];

async function pair() {
  const [a, b] = await streamPair();
  opened.push(a, b);
  return { a, b, reader: createFrameStream(b) };
}

afterEach(() => {
  for (const stream of opened.splice(0)) stream.abort(new Error("test over"));
});


function lengthPrefixed(body: Uint8Array): Uint8Array {
  const prefix = varint(body.byteLength);
  const out = new Uint8Array(prefix.byteLength + body.byteLength);
  out.set(prefix, 0);
  out.set(body, prefix.byteLength);
  return out;
}

async function readError(promise: Promise<unknown>): Promise<SwarmError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SwarmError);
  return error as SwarmError;
}

describe("frame stream", () => {
  it("round-trips validated frames in order", async () => {
    const { a, reader } = await pair();
    const writer = createFrameStream(a);
    await writer.writeFrame({ type: "accepted", queuePosition: 0 });
    await writer.writeFrame({ type: "tokens", index: 3, ids: [5, 6], texts: ["a", "b"] });
    expect(await reader.readFrame(workerFrameSchema, { deadlineMs: 2_000 })).toEqual({ type: "accepted", queuePosition: 0 });
    expect(await reader.readFrame(workerFrameSchema, { deadlineMs: 2_000 })).toEqual({ type: "tokens", index: 3, ids: [5, 6], texts: ["a", "b"] });
  });

  it("refuses a length prefix above the limit before reading the body", async () => {
    const { a, reader } = await pair();
    a.send(varint(JOB_LIMITS.maxFrameBytes + 1));
    expect((await readError(reader.readFrame(workerFrameSchema, { deadlineMs: 2_000 }))).code).toBe("SWARM_FRAME_TOO_LARGE");
  });

  it("refuses a frame that is not JSON", async () => {
    const { a, reader } = await pair();
    a.send(lengthPrefixed(new TextEncoder().encode("{not json")));
    expect((await readError(reader.readFrame(workerFrameSchema, { deadlineMs: 2_000 }))).code).toBe("SWARM_BAD_FRAME");
  });

  it("refuses invalid UTF-8", async () => {
    const { a, reader } = await pair();
    a.send(lengthPrefixed(new Uint8Array([0x22, 0xff, 0xfe, 0x22])));
    expect((await readError(reader.readFrame(workerFrameSchema, { deadlineMs: 2_000 }))).code).toBe("SWARM_BAD_FRAME");
  });

  it("refuses JSON that breaks the schema, naming where", async () => {
    const { a, reader } = await pair();
    const writer = createFrameStream(a);
    await writer.writeFrame({ type: "tokens", index: 0, ids: [1, 2], texts: ["x"] });
    await writer.writeFrame({ type: "accepted", queuePosition: -1 });
    await writer.writeFrame({ type: "surprise" });
    for (let i = 0; i < 3; i++) expect((await readError(reader.readFrame(workerFrameSchema, { deadlineMs: 2_000 }))).code).toBe("SWARM_BAD_FRAME");
  });

  it("reports a stalled peer when no whole frame arrives in time", async () => {
    const { a, reader } = await pair();
    // Half a frame: the prefix promises 10 bytes, 3 arrive.
    a.send(lengthPrefixed(new TextEncoder().encode("{\"a\":12345}")).subarray(0, 4));
    const error = await readError(reader.readFrame(z.unknown(), { deadlineMs: 150 }));
    expect(error.code).toBe("SWARM_STALLED");
    expect(error.retryable).toBe(true);
  });

  it("reports a stream that ends before a frame", async () => {
    const { a, reader } = await pair();
    await a.close();
    expect((await readError(reader.readFrame(workerFrameSchema, { deadlineMs: 2_000 }))).code).toBe("SWARM_NO_END");
  });

  it("reports a stream that ends in the middle of a frame", async () => {
    const { a, reader } = await pair();
    a.send(lengthPrefixed(new TextEncoder().encode("{\"type\":\"keepalive\"}")).subarray(0, 6));
    await a.close();
    expect((await readError(reader.readFrame(workerFrameSchema, { deadlineMs: 2_000 }))).code).toBe("SWARM_NO_END");
  });

  it("reports a reset stream as ended", async () => {
    const { a, reader } = await pair();
    const pending = reader.readFrame(workerFrameSchema, { deadlineMs: 2_000 });
    a.abort(new Error("gone"));
    expect((await readError(pending)).code).toBe("SWARM_NO_END");
  });

  it("tells a cancelled read apart from a stall", async () => {
    const { reader } = await pair();
    const controller = new AbortController();
    const pending = reader.readFrame(workerFrameSchema, { deadlineMs: 5_000, signal: controller.signal });
    controller.abort();
    expect((await readError(pending)).code).toBe("SWARM_ABORTED");
  });

  it("refuses to write a frame above the limit", async () => {
    const { a } = await pair();
    const writer = createFrameStream(a);
    const error = await readError(writer.writeFrame({ type: "x", pad: "y".repeat(JOB_LIMITS.maxFrameBytes) }));
    expect(error.code).toBe("SWARM_FRAME_TOO_LARGE");
  });
});
