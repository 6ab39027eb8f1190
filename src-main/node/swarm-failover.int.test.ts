import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEngine } from "../engine/index.js";
import { ensureSyntheticModel } from "../models/index.js";
import { parseNodeConfig, spawnNodeProcess, startNode, type NodeProcess, type RunningNode } from "./index.js";
import { waitFor } from "./node.test-support.js";

// Real processes on 127.0.0.1: two workers serving the generated small model, and a requester (this
// process) that routes a job through its scheduler. The expected answer is the uninterrupted greedy
// output computed here by the engine directly.
const prompt = "The swarm answers questions about the weather";
const maxTokens = 300;
let modelSha256: string;
let promptTokens: number[];
let expected: number[];
let workers: NodeProcess[] = [];
let requester: RunningNode;

async function startSwarm(count: number) {
  await Promise.all(workers.map((w) => w.stop()));
  await requester?.stop();
  workers = [];
  for (let i = 0; i < count; i++) {
    workers.push(await spawnNodeProcess(["--model", "small", "--mode", "always", "--threads", "1", "--max-jobs", "1", ...workers.flatMap((w) => ["--bootstrap", w.addresses[0]!])]));
  }
  const home = await mkdtemp(path.join(os.tmpdir(), "inferswarm-requester-"));
  requester = await startNode(
    parseNodeConfig({ listen: ["/ip4/127.0.0.1/tcp/0"], bootstrap: workers.map((w) => w.addresses[0]!), mdns: false, hardware: false }),
    // A frozen worker is noticed by the frame deadline: short here so the test does not wait 15 s.
    { paths: { configDir: home, dataDir: home }, schedulerOptions: { frameDeadlineMs: 2_000 } },
  );
  await waitFor(() => requester.adverts.freshAdverts().length >= count, `${count} worker adverts`);
}

beforeAll(async () => {
  const made = await ensureSyntheticModel({ preset: "small", seed: 1, quantization: "F32", peaky: true });
  modelSha256 = made.sha256;
  const engine = await createEngine({ gpu: false });
  const model = await engine.loadModel(made.path, { threads: 1 });
  promptTokens = model.tokenizePrompt(prompt);
  expected = (await model.generateText({ prompt: { tokens: promptTokens }, maxTokens })).tokens;
  await engine.close();
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await requester?.stop();
});

async function runJob(onToken: (count: number, run: ReturnType<RunningNode["scheduler"]["runJob"]>) => void) {
  const run = requester.scheduler.runJob({
    type: "request",
    jobId: `job-${Math.random().toString(36).slice(2, 12)}`,
    modelSha256,
    prompt: { tokens: promptTokens, text: prompt },
    sampling: { temperature: 0 },
    maxTokens,
    stop: [],
  });
  const tokens: number[] = [];
  const indices: number[] = [];
  for await (const token of run) {
    tokens.push(token.tokenId);
    indices.push(token.index);
    onToken(tokens.length, run);
  }
  return { tokens, indices, result: await run.result };
}

describe("a job through real worker processes", () => {
  it("streams the same tokens as the engine run directly", async () => {
    await startSwarm(2);
    const { tokens, indices, result } = await runJob(() => undefined);
    expect(tokens).toEqual(expected);
    expect(indices).toEqual(expected.map((_, i) => i));
    expect(workers.map((w) => w.peerId)).toContain(result.workerPeerId);
  });

  it("fails over when the serving worker is killed with SIGKILL mid-answer, with no gap and no repeat", async () => {
    let victim: NodeProcess | undefined;
    const { tokens, indices, result } = await runJob((count, run) => {
      if (count !== 20) return;
      victim = workers.find((w) => w.peerId === run.currentWorker());
      victim?.proc.kill("SIGKILL");
    });
    expect(victim).toBeDefined();
    expect(tokens).toEqual(expected);
    expect(indices).toEqual(expected.map((_, i) => i));
    expect(result.attempts.length).toBeGreaterThanOrEqual(2);
    expect(result.attempts[0]).toMatchObject({ peerId: victim!.peerId });
    expect(result.workerPeerId).not.toBe(victim!.peerId);
  });

  it("fails over when the serving worker freezes (SIGSTOP) mid-answer", async () => {
    await startSwarm(2);
    let victim: NodeProcess | undefined;
    const { tokens, result } = await runJob((count, run) => {
      if (count !== 20) return;
      victim = workers.find((w) => w.peerId === run.currentWorker());
      victim?.proc.kill("SIGSTOP");
    });
    expect(victim).toBeDefined();
    expect(tokens).toEqual(expected);
    expect(result.workerPeerId).not.toBe(victim!.peerId);
    expect(result.attempts.some((a) => a.peerId === victim!.peerId && a.error?.code === "SWARM_STALLED")).toBe(true);
  });
});
