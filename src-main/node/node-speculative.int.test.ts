import { generateKeyPair } from "@libp2p/crypto/keys";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSilentLogger } from "../common/index.js";
import { createEngine, type Engine, type LoadedModel, type SpeculationStats } from "../engine/index.js";
import { ensureSyntheticModel, type SyntheticModelSpec } from "../models/index.js";
import type { CapacityAdvertBody } from "../swarm/index.js";
import { createLatencyProbe, createSwarmNode, type SwarmNode } from "../swarm/index.js";
import { speculationConfigSchema, startNodeSpeculation, type NodeSpeculation } from "./node-speculative.js";

const logger = createSilentLogger();
const targetSpec: SyntheticModelSpec = { preset: "small", seed: 3, quantization: "F32", peaky: true };
const prompt = "The swarm answers questions about the weather";
const maxTokens = 64;

let engine: Engine;
let target: LoadedModel;
let draft: LoadedModel;
let verifierNode: SwarmNode;
let draftNode: SwarmNode;
let draftSide: NodeSpeculation;
let verifierSide: NodeSpeculation;
let plainAnswer: number[];
const events: { draftPeerId: string | undefined; stats: SpeculationStats }[] = [];

function draftAdvert(peerId: string, sha256: string): CapacityAdvertBody {
  return {
    peerId,
    issuedAt: Date.now(),
    expiresAt: Date.now() + 60_000,
    sequence: 1,
    models: [{ sha256, name: "draft", quantization: "Q8_0", contextSize: 2048, tokensPerSecond: 2_000, pricePer1kTokens: 0 }],
    freeSlots: 1,
    queueLength: 0,
    policy: { contribute: true, reasonCode: "contributing" },
    addresses: [],
  };
}

beforeAll(async () => {
  const [targetFile, draftFile] = await Promise.all([ensureSyntheticModel(targetSpec), ensureSyntheticModel({ ...targetSpec, quantization: "Q8_0" })]);
  engine = await createEngine({ gpu: false });
  target = await engine.loadModel(targetFile.path, { threads: 1 });
  draft = await engine.loadModel(draftFile.path, { threads: 1 });
  plainAnswer = (await target.generateText({ prompt, maxTokens })).tokens;
  const start = async () => {
    const node = await createSwarmNode({ privateKey: await generateKeyPair("Ed25519"), logger, listen: ["/ip4/127.0.0.1/tcp/0"], mdns: false, dialTimeoutMs: 3_000 });
    await node.start();
    return node;
  };
  [verifierNode, draftNode] = await Promise.all([start(), start()]);
  await verifierNode.libp2p.dial(draftNode.libp2p.getMultiaddrs()[0]!);
  draftSide = await startNodeSpeculation({
    config: speculationConfigSchema.parse({ draftModels: [draft.info.sha256] }),
    libp2p: draftNode.libp2p,
    selfPeerId: draftNode.peerId,
    served: [{ model: draft, tokensPerSecond: 2_000 }],
    candidates: { candidates: async () => [] },
    latency: createLatencyProbe(draftNode.libp2p),
    logger,
  });
  verifierSide = await startNodeSpeculation({
    config: speculationConfigSchema.parse({ verify: [{ targetSha256: target.info.sha256, draftSha256s: [draft.info.sha256] }] }),
    libp2p: verifierNode.libp2p,
    selfPeerId: verifierNode.peerId,
    served: [{ model: target, tokensPerSecond: 300 }],
    candidates: { candidates: async (sha) => (sha === draft.info.sha256 ? [{ peerId: draftNode.peerId, advert: draftAdvert(draftNode.peerId, sha) }] : []) },
    latency: createLatencyProbe(verifierNode.libp2p),
    logger,
    onSpeculation: (event) => events.push(event),
  });
});

afterAll(async () => {
  await verifierSide?.stop();
  await draftSide?.stop();
  await verifierNode?.stop();
  await draftNode?.stop();
  await engine?.close();
});

describe("a node serving a job with a paired draft node", () => {
  it("leaves models without a speculation entry alone", () => {
    expect(verifierSide.wrap(draft)).toBe(draft);
  });

  it("answers a greedy job with the verifier's own answer, drafted by the paired node", async () => {
    const served = verifierSide.wrap(target);
    const result = await served.generateText({ prompt, maxTokens });
    expect(result.tokens).toEqual(plainAnswer);
    expect(events.at(-1)?.draftPeerId).toBe(draftNode.peerId);
    expect(events.at(-1)!.stats.rounds).toBeGreaterThan(0);
    expect(events.at(-1)!.stats.draftFailures).toBe(0);
  });

  it("applies the policy's admission to the speculative path too", async () => {
    const served = verifierSide.wrap(target);
    served.setAdmission({ accepting: false, maxActiveJobs: 1, reason: "paused by the owner" });
    try {
      await expect(served.generateText({ prompt, maxTokens: 4 })).rejects.toMatchObject({ code: "ENGINE_PAUSED" });
    } finally {
      served.setAdmission({ accepting: true, maxActiveJobs: 1 });
    }
  });

  it("a paused draft node drafts for no one, and the job is answered alone", async () => {
    draftSide.setAdmission({ accepting: false, maxActiveJobs: 1, reason: "a game is running" });
    draftSide.abortRunning("a game is running");
    try {
      const before = events.length;
      const served = verifierSide.wrap(target);
      const result = await served.generateText({ prompt, maxTokens });
      expect(result.tokens).toEqual(plainAnswer);
      // The pooled stream's session was ended by the abort: the job drops the draft (or never leases one).
      const event = events.at(-1);
      expect(events.length === before || event!.stats.draftFailures === 1).toBe(true);
    } finally {
      draftSide.setAdmission({ accepting: true, maxActiveJobs: 2 });
    }
  });

  it("still answers, alone, once the draft node is gone", async () => {
    await draftSide.stop();
    await draftNode.stop();
    const served = verifierSide.wrap(target);
    const result = await served.generateText({ prompt, maxTokens });
    expect(result.tokens).toEqual(plainAnswer);
  });
});
