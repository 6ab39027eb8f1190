import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFakeTime, createSilentLogger } from "../common/index.js";
import { createEngine, type Engine, type LoadedModel } from "../engine/index.js";
import { buildVocabulary, ensureSyntheticModel, wrongModelSpec } from "../models/index.js";
import { createSwarmNode, registerVerifyHandler, requestVerification, verifyAttestationSignature, type SwarmNode, type VerifyHandler } from "../swarm/index.js";
import {
  buildChallengePrompts,
  createChallenger,
  createReputation,
  createValidationCoordinator,
  seededRandom,
  type ChallengeJob,
  type FinishedJob,
  type Reputation,
  type ValidationCoordinator,
} from "./index.js";

const logger = createSilentLogger();
const spec = { preset: "tiny", seed: 1, quantization: "F32", peaky: true } as const;
const MAX_TOKENS = 32;

let engine: Engine;
let served: LoadedModel;
let wrong: LoadedModel;
let q8: LoadedModel;
let modelSha: string;
const nodes: SwarmNode[] = [];
const handlers: VerifyHandler[] = [];
let requester: SwarmNode;
let reputation: Reputation;
let coordinator: ValidationCoordinator;
const misbehaviour: string[] = [];
const prompts = buildChallengePrompts({ seed: 21, count: 40 });
const peers: Record<string, string> = {};
let judgedWorker: string | undefined;

async function newPeerId(): Promise<string> {
  return peerIdFromPrivateKey(await generateKeyPair("Ed25519")).toString();
}

async function answer(model: LoadedModel, prompt: string, sampling: FinishedJob["sampling"] = { temperature: 0 }) {
  const promptTokens = served.tokenizePrompt(prompt);
  const result = await model.generateText({ prompt: { tokens: promptTokens }, maxTokens: MAX_TOKENS, sampling });
  return { promptTokens, tokens: result.tokens, finishReason: result.finishReason };
}

function finished(worker: string, parts: { promptTokens: number[]; tokens: number[]; finishReason: FinishedJob["finishReason"] }, sampling: FinishedJob["sampling"] = { temperature: 0 }): FinishedJob {
  judgedWorker = worker;
  return {
    jobId: `job-${Math.random().toString(36).slice(2, 12)}`,
    modelSha256: modelSha,
    promptTokens: parts.promptTokens,
    tokens: parts.tokens,
    finishReason: parts.finishReason,
    maxTokens: MAX_TOKENS,
    sampling,
    stopRequested: false,
    workerPeerId: worker,
  };
}

beforeAll(async () => {
  const made = await ensureSyntheticModel(spec);
  modelSha = made.sha256;
  engine = await createEngine({ gpu: false });
  served = await engine.loadModel(made.path, { threads: 1 });
  wrong = await engine.loadModel((await ensureSyntheticModel(wrongModelSpec(spec))).path, { threads: 1 });
  q8 = await engine.loadModel((await ensureSyntheticModel({ ...spec, quantization: "Q8_0" })).path, { threads: 1 });

  // A requester and three validators serving the model, on loopback.
  for (let i = 0; i < 4; i++) {
    const node = await createSwarmNode({ privateKey: await generateKeyPair("Ed25519"), logger, listen: ["/ip4/127.0.0.1/tcp/0"], mdns: false, dialTimeoutMs: 3_000 });
    await node.start();
    nodes.push(node);
  }
  requester = nodes[0]!;
  for (const validator of nodes.slice(1)) {
    await requester.libp2p.dial(validator.libp2p.getMultiaddrs()[0]!);
    handlers.push(await registerVerifyHandler(validator.libp2p, { resolveModel: (sha) => (sha === modelSha ? served : undefined), sign: (bytes) => validator.privateKey.sign(bytes), logger }));
  }
  for (const name of ["honest", "random", "wrong-model", "q8-as-f32", "truncated-eos", "truncated-length", "replay", "sampled-random"]) peers[name] = await newPeerId();

  const time = createFakeTime();
  reputation = createReputation({ clock: time.clock });
  coordinator = createValidationCoordinator({
    random: seededRandom(5),
    // The worker being judged is among the model's servers: the coordinator must skip it.
    candidates: async () => [...(judgedWorker ? [judgedWorker] : []), ...nodes.slice(1).map((node) => node.peerId)],
    verify: (validatorPeerId, request, { signal }) => requestVerification(requester.libp2p, validatorPeerId, request, { signal, onMisbehaviour: (peerId, reason) => misbehaviour.push(`${peerId}: ${reason}`) }),
    reputation,
    logger,
    options: { quorum: 3 },
  });
});

afterAll(async () => {
  for (const handler of handlers) await handler.stop();
  await Promise.all(nodes.map((node) => node.stop()));
  await engine?.close();
});

describe("verification over /inferswarm/verify/1.0.0 with real engines", () => {
  it("passes an honest worker's answer, signed by a validator other than the worker", async () => {
    const job = finished(peers.honest!, await answer(served, prompts[0]!));
    const outcome = await coordinator.validate(job);
    expect(outcome.verdict).toBe("pass");
    expect(outcome.votes).toHaveLength(1);
    const vote = outcome.votes[0]!;
    expect(nodes.slice(1).map((node) => node.peerId)).toContain(vote.validatorPeerId);
    expect(vote.attestation!.body).toMatchObject({ jobId: job.jobId, verdict: "pass", quantization: "F32" });
    expect(vote.judgement!.stats.maxMargin).toBeLessThanOrEqual(0.05);
    expect(await verifyAttestationSignature(vote.attestation!)).toBe(true);
    expect(reputation.standing(peers.honest!).passes).toBe(1);
  });

  it("never penalizes an honest worker: greedy, sampled and resumed answers all pass", async () => {
    for (let i = 1; i < 16; i++) {
      const sampling = i % 3 === 0 ? { temperature: 0.8, seed: i } : { temperature: 0 };
      let parts = await answer(served, prompts[i]!, sampling);
      if (i % 5 === 0) {
        // Resumed mid-answer (failover): the prefix is evaluated as one batch, then generation goes on.
        const promptTokens = served.tokenizePrompt(prompts[i]!);
        const resumed = await served.generateText({ prompt: { tokens: promptTokens }, resumeTokens: parts.tokens.slice(0, 7), maxTokens: MAX_TOKENS });
        parts = { promptTokens, tokens: resumed.tokens, finishReason: resumed.finishReason };
      }
      const outcome = await coordinator.validate(finished(peers.honest!, parts, sampling));
      expect(outcome.verdict, `answer ${i}`).toBe("pass");
    }
    expect(reputation.standing(peers.honest!)).toMatchObject({ fails: 0, passes: 16 });
    expect(misbehaviour).toEqual([]);
  });

  it("catches each kind of cheat by a quorum, and the cheater falls below the honest worker", async () => {
    const vocabulary = buildVocabulary(served.info.vocabularySize);
    const words = vocabulary.emittable.flatMap((ok, token) => (ok ? [token] : []));
    const random = seededRandom(99);
    const salad = () => Array.from({ length: MAX_TOKENS }, () => words[Math.floor(random() * words.length)]!);
    const honest = await answer(served, prompts[20]!);
    const other = await answer(served, prompts[21]!);

    // Q8_0 weights often give the very same greedy tokens on a peaky model (then there is nothing to
    // catch); use the first prompts where they differ from the F32 answer.
    let q8Answer: Awaited<ReturnType<typeof answer>> | undefined;
    for (let i = 22; i < 40 && !q8Answer; i++) {
      const cheap = await answer(q8, prompts[i]!);
      const full = await answer(served, prompts[i]!);
      if (cheap.tokens.some((token, index) => token !== full.tokens[index])) q8Answer = cheap;
    }
    expect(q8Answer, "Q8_0 and F32 gave different answers on at least one prompt").toBeDefined();

    const cheats: Record<string, FinishedJob> = {
      random: finished(peers.random!, { promptTokens: honest.promptTokens, tokens: salad(), finishReason: "length" }),
      "wrong-model": finished(peers["wrong-model"]!, await answer(wrong, prompts[20]!)),
      "q8-as-f32": finished(peers["q8-as-f32"]!, q8Answer!),
      "truncated-eos": finished(peers["truncated-eos"]!, { ...honest, tokens: honest.tokens.slice(0, 11), finishReason: "eos" }),
      "truncated-length": finished(peers["truncated-length"]!, { ...honest, tokens: honest.tokens.slice(0, 11), finishReason: "length" }),
      replay: finished(peers.replay!, { promptTokens: honest.promptTokens, tokens: other.tokens, finishReason: other.finishReason }),
      "sampled-random": finished(peers["sampled-random"]!, { promptTokens: honest.promptTokens, tokens: salad(), finishReason: "length" }, { temperature: 0.8, seed: 3 }),
    };
    const honestScore = reputation.score(peers.honest!);
    for (const [name, job] of Object.entries(cheats)) {
      const outcome = await coordinator.validate(job);
      expect(outcome.verdict, name).toBe("fail");
      expect(outcome.votes.filter((vote) => vote.verdict === "fail").length, `${name}: a quorum of three`).toBe(3);
      expect(outcome.blamed, name).toEqual([job.workerPeerId]);
      expect(reputation.score(job.workerPeerId), name).toBeLessThan(honestScore);
      expect(reputation.tier(job.workerPeerId), name).toBe("distrusted");
      expect(reputation.holdPolicy(job.workerPeerId), name).toBe("held");
    }
    // Validators that agreed are not marked down, and none misbehaved.
    for (const node of nodes.slice(1)) expect(reputation.standing(node.peerId).fails).toBe(0);
    expect(misbehaviour).toEqual([]);
  });
});

describe("hidden challenges with a real engine", () => {
  async function challengeWith(runAnswer: (job: ChallengeJob) => Promise<{ tokens: number[]; finishReason: "eos" | "length" | "stop" }>) {
    const time = createFakeTime();
    const book = createReputation({ clock: time.clock });
    const challenger = createChallenger({
      model: served,
      prompts,
      runJob: (_peerId, job) => runAnswer(job),
      targets: async () => ["worker"],
      reputation: book,
      random: seededRandom(8),
      timers: time.timers,
      clock: time.clock,
      logger,
    });
    const outcomes = [];
    for (let i = 0; i < 4; i++) outcomes.push(await challenger.challenge("worker"));
    return { outcomes, book };
  }

  it("passes an honest worker and fails one running another model", async () => {
    const honest = await challengeWith(async (job) => served.generateText({ prompt: { tokens: job.prompt.tokens }, maxTokens: job.maxTokens, sampling: job.sampling }));
    expect(honest.outcomes.map((o) => o.verdict)).toEqual(["pass", "pass", "pass", "pass"]);
    expect(honest.book.standing("worker").passes).toBe(4);

    const cheater = await challengeWith(async (job) => wrong.generateText({ prompt: { tokens: job.prompt.tokens }, maxTokens: job.maxTokens, sampling: job.sampling }));
    expect(cheater.outcomes.map((o) => o.verdict)).toEqual(["fail", "fail", "fail", "fail"]);
    expect(cheater.book.tier("worker")).toBe("distrusted");
  });
});
