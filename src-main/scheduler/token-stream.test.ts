import { describe, expect, it } from "vitest";
import { createTokenStream } from "./token-stream.js";

describe("token stream", () => {
  it("delivers pushed items in order, then the failure", async () => {
    const stream = createTokenStream<number>(() => undefined);
    stream.push(1);
    stream.push(2);
    stream.fail(new Error("boom"));
    stream.push(3);
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const item of stream) seen.push(item);
      })(),
    ).rejects.toThrow("boom");
    expect(seen).toEqual([1, 2]);
  });

  it("wakes a waiting reader, may be iterated once, and reports an early return", async () => {
    let returned = 0;
    const stream = createTokenStream<number>(() => returned++);
    const iterator = stream[Symbol.asyncIterator]();
    expect(() => stream[Symbol.asyncIterator]()).toThrow(/only once/);
    const next = iterator.next();
    stream.push(7);
    expect(await next).toEqual({ value: 7, done: false });
    await iterator.return?.();
    expect(returned).toBe(1);
    stream.end();
    const ended = createTokenStream<number>(() => returned++);
    ended.end();
    const endedIterator = ended[Symbol.asyncIterator]();
    expect(await endedIterator.next()).toEqual({ value: undefined, done: true });
    await endedIterator.return?.();
    expect(returned).toBe(1);
  });
});
