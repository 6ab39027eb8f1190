import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKeys, loadOrCreateApiKey } from "./openai-api-keys.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "inferswarm-api-key-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("loadOrCreateApiKey", () => {
  it("makes an sk-swarm- key of 32 random bytes once, readable only by the owner, and keeps it", async () => {
    const file = path.join(dir, "data", "api.key");
    const [first, racing] = await Promise.all([loadOrCreateApiKey(file), loadOrCreateApiKey(file)]);
    expect(first).toMatch(/^sk-swarm-[A-Za-z0-9_-]{43}$/);
    expect(racing).toBe(first);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await loadOrCreateApiKey(file)).toBe(first);
    expect((await readFile(file, "utf8")).trim()).toBe(first);
  });

  it("refuses a file that does not hold a key", async () => {
    const file = path.join(dir, "bad.key");
    await writeFile(file, "short");
    await expect(loadOrCreateApiKey(file)).rejects.toMatchObject({ code: "API_TOKEN_INVALID" });
  });
});

describe("createApiKeys", () => {
  it("authenticates bearer headers against every key and bounds each key's requests in flight", () => {
    const a = `sk-swarm-${"a".repeat(43)}`;
    const b = `sk-swarm-${"b".repeat(43)}`;
    const keys = createApiKeys([{ key: a, maxConcurrentRequests: 1 }, { key: b }], 2);
    expect(keys.authenticate(undefined)).toBeUndefined();
    expect(keys.authenticate(`Bearer ${a.slice(0, -1)}x`)).toBeUndefined();
    expect(keys.authenticate(a)).toBeUndefined(); // not a bearer header
    const keyA = keys.authenticate(`Bearer ${a}`)!;
    const keyB = keys.authenticate(`Bearer ${b}`)!;
    expect(keyB.maxConcurrentRequests).toBe(2);
    const release = keys.tryAcquire(keyA)!;
    expect(keys.tryAcquire(keyA)).toBeUndefined();
    expect(keys.tryAcquire(keyB)).toBeDefined();
    expect(keys.active()).toBe(2);
    release();
    release(); // idempotent
    expect(keys.active()).toBe(1);
    expect(keys.tryAcquire(keyA)).toBeDefined();
  });
});
