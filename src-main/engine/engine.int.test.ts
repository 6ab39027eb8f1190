import { execFile } from "node:child_process";
import { copyFile, mkdtemp, open, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isInferSwarmError } from "../common/index.js";
import { ensureSyntheticModel, hashModelFile, wrongModelSpec, type SyntheticModelSpec } from "../models/index.js";
import { createEngine, type Engine, type LoadedModel } from "./index.js";
import { chooseThreads } from "./thread-calibration.js";

const execFileAsync = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, "../..");
const tinySpec: SyntheticModelSpec = { preset: "tiny", seed: 1, quantization: "F32", peaky: true };
const prompt = "The swarm answers";

let engine: Engine;
let tinyPath: string;
let tiny: LoadedModel;

beforeAll(async () => {
  tinyPath = (await ensureSyntheticModel(tinySpec)).path;
  engine = await createEngine({ gpu: false });
  tiny = await engine.loadModel(tinyPath, { threads: 1, maxActiveJobs: 2, maxQueuedJobs: 1 });
});

afterAll(async () => {
  await engine?.close();
});

async function collect(model: LoadedModel, request: Parameters<LoadedModel["generate"]>[0]) {
  const stream = model.generate(request);
  const tokens: number[] = [];
  let text = "";
  for await (const token of stream) {
    tokens.push(token.tokenId);
    text += token.text;
  }
  return { tokens, text, result: await stream.result };
}

describe("engine on a generated model (real node-llama-cpp)", () => {
  it("reports the model's metadata and content hash", async () => {
    const made = await ensureSyntheticModel(tinySpec);
    expect(tiny.info).toMatchObject({ architecture: "llama", quantization: "F32", parameterCount: made.parameterCount, sha256: made.sha256 });
    expect(tiny.info.sha256).toBe(await hashModelFile(tinyPath));
    expect(tiny.info.contextLength).toBeGreaterThan(0);
    expect(tiny.contextSize).toBeLessThanOrEqual(tiny.info.contextLength);
  });

  it("tokenizes and detokenizes text losslessly, with BOS in prompts", () => {
    const text = "The swarm answers questions at 42°C €";
    expect(tiny.detokenize(tiny.tokenize(text))).toBe(text);
    const promptTokens = tiny.tokenizePrompt(prompt);
    expect(promptTokens[0]).toBe(1);
    expect(promptTokens.length).toBeLessThan(prompt.length);
  });

  it("streams tokens whose texts add up to the answer", async () => {
    const { tokens, text, result } = await collect(tiny, { prompt, maxTokens: 24 });
    expect(result.finishReason === "length" || result.finishReason === "eos").toBe(true);
    expect(result.tokens).toEqual(tokens);
    expect(result.text).toBe(text);
    expect(tiny.detokenize(tokens).trimStart()).toBe(text.trimStart());
    expect(result.promptTokenCount).toBe(tiny.tokenizePrompt(prompt).length);
  });

  it("resumes from any point with the same greedy continuation as an uninterrupted run", async () => {
    const full = await collect(tiny, { prompt, maxTokens: 40 });
    expect(full.tokens.length).toBeGreaterThan(20);
    for (const cut of [1, 7, 20]) {
      const resumed = await collect(tiny, { prompt, maxTokens: 40, resumeTokens: full.tokens.slice(0, cut) });
      expect(resumed.result.tokens).toEqual(full.tokens);
      expect(resumed.tokens).toEqual(full.tokens.slice(cut));
      expect(resumed.result.text).toBe(full.text);
    }
  });

  it("ends the answer before a stop sequence", async () => {
    const full = await collect(tiny, { prompt, maxTokens: 40 });
    const stop = full.text.slice(10, 14);
    const stopped = await collect(tiny, { prompt, maxTokens: 40, stop: [stop] });
    expect(stopped.result.finishReason).toBe("stop");
    expect(stopped.text).toBe(full.text.slice(0, full.text.indexOf(stop)));
  });

  it("scores its own greedy output as top-ranked, within the batched-numerics tolerance", async () => {
    const full = await collect(tiny, { prompt, maxTokens: 64 });
    const scored = await tiny.score({ promptTokens: tiny.tokenizePrompt(prompt), claimedTokens: full.tokens });
    expect(scored.positions).toHaveLength(full.tokens.length);
    // F32 batched logits differ from one-token decoding by <= 0.004 (shared/facts): a greedy token can only
    // lose rank 0 at a near-tie, and then by a tiny margin.
    for (const position of scored.positions) {
      expect(position.rank).not.toBeNull();
      expect(position.logitMargin).toBeLessThan(0.01);
    }
    const topRanked = scored.positions.filter((p) => p.rank === 0).length;
    expect(topRanked / scored.positions.length).toBeGreaterThanOrEqual(0.95);
  });

  it("scores another model's output as foreign on many positions", async () => {
    const wrong = await engine.loadModel((await ensureSyntheticModel(wrongModelSpec(tinySpec))).path, { threads: 1 });
    try {
      const theirs = await collect(wrong, { prompt, maxTokens: 64 });
      const scored = await tiny.score({ promptTokens: tiny.tokenizePrompt(prompt), claimedTokens: theirs.tokens });
      const offTop = scored.positions.filter((p) => p.rank !== 0).length;
      expect(offTop / scored.positions.length).toBeGreaterThan(0.5);
    } finally {
      await wrong.close();
    }
  });

  it("gives the same seeded sample twice and a different one for another seed", async () => {
    const sampling = { temperature: 1.0, topK: 40, seed: 42 };
    const a = await collect(tiny, { prompt, maxTokens: 32, sampling });
    const b = await collect(tiny, { prompt, maxTokens: 32, sampling });
    const c = await collect(tiny, { prompt, maxTokens: 32, sampling: { ...sampling, seed: 43 } });
    expect(a.tokens).toEqual(b.tokens);
    expect(c.tokens).not.toEqual(a.tokens);
    expect(a.result.seed).toBe(42);
  });

  it("ends within one decode step of an abort and frees its slot", async () => {
    const controller = new AbortController();
    const stream = tiny.generate({ prompt, maxTokens: 500, signal: controller.signal });
    let afterAbort = 0;
    let seen = 0;
    const consume = (async () => {
      for await (const _token of stream) {
        if (controller.signal.aborted) afterAbort++;
        if (++seen === 5) setImmediate(() => controller.abort(new Error("client went away")));
      }
    })();
    await expect(consume).rejects.toSatisfy((e) => isInferSwarmError(e, "ENGINE_ABORTED"));
    await expect(stream.result).rejects.toSatisfy((e) => isInferSwarmError(e, "ENGINE_ABORTED"));
    expect(afterAbort).toBeLessThanOrEqual(1);
    expect(seen).toBeLessThan(20);
    expect(tiny.stats().active).toBe(0);
    expect((await collect(tiny, { prompt, maxTokens: 4 })).tokens).toHaveLength(4);
  });

  it("stops admitting when paused and preempts running jobs on request", async () => {
    tiny.setAdmission({ accepting: false, maxActiveJobs: 2, reason: "a game is running" });
    await expect(collect(tiny, { prompt, maxTokens: 4 })).rejects.toSatisfy((e) => isInferSwarmError(e, "ENGINE_PAUSED"));
    tiny.setAdmission({ accepting: true, maxActiveJobs: 2 });

    const stream = tiny.generate({ prompt, maxTokens: 500 });
    let seen = 0;
    let afterPreempt = 0;
    let preempted = false;
    const consume = (async () => {
      for await (const _token of stream) {
        if (preempted) afterPreempt++;
        if (++seen === 5) {
          tiny.abortRunning("the GPU reached 85 °C");
          preempted = true;
        }
      }
    })();
    await expect(consume).rejects.toSatisfy((e) => isInferSwarmError(e, "ENGINE_PREEMPTED") && /85 °C/.test((e as Error).message));
    expect(afterPreempt).toBeLessThanOrEqual(1);
    expect(tiny.stats()).toMatchObject({ active: 0, accepting: true });
    expect((await collect(tiny, { prompt, maxTokens: 4 })).tokens).toHaveLength(4);
  });

  it("runs jobs concurrently up to its slots, queues within the bound and refuses beyond it", async () => {
    const solo = await collect(tiny, { prompt, maxTokens: 16 });
    const runs = [collect(tiny, { prompt, maxTokens: 16 }), collect(tiny, { prompt, maxTokens: 16 }), collect(tiny, { prompt, maxTokens: 16 })];
    // Two run, one waits (maxQueuedJobs 1): a fourth is refused at once.
    await new Promise((resolve) => setImmediate(resolve));
    await expect(collect(tiny, { prompt, maxTokens: 16 })).rejects.toSatisfy((e) => isInferSwarmError(e, "ENGINE_BUSY"));
    const results = await Promise.all(runs);
    // Concurrent sequences share batches, so only the greedy path of a peaky model is compared.
    for (const r of results) expect(r.tokens).toEqual(solo.tokens);
    expect(tiny.stats()).toMatchObject({ active: 0, queued: 0 });
  });

  it("refuses a prompt longer than the context and tokens outside the vocabulary", async () => {
    const long = Array.from({ length: tiny.contextSize + 5 }, () => 300);
    await expect(collect(tiny, { prompt: { tokens: [1, ...long] }, maxTokens: 4 })).rejects.toSatisfy((e) => isInferSwarmError(e, "ENGINE_PROMPT_TOO_LONG"));
    await expect(collect(tiny, { prompt: { tokens: [1, 10_000_000] }, maxTokens: 4 })).rejects.toSatisfy((e) => isInferSwarmError(e, "ENGINE_BAD_REQUEST"));
  });

  it("tells truthfully whether the weights are mapped or pinned", async () => {
    expect(tiny.loadMode).toMatchObject({ requested: "mmap", actual: "mmap" });
    const pinned = await engine.loadModel(tinyPath, { threads: 1, residence: "pinned" });
    try {
      expect(pinned.loadMode.requested).toBe("pinned");
      expect(pinned.loadMode.actual).toMatch(/^copied/);
    } finally {
      await pinned.close();
    }
  });

  it("chooses its thread count by measurement when not told", async () => {
    const calibrated = await engine.loadModel(tinyPath);
    try {
      expect(calibrated.calibration).toBeDefined();
      const counts = calibrated.calibration!.measurements.map((m) => m.threads);
      expect(counts).toContain(calibrated.threads);
      for (const m of calibrated.calibration!.measurements) expect(m.tokensPerSecond).toBeGreaterThan(0);
      expect(calibrated.threads).toBe(chooseThreads(calibrated.calibration!.measurements));
    } finally {
      await calibrated.close();
    }
  });
});

describe("scoring and resume across quantizations (small preset)", () => {
  // Measured over 3 prompts x 128 tokens on tiny/small/medium: F32 and F16 score their own greedy output
  // at rank 0 everywhere and resume identically; Q8_0's batched pass differs enough from one-token
  // decoding to flip near-ties (<= 3 of 128 positions, margins <= 1.1 on these x40-peaky logits), so a
  // Q8_0 resume may take the other branch of a near-tie: correct output, not the identical one.
  const prompts = ["The swarm answers", "Every node in the network"];

  for (const quantization of ["F32", "F16", "Q8_0"] as const) {
    it(`${quantization}: own greedy output stays in the top-k at every position`, async () => {
      const model = await engine.loadModel((await ensureSyntheticModel({ preset: "small", seed: 1, quantization, peaky: true })).path, { threads: 1 });
      try {
        for (const text of prompts) {
          const full = await collect(model, { prompt: text, maxTokens: 96 });
          const scored = await model.score({ promptTokens: model.tokenizePrompt(text), claimedTokens: full.tokens, topK: 8 });
          const offTop = scored.positions.filter((p) => p.rank !== 0);
          expect(scored.positions.every((p) => p.rank !== null && p.rank <= 1)).toBe(true);
          if (quantization === "Q8_0") {
            expect(offTop.length / scored.positions.length).toBeLessThanOrEqual(0.05);
          } else {
            expect(offTop).toEqual([]);
            const resumed = await collect(model, { prompt: text, maxTokens: 96, resumeTokens: full.tokens.slice(0, 40) });
            expect(resumed.result.tokens).toEqual(full.tokens);
          }
        }
      } finally {
        await model.close();
      }
    });
  }
});

describe("bad model files", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "inferswarm-bad-models-"));
  });

  const expectLoadError = async (file: string, code: string, message: RegExp) => {
    const error = await engine.loadModel(file, { threads: 1 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isInferSwarmError(error, code)).toBe(true);
    expect((error as Error).message).toMatch(message);
  };

  it("rejects a missing file", async () => {
    await expectLoadError(path.join(dir, "nope.gguf"), "MODEL_NOT_FOUND", /nope\.gguf/);
  });

  it("rejects a file that is not GGUF", async () => {
    const file = path.join(dir, "notes.gguf");
    await writeFile(file, "these are not the weights you are looking for\n".repeat(100));
    await expectLoadError(file, "MODEL_NOT_GGUF", /GGUF/);
  });

  it("rejects a truncated file", async () => {
    const file = path.join(dir, "truncated.gguf");
    await copyFile(tinyPath, file);
    const handle = await open(file, "r+");
    const { size } = await handle.stat();
    await handle.truncate(Math.floor(size * 0.6));
    await handle.close();
    await expectLoadError(file, "MODEL_TRUNCATED", /truncated|incomplete|shorter/i);
  });
});

describe("determinism across processes", () => {
  const cli = (args: string[]) =>
    execFileAsync(process.execPath, [path.join(repoRoot, "bin/inferswarm.js"), "generate", "--json", ...args], {
      cwd: repoRoot,
      env: { ...process.env, NODE_LLAMA_CPP_GPU: "false" },
      timeout: 120_000,
    }).then(({ stdout }) => JSON.parse(stdout.trim().split("\n").at(-1)!) as { tokens: number[]; text: string; sha256: string });

  it("gives the same greedy tokens in separate processes and at different thread counts", async () => {
    const args = ["--model", tinyPath, "--prompt", prompt, "--max-tokens", "32"];
    const [a, b] = await Promise.all([cli([...args, "--threads", "1"]), cli([...args, "--threads", "2"])]);
    const local = await collect(tiny, { prompt, maxTokens: 32 });
    expect(a.tokens).toHaveLength(32);
    expect(a.tokens).toEqual(b.tokens);
    expect(a.tokens).toEqual(local.tokens);
  });

  it("gives the same seeded sample in separate processes", async () => {
    const args = ["--model", tinyPath, "--prompt", prompt, "--max-tokens", "24", "--temperature", "0.9", "--seed", "7", "--threads", "1"];
    const [a, b] = await Promise.all([cli(args), cli(args)]);
    expect(a.tokens).toEqual(b.tokens);
  });
});
