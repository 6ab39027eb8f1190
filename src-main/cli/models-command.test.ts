import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createModelCatalog, createModelStore, ensureSyntheticModel, type CachedSyntheticModel } from "../models/index.js";
import { runCapturing, tempHome } from "./cli.test-support.js";

// `models fit` needs llama.cpp: its happy path is in cli-engine.int.test.ts.
describe("inferswarm models", () => {
  const home = tempHome();
  let tiny: CachedSyntheticModel;
  beforeAll(async () => {
    tiny = await ensureSyntheticModel({ preset: "tiny", seed: 1, quantization: "F32", peaky: true });
  });
  afterAll(() => home.cleanup());

  it("list: held models, loose GGUF files, the catalog and the generated ones, skipping what is not a GGUF", async () => {
    const store = path.join(home.dir, "data", "models");
    mkdirSync(store, { recursive: true });
    copyFileSync(tiny.path, path.join(store, "my-tiny.gguf"));
    writeFileSync(path.join(store, "broken.gguf"), "not a model");
    const heldFile = path.join(home.dir, "held-tiny.gguf");
    copyFileSync(tiny.path, heldFile);
    await createModelStore({ dir: store }).addFiles([heldFile]);
    await createModelCatalog({ file: path.join(store, "catalog.json") }).put({ name: "far-away-7b", quantization: "Q4_K_M", size: 4_000_000_000, root: "c".repeat(64) });
    const run = await runCapturing(["models", "list", "--home", home.dir, "--json"]);
    expect(run.code).toBe(0);
    const listed = JSON.parse(run.stdout) as { source: string; path: string | null; name: string; weights: string; parameters: number; sha256: string | null; root: string | null }[];
    expect(listed.find((m) => m.source === "store")).toMatchObject({ path: heldFile, sha256: tiny.sha256, name: "inferswarm-synthetic-tiny" });
    expect(listed.find((m) => m.source === "catalog")).toMatchObject({ name: "far-away-7b", weights: "Q4_K_M", path: null, root: "c".repeat(64) });
    expect(listed.find((m) => m.path === path.join(store, "my-tiny.gguf"))).toMatchObject({ source: "file", name: "inferswarm-synthetic-tiny", weights: "F32", parameters: tiny.parameterCount });
    expect(listed.some((m) => m.source === "generated" && m.path === tiny.path)).toBe(true);
    expect(run.stderr).toContain(`skipped (not a usable GGUF) ${path.join(store, "broken.gguf")}`);
  });

  it("inspect: metadata, size and sha256", async () => {
    const run = await runCapturing(["models", "inspect", tiny.path, "--json"]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ sha256: tiny.sha256, fileSizeBytes: tiny.fileSize, quantization: "F32", architecture: "llama", ggufVersion: 3 });
    const human = await runCapturing(["models", "inspect", tiny.path]);
    expect(human.stdout).toContain(`sha256        ${tiny.sha256}`);
  });

  it("inspect: a truncated file is refused with the reason (exit 2)", async () => {
    const cut = path.join(home.dir, "cut.gguf");
    writeFileSync(cut, readFileSync(tiny.path).subarray(0, 2000));
    const run = await runCapturing(["models", "inspect", cut]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("truncated");
    expect(run.stdout).toBe("");
  });

  it("fit: an unknown model is a usage error naming the presets (exit 2)", async () => {
    const run = await runCapturing(["models", "fit", "gigantic"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("No file 'gigantic' and no preset of that name");
    expect(run.stderr).toContain("tiny");
  });

  it("fetch: a model neither a root nor in the catalog is a usage error (exit 2), before joining any swarm", async () => {
    const run = await runCapturing(["models", "fetch", "no-such-model", "--home", home.dir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("[MODELS_FETCH_UNKNOWN_MODEL]");
  });
});
