import { generateKeyPair } from "@libp2p/crypto/keys";
import { spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { createInterface } from "node:readline";
import { multiaddr } from "@multiformats/multiaddr";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSilentLogger } from "../common/index.js";
import { createEngine, loadSpeculativeModel, type DraftProposer, type Engine, type SpeculativeModel } from "../engine/index.js";
import { ensureSyntheticModel, type SyntheticModelSpec } from "../models/index.js";
import { createDraftClient, createSwarmNode, DraftError, registerDraftHandler, type DraftClient, type DraftHandler, type DraftingModel, type SwarmNode } from "./index.js";

const logger = createSilentLogger();
const LOOPBACK = ["/ip4/127.0.0.1/tcp/0"];
const target: SyntheticModelSpec = { preset: "small", seed: 3, quantization: "F32", peaky: true };
const prompt = "The swarm answers questions about the weather";
const maxTokens = 80;

let engine: Engine;
let verifier: SpeculativeModel;
let draftModel: SpeculativeModel;
let draftSha: string;
let draftPath: string;
let plainAnswer: number[];

async function startNode(): Promise<SwarmNode> {
  const node = await createSwarmNode({ privateKey: await generateKeyPair("Ed25519"), logger, listen: LOOPBACK, mdns: false, dialTimeoutMs: 3_000 });
  await node.start();
  return node;
}

async function pair(model: DraftingModel, clientOptions: { proposalDeadlineMs?: number } = {}) {
  const draftNode = await startNode();
  const verifierNode = await startNode();
  const handler = await registerDraftHandler(draftNode.libp2p, { resolveDraftModel: (sha) => (sha === model.info.sha256 ? model : undefined), logger });
  await verifierNode.libp2p.dial(draftNode.libp2p.getMultiaddrs()[0]!);
  const client = createDraftClient(verifierNode.libp2p, { logger, ...clientOptions });
  return { draftNode, verifierNode, handler, client };
}

async function stopAll(parts: { draftNode: SwarmNode; verifierNode: SwarmNode; handler: DraftHandler; client: DraftClient }) {
  await parts.client.close();
  await parts.handler.stop();
  await parts.verifierNode.stop();
  await parts.draftNode.stop();
}

async function speculate(draft: DraftProposer | undefined, onToken?: (count: number) => Promise<void>) {
  const stream = verifier.generate({ prompt, maxTokens }, { draft, draftLength: { fixedDraftTokens: 4 } });
  const tokens: number[] = [];
  for await (const token of stream) {
    tokens.push(token.tokenId);
    await onToken?.(tokens.length);
  }
  return { tokens, stats: stream.stats() };
}

beforeAll(async () => {
  const [targetFile, draftFile] = await Promise.all([ensureSyntheticModel(target), ensureSyntheticModel({ ...target, quantization: "Q8_0" })]);
  draftSha = draftFile.sha256;
  draftPath = draftFile.path;
  engine = await createEngine({ gpu: false });
  const plain = await engine.loadModel(targetFile.path, { threads: 1 });
  plainAnswer = (await plain.generateText({ prompt, maxTokens })).tokens;
  await plain.close();
  verifier = await loadSpeculativeModel(targetFile.path, { threads: 1, gpu: false });
  draftModel = await loadSpeculativeModel(draftFile.path, { threads: 1, gpu: false, sequences: 2 });
});

afterAll(async () => {
  await verifier?.close();
  await draftModel?.close();
  await engine?.close();
});

describe("the draft protocol between two libp2p nodes", () => {
  it("drafts across the swarm: several tokens accepted per round, the verifier's own answer, the stream reused by the next job", async () => {
    const parts = await pair(draftModel);
    try {
      for (let job = 0; job < 2; job++) {
        const lease = await parts.client.lease({ peerId: parts.draftNode.peerId, draftModelSha256: draftSha }, { vocabularySize: verifier.info.vocabularySize });
        const { tokens, stats } = await speculate(lease);
        lease.release();
        expect(tokens).toEqual(plainAnswer);
        expect(stats.draftFailures).toBe(0);
        expect(stats.acceptedTokens).toBeGreaterThan(stats.rounds);
      }
      expect(parts.handler.sessions()).toBe(1); // one long-lived stream served both jobs
    } finally {
      await stopAll(parts);
    }
  });

  it("finishes the answer when the draft node disappears mid-answer", async () => {
    const parts = await pair(draftModel);
    try {
      const lease = await parts.client.lease({ peerId: parts.draftNode.peerId, draftModelSha256: draftSha }, { vocabularySize: verifier.info.vocabularySize });
      const { tokens, stats } = await speculate(lease, async (count) => {
        if (count === 12) await parts.draftNode.stop();
      });
      lease.release();
      expect(tokens).toEqual(plainAnswer);
      expect(stats.rounds).toBeGreaterThan(0);
      expect(stats.draftFailures).toBe(1);
      expect(lease.usable()).toBe(false);
    } finally {
      await stopAll(parts);
    }
  });

  it("finishes the answer when the draft process is SIGKILLed mid-answer", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "draft-node.test-child.ts"), draftPath], { stdio: ["ignore", "pipe", "inherit"] });
    const verifierNode = await startNode();
    const client = createDraftClient(verifierNode.libp2p, { logger });
    try {
      const first = await createInterface({ input: child.stdout })[Symbol.asyncIterator]().next();
      const { peerId, address } = JSON.parse(first.value as string) as { peerId: string; address: string };
      await verifierNode.libp2p.dial(multiaddr(address));
      const lease = await client.lease({ peerId, draftModelSha256: draftSha }, { vocabularySize: verifier.info.vocabularySize });
      const { tokens, stats } = await speculate(lease, async (count) => {
        if (count === 12) {
          child.kill("SIGKILL");
          await once(child, "exit");
        }
      });
      lease.release();
      expect(tokens).toEqual(plainAnswer);
      expect(stats.rounds).toBeGreaterThan(0);
      expect(stats.draftFailures).toBe(1);
    } finally {
      child.kill("SIGKILL");
      await client.close();
      await verifierNode.stop();
    }
  });

  it("gives up on a draft that stops answering, within the proposal deadline", async () => {
    let proposals = 0;
    const frozen: DraftingModel = {
      info: draftModel.info,
      stats: () => draftModel.stats(),
      async openDraftSession() {
        return {
          async propose(_context: readonly number[], k: number) {
            proposals++;
            if (proposals > 2) await new Promise(() => undefined); // frozen, like a SIGSTOPped process
            return { tokens: Array.from({ length: k }, () => 5), draftComputeMs: 0 };
          },
          sync() {},
          async close() {},
        };
      },
    };
    const parts = await pair(frozen, { proposalDeadlineMs: 200 });
    try {
      const lease = await parts.client.lease({ peerId: parts.draftNode.peerId, draftModelSha256: draftSha }, { vocabularySize: verifier.info.vocabularySize });
      const { tokens, stats } = await speculate(lease);
      lease.release();
      expect(tokens).toEqual(plainAnswer);
      expect(stats.draftFailures).toBe(1);
      expect(stats.draftDroppedReason).toMatch(/did not propose within 20[0-9] ms/);
    } finally {
      await parts.client.close();
      await parts.verifierNode.stop();
      await parts.draftNode.stop();
    }
  });

  it("refuses a model it does not draft with, and a verifier with another vocabulary", async () => {
    const parts = await pair(draftModel);
    try {
      await expect(parts.client.lease({ peerId: parts.draftNode.peerId, draftModelSha256: "0".repeat(64) }, { vocabularySize: verifier.info.vocabularySize })).rejects.toMatchObject({ code: "DRAFT_MODEL_NOT_SERVED" });
      const wrongVocabulary = parts.client.lease({ peerId: parts.draftNode.peerId, draftModelSha256: draftSha }, { vocabularySize: 99 });
      await expect(wrongVocabulary).rejects.toBeInstanceOf(DraftError);
      await expect(wrongVocabulary).rejects.toMatchObject({ code: "DRAFT_BAD_REQUEST" });
    } finally {
      await stopAll(parts);
    }
  });
});
