import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashModelFile } from "../model-hash.js";
import { cacheKey, defaultModelCacheDir, ensureSyntheticModel } from "./model-cache.js";
import { normalizeSyntheticModelSpec } from "./synthetic-spec.js";

let cacheDir: string;
beforeAll(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), "model-cache-"));
});
afterAll(async () => {
  await rm(cacheDir, { recursive: true, force: true });
});

const spec = { preset: "tiny", seed: 11, quantization: "F16" } as const;

describe("ensureSyntheticModel", () => {
  it("generates once, then reuses the cached file", async () => {
    const first = await ensureSyntheticModel(spec, { cacheDir });
    expect(first.fromCache).toBe(false);
    expect(first.sha256).toBe(await hashModelFile(first.path));
    expect(first.path).toBe(join(cacheDir, `${cacheKey(normalizeSyntheticModelSpec(spec))}.gguf`));
    const sidecar = JSON.parse(await readFile(first.path.replace(/\.gguf$/, ".json"), "utf8")) as Record<string, unknown>;
    expect(sidecar["sha256"]).toBe(first.sha256);
    expect(sidecar["spec"]).toEqual(first.spec);

    const second = await ensureSyntheticModel({ ...spec, peaky: true }, { cacheDir });
    expect(second).toEqual({ ...first, fromCache: true });
  });

  it("keys on everything that changes the bytes", () => {
    const base = normalizeSyntheticModelSpec(spec);
    const keys = new Set([
      cacheKey(base),
      cacheKey({ ...base, seed: 12 }),
      cacheKey({ ...base, peaky: false }),
      cacheKey({ ...base, quantization: "F32" }),
      cacheKey({ ...base, vocabSize: 1000 }),
      cacheKey({ ...base, name: "x" }),
    ]);
    expect(keys.size).toBe(6);
  });

  it("survives concurrent generation and leaves no temporary files", async () => {
    const concurrentSpec = { ...spec, seed: 21 };
    const results = await Promise.all([1, 2, 3].map(() => ensureSyntheticModel(concurrentSpec, { cacheDir })));
    const hashes = new Set(results.map((r) => r.sha256));
    expect(hashes.size).toBe(1);
    expect(await hashModelFile(results[0]!.path)).toBe(results[0]!.sha256);
    expect((await readdir(cacheDir)).filter((name) => name.includes(".tmp-"))).toEqual([]);
  });

  it("regenerates a damaged file when asked to verify, and one whose size is wrong always", async () => {
    const made = await ensureSyntheticModel(spec, { cacheDir });
    const bytes = await readFile(made.path);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
    await writeFile(made.path, bytes);
    expect((await ensureSyntheticModel(spec, { cacheDir })).fromCache).toBe(true); // size still matches
    const verified = await ensureSyntheticModel(spec, { cacheDir, verify: true });
    expect(verified.fromCache).toBe(false);
    expect(await hashModelFile(made.path)).toBe(made.sha256);

    await writeFile(made.path, bytes.subarray(0, 100));
    expect((await ensureSyntheticModel(spec, { cacheDir })).fromCache).toBe(false);
  });

  it("defaults to INFERSWARM_MODEL_CACHE, else the repo's .cache/models", () => {
    const saved = process.env["INFERSWARM_MODEL_CACHE"];
    try {
      process.env["INFERSWARM_MODEL_CACHE"] = "/somewhere/models";
      expect(defaultModelCacheDir()).toBe("/somewhere/models");
      delete process.env["INFERSWARM_MODEL_CACHE"];
      expect(defaultModelCacheDir()).toMatch(/[/\\]\.cache[/\\]models$/);
    } finally {
      if (saved === undefined) delete process.env["INFERSWARM_MODEL_CACHE"];
      else process.env["INFERSWARM_MODEL_CACHE"] = saved;
    }
  });
});
