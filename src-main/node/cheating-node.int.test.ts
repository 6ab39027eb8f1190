import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSilentLogger } from "../common/index.js";
import { createEngine } from "../engine/index.js";
import { ensureSyntheticModel } from "../models/index.js";
import { createJobTransport, type WorkerFrame } from "../swarm/index.js";
import { parseNodeConfig, spawnNodeProcess, startNode, type CheatKind, type NodeProcess, type RunningNode } from "./index.js";

// The dishonest workers that the trust tests and bench/trust catch: real `inferswarm node` processes whose
// served model is wrapped by a cheat, advertising the honest model's hash. Here: each cheats the way it says.
const maxTokens = 24;
const prompts = ["The swarm answers questions about the weather", "Every node in the network keeps a ledger"];
let honestSha256: string;
let honestAnswers: number[][];
let promptTokens: number[][];
const workers = new Map<CheatKind, NodeProcess>();
let requester: RunningNode;

beforeAll(async () => {
  const honest = await ensureSyntheticModel({ preset: "tiny", seed: 1, quantization: "F32", peaky: true });
  const otherSeed = await ensureSyntheticModel({ preset: "tiny", seed: 2, quantization: "F32", peaky: true });
  honestSha256 = honest.sha256;
  const engine = await createEngine({ gpu: false });
  const model = await engine.loadModel(honest.path, { threads: 1 });
  promptTokens = prompts.map((p) => model.tokenizePrompt(p));
  honestAnswers = [];
  for (const tokens of promptTokens) honestAnswers.push((await model.generateText({ prompt: { tokens }, maxTokens })).tokens);
  await engine.close();

  const common = ["--mode", "always", "--threads", "1"];
  for (const cheat of ["random", "truncate", "replay"] as const) {
    workers.set(cheat, await spawnNodeProcess(["--model", "tiny", ...common], { entry: "cheating-node", env: { INFERSWARM_CHEAT: cheat } }));
  }
  workers.set(
    "impostor",
    await spawnNodeProcess(["--model", otherSeed.path, ...common], { entry: "cheating-node", env: { INFERSWARM_CHEAT: "impostor", INFERSWARM_CLAIM_SHA256: honestSha256 } }),
  );
  const home = await mkdtemp(path.join(os.tmpdir(), "inferswarm-requester-"));
  requester = await startNode(parseNodeConfig({ listen: ["/ip4/127.0.0.1/tcp/0"], bootstrap: [...workers.values()].map((w) => w.addresses[0]!), mdns: false, hardware: false }), {
    paths: { configDir: home, dataDir: home },
  });
}, 180_000);

afterAll(async () => {
  await Promise.all([...workers.values()].map((w) => w.stop()));
  await requester?.stop();
});

async function ask(cheat: CheatKind, promptIndex: number) {
  const transport = createJobTransport(requester.swarm.libp2p, { logger: createSilentLogger() });
  const frames = transport.openJob(workers.get(cheat)!.peerId, {
    type: "request",
    jobId: `cheat-${cheat}-${promptIndex}-${Math.random().toString(36).slice(2, 8)}`,
    modelSha256: honestSha256,
    prompt: { tokens: promptTokens[promptIndex]! },
    sampling: { temperature: 0 },
    maxTokens,
    stop: [],
    resumeTokens: [],
  }, {});
  const tokens: number[] = [];
  let end: Extract<WorkerFrame, { type: "end" }> | undefined;
  for await (const frame of frames) {
    if (frame.type === "tokens") tokens.push(...frame.ids);
    if (frame.type === "end") end = frame;
  }
  return { tokens, end: end! };
}

describe("cheating workers", () => {
  it("all advertise the honest model's hash", async () => {
    const deadline = Date.now() + 30_000;
    const advertisers = () => new Set(requester.adverts.freshAdverts().filter((a) => a.models.some((m) => m.sha256 === honestSha256)).map((a) => a.peerId));
    while (advertisers().size < workers.size && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(advertisers()).toEqual(new Set([...workers.values()].map((w) => w.peerId)));
  });

  it("random: a full-length answer of tokens the model would not produce", async () => {
    const { tokens, end } = await ask("random", 0);
    expect(tokens).toHaveLength(maxTokens);
    expect(end.finishReason).toBe("length");
    expect(tokens).not.toEqual(honestAnswers[0]);
  });

  it("truncate: the honest answer's first half, claimed as a natural end", async () => {
    const { tokens, end } = await ask("truncate", 0);
    expect(tokens).toEqual(honestAnswers[0]!.slice(0, maxTokens / 2));
    expect(end.finishReason).toBe("eos");
  });

  it("replay: the first answer again for a different prompt", async () => {
    const first = await ask("replay", 0);
    expect(first.tokens).toEqual(honestAnswers[0]);
    const second = await ask("replay", 1);
    expect(second.tokens).toEqual(honestAnswers[0]);
    expect(honestAnswers[1]).not.toEqual(honestAnswers[0]);
  });

  it("impostor: another model's answer under the honest hash", async () => {
    const { tokens } = await ask("impostor", 0);
    expect(tokens.length).toBeGreaterThan(0);
    expect(tokens).not.toEqual(honestAnswers[0]);
  });
});
