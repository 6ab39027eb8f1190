import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isInferSwarmError } from "../common/index.js";
import { ensureSyntheticModel } from "../models/index.js";
import { createEngine, type Engine } from "./index.js";

const MiB = 2 ** 20;
const GiB = 2 ** 30;
let engine: Engine;
let small: string;

beforeAll(async () => {
  engine = await createEngine({ gpu: false });
  small = (await ensureSyntheticModel({ preset: "small", seed: 1, quantization: "F32", peaky: true })).path;
});
afterAll(() => engine.close());

// Memory figures are node-llama-cpp's estimates; on this CPU-only build the context's VRAM estimate is 0,
// so the GPU cases exercise the layer split of the model's weights.
describe("planFit", () => {
  it("plans a CPU run on a machine without a GPU", async () => {
    const plan = await engine.planFit(small, { sequences: 2 });
    expect(plan).toMatchObject({ fits: true, gpuLayers: 0, sequences: 2 });
    expect(plan.reason).toMatch(/on the CPU \(no GPU\)/);
    expect(plan.estimatedRamBytes).toBeGreaterThan(20 * MiB);
  });

  it("puts every layer on a GPU with room to spare", async () => {
    const plan = await engine.planFit(small, { vram: { totalBytes: 8 * GiB, freeBytes: 7 * GiB } });
    expect(plan.fits).toBe(true);
    expect(plan.gpuLayers).toBe(plan.totalLayers);
    expect(plan.reason).toMatch(/entirely on the GPU/);
  });

  it("splits layers when the owner's VRAM share holds only part of the model", async () => {
    const full = await engine.planFit(small, { vram: { totalBytes: 8 * GiB, freeBytes: 8 * GiB } });
    const share = (full.estimatedVramBytes * 0.6) / (8 * GiB);
    const plan = await engine.planFit(small, { vram: { totalBytes: 8 * GiB, freeBytes: 8 * GiB }, vramShare: share });
    expect(plan.fits).toBe(true);
    expect(plan.gpuLayers).toBeGreaterThan(0);
    expect(plan.gpuLayers).toBeLessThan(plan.totalLayers);
    expect(plan.estimatedVramBytes).toBeLessThanOrEqual(plan.budget.vramBytes);
  });

  it("says plainly when nothing fits", async () => {
    const plan = await engine.planFit(small, { ramShare: 1e-6 });
    expect(plan.fits).toBe(false);
    expect(plan.reason).toMatch(/Does not fit/);
  });

  it("rejects a file that is not a model", async () => {
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), "inferswarm-fit-")), "notes.gguf");
    await writeFile(file, "not a model, just some notes\n".repeat(10));
    await expect(engine.planFit(file)).rejects.toSatisfy((e) => isInferSwarmError(e, "MODEL_NOT_GGUF"));
  });
});
