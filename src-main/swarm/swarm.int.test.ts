import { generateKeyPair } from "@libp2p/crypto/keys";
import type { Stream } from "@libp2p/interface";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fuzzCases, sendFuzzCases } from "./protocol-fuzz.test-support.js";
import { createSilentLogger } from "../common/index.js";
import { createEngine, type Engine, type LoadedModel } from "../engine/index.js";
import { ensureSyntheticModel } from "../models/index.js";
import {
  ADVERT_TOPIC,
  createAdvertService,
  createFrameStream,
  createJobTransport,
  createLatencyProbe,
  createSwarmNode,
  generateSwarmKey,
  JOB_LIMITS,
  JOB_PROTOCOL_ID,
  modelProviderCid,
  jobRequestSchema,
  parseSwarmKey,
  registerJobHandler,
  signAdvert,
  SwarmError,
  workerFrameSchema,
  type AdvertService,
  type AdvertState,
  type JobHandler,
  type JobOutcome,
  type JobRequest,
  type SwarmNode,
  type WorkerFrame,
} from "./index.js";

const logger = createSilentLogger();
const LOOPBACK = ["/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/tcp/0/ws"];
const idle: AdvertState = { models: [], freeSlots: 0, queueLength: 0, policy: { contribute: false, reasonCode: "requester-only" } };

async function startNode(options: { bootstrap?: string[]; swarmKey?: Uint8Array } = {}): Promise<SwarmNode> {
  const node = await createSwarmNode({ privateKey: await generateKeyPair("Ed25519"), logger, listen: LOOPBACK, mdns: false, dialTimeoutMs: 3_000, ...options });
  await node.start();
  return node;
}

/** Polls a condition a bounded number of times; fails with `what` if it never holds. */
async function waitFor(what: string, check: () => boolean | Promise<boolean>, options: { tries?: number; delayMs?: number; between?: () => unknown } = {}) {
  const tries = options.tries ?? 100;
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await options.between?.();
    await new Promise((resolve) => setTimeout(resolve, options.delayMs ?? 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function collectJob(frames: AsyncIterable<WorkerFrame>) {
  const ids: number[] = [];
  let text = "";
  const seen: WorkerFrame[] = [];
  for await (const frame of frames) {
    seen.push(frame);
    if (frame.type === "tokens") {
      ids.push(...frame.ids);
      text += frame.texts.join("");
    }
  }
  return { ids, text, frames: seen };
}

async function caught(promise: Promise<unknown>): Promise<SwarmError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SwarmError);
  return error as SwarmError;
}

let engine: Engine;
let model: LoadedModel;
let modelSha: string;
const nodes: SwarmNode[] = [];
const adverts: AdvertService[] = [];
let worker: SwarmNode;
let requester: SwarmNode;
let handler: JobHandler;
const outcomes: JobOutcome[] = [];
const misbehaviour: Array<{ peerId: string; reason: string }> = [];

function request(overrides: Partial<JobRequest> = {}): JobRequest {
  return jobRequestSchema.parse({
    type: "request",
    jobId: `job-${Math.random().toString(36).slice(2, 12)}`,
    modelSha256: modelSha,
    prompt: { tokens: model.tokenizePrompt("The swarm answers") },
    sampling: { temperature: 0 },
    maxTokens: 40,
    ...overrides,
  });
}

beforeAll(async () => {
  const made = await ensureSyntheticModel({ preset: "tiny", seed: 1, quantization: "F32", peaky: true });
  modelSha = made.sha256;
  engine = await createEngine({ gpu: false });
  model = await engine.loadModel(made.path, { threads: 1 });

  const hub = await startNode();
  nodes.push(hub);
  const bootstrapList = [hub.multiaddrs().find((address) => !address.includes("/ws"))!];
  for (let i = 0; i < 4; i++) nodes.push(await startNode({ bootstrap: bootstrapList }));
  worker = nodes[1]!;
  requester = nodes[3]!;

  handler = await registerJobHandler(worker.libp2p, {
    resolveModel: (sha) => (sha === modelSha ? model : undefined),
    logger,
    onJobFinished: (outcome) => outcomes.push(outcome),
    onMisbehaviour: (peerId, reason) => misbehaviour.push({ peerId, reason }),
    requestDeadlineMs: 1_000,
  });

  for (const node of nodes) {
    const state: AdvertState =
      node === worker
        ? {
            models: [{ sha256: modelSha, name: "tiny", quantization: "F32", contextSize: model.contextSize, tokensPerSecond: 1000, pricePer1kTokens: 1 }],
            freeSlots: 1,
            queueLength: 0,
            policy: { contribute: true, reasonCode: "idle" },
          }
        : idle;
    // Republishing is driven by the test so that a late node can miss every advert.
    const service = createAdvertService(node.libp2p, node.privateKey, { logger, initialState: state, republishIntervalMs: 10 * 60_000 });
    await service.start();
    adverts.push(service);
  }
});

afterAll(async () => {
  await handler?.stop();
  for (const service of adverts) await service.stop();
  await Promise.all(nodes.map((node) => node.stop()));
  await engine?.close();
});

describe("a swarm of five nodes on loopback", () => {
  it("connects every node through the bootstrap node", async () => {
    await waitFor("bootstrap connections", () => nodes.slice(1).every((node) => node.libp2p.getConnections(nodes[0]!.libp2p.peerId).length > 0));
  });

  it("delivers every node's signed advert to every other node", async () => {
    const ids = nodes.map((node) => node.peerId);
    await waitFor(
      "adverts everywhere",
      () => adverts.every((service, i) => ids.every((id, j) => i === j || service.advertOf(id) !== undefined)),
      { between: () => Promise.all(adverts.map((service) => service.publishNow().catch(() => undefined))), delayMs: 200 },
    );
    const seenByRequester = adverts[3]!.advertOf(worker.peerId)!;
    expect(seenByRequester.models[0]!.sha256).toBe(modelSha);
    const candidates = await adverts[3]!.candidates(modelSha);
    expect(candidates[0]).toMatchObject({ peerId: worker.peerId, advert: { peerId: worker.peerId } });
    // Only the worker serves the model and contributes.
    expect(new Set(candidates.map((candidate) => candidate.peerId))).toEqual(new Set([worker.peerId]));
  });

  it("drops forged and expired adverts", async () => {
    const forger = nodes[4]!;
    const hubAdverts = adverts[0]!;
    const before = hubAdverts.dropCounts();
    const known = hubAdverts.advertOf(forger.peerId)!;
    const now = Date.now();
    const body = { ...known, sequence: known.sequence + 1_000_000, freeSlots: 99, issuedAt: now, expiresAt: now + 30_000 };
    // Signed by another key: the signature cannot match the forger's peer id.
    const forged = await signAdvert(body, await generateKeyPair("Ed25519"));
    await forger.libp2p.services.pubsub.publish(ADVERT_TOPIC, new TextEncoder().encode(JSON.stringify(forged)));
    // Correctly signed but long expired.
    const expired = await signAdvert({ ...body, issuedAt: now - 120_000, expiresAt: now - 70_000 }, forger.privateKey);
    await forger.libp2p.services.pubsub.publish(ADVERT_TOPIC, new TextEncoder().encode(JSON.stringify(expired)));
    // Someone else's advert relayed as one's own.
    const stolen = await signAdvert({ ...hubAdverts.advertOf(worker.peerId)!, sequence: Date.now() + 5 }, worker.privateKey);
    await forger.libp2p.services.pubsub.publish(ADVERT_TOPIC, new TextEncoder().encode(JSON.stringify(stolen)));
    await forger.libp2p.services.pubsub.publish(ADVERT_TOPIC, new TextEncoder().encode("{\"body\":{}}"));

    await waitFor("the hub to drop all four", () => {
      const after = hubAdverts.dropCounts();
      return after["bad-signature"] > before["bad-signature"] && after.expired > before.expired && after["sender-mismatch"] > before["sender-mismatch"] && after.malformed > before.malformed;
    });
    expect(hubAdverts.advertOf(forger.peerId)!.freeSlots).toBe(0);
    expect(hubAdverts.advertOf(worker.peerId)!.sequence).not.toBe(stolen.body.sequence);
    for (const service of adverts) expect(service.advertOf(forger.peerId)?.freeSlots ?? 0).toBe(0);
  });

  it("finds the worker through DHT providers on a node that missed every advert", async () => {
    // The raw provider lookup `candidates()` falls back to: it must not depend on gossip, which may
    // deliver the worker's next republished advert to the late node at any time.
    const late = await startNode({ bootstrap: [nodes[0]!.multiaddrs()[0]!] });
    try {
      const cid = await modelProviderCid(modelSha);
      let found: string[] = [];
      await waitFor(
        "a DHT provider",
        async () => {
          found = [];
          try {
            for await (const provider of late.libp2p.contentRouting.findProviders(cid, { signal: AbortSignal.timeout(1_500) })) found.push(provider.id.toString());
          } catch {
            // a lookup cut short by its deadline still reports what it found
          }
          return found.includes(worker.peerId);
        },
        { tries: 40, delayMs: 250 },
      );
      expect(found).not.toContain(late.peerId);
    } finally {
      await late.stop();
    }
  });

  it("falls back to DHT providers in candidates() when no fresh advert serves the model", async () => {
    // A model only the DHT knows about, provided by a node that never advertises (a fresh advert that
    // does not list the model would, rightly, outrank the DHT record).
    const dhtOnlySha = "d".repeat(64);
    const provider = await startNode({ bootstrap: [nodes[0]!.multiaddrs()[0]!] });
    await waitFor("the provider to join the DHT", async () => {
      try {
        await provider.libp2p.contentRouting.provide(await modelProviderCid(dhtOnlySha), { signal: AbortSignal.timeout(2_000) });
        return true;
      } catch {
        return false;
      }
    }, { tries: 20, delayMs: 250 });
    const late = await startNode({ bootstrap: [nodes[0]!.multiaddrs()[0]!] });
    const lateAdverts = createAdvertService(late.libp2p, late.privateKey, { logger, initialState: idle, providerLookupMs: 1_500 });
    try {
      await lateAdverts.start();
      let found: string[] = [];
      await waitFor(
        "a DHT-only candidate",
        async () => {
          found = (await lateAdverts.candidates(dhtOnlySha)).map((candidate) => candidate.peerId);
          return found.includes(provider.peerId);
        },
        { tries: 40, delayMs: 250 },
      );
      expect(found).not.toContain(late.peerId);
    } finally {
      await lateAdverts.stop();
      await late.stop();
      await provider.stop();
    }
  });

  it("measures latency with ping, repeatedly", async () => {
    const probe = createLatencyProbe(requester.libp2p);
    for (let i = 0; i < 4; i++) expect(await probe.latencyMs(worker.peerId)).toBeGreaterThanOrEqual(0);
  });
});

describe("the job protocol on a real engine", () => {
  it("streams the same tokens as a local run, then an end frame", async () => {
    const job = request();
    const local = await model.generateText({ prompt: { tokens: job.prompt.tokens }, maxTokens: job.maxTokens, sampling: { temperature: 0 } });
    const transport = createJobTransport(requester.libp2p, { logger });
    const { ids, text, frames } = await collectJob(transport.openJob(worker.peerId, job, {}));
    expect(ids).toEqual(local.tokens);
    expect(text).toBe(local.text);
    expect(frames[0]).toEqual({ type: "accepted", queuePosition: 0 });
    expect(frames.at(-1)).toEqual({ type: "end", finishReason: local.finishReason, promptTokens: job.prompt.tokens.length, answerTokens: local.tokens.length, generatedTokens: local.generatedTokenCount });
    await waitFor("the job outcome", () => outcomes.some((outcome) => outcome.jobId === job.jobId));
    // What the worker records for its receipt: exactly what it was asked and what it sent.
    expect(outcomes.find((outcome) => outcome.jobId === job.jobId)).toMatchObject({
      outcome: "end",
      peerId: requester.peerId,
      answerTokens: local.tokens.length,
      promptTokenIds: job.prompt.tokens,
      resumeTokenIds: [],
      generatedTokenIds: local.tokens,
    });
  });

  it("streams a job over WebSockets alone (a peer that can only reach the worker's /ws address)", async () => {
    const wsAddress = worker.multiaddrs().find((address) => address.includes("/ws/"))!;
    expect(wsAddress).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/ws\/p2p\//);
    const browserLike = await createSwarmNode({ privateKey: await generateKeyPair("Ed25519"), logger, listen: ["/ip4/127.0.0.1/tcp/0/ws"], mdns: false, bootstrap: [wsAddress], dialTimeoutMs: 3_000 });
    await browserLike.start();
    try {
      await waitFor("the WebSocket connection", () => browserLike.libp2p.getConnections().some((c) => c.remotePeer.toString() === worker.peerId));
      const job = request();
      const local = await model.generateText({ prompt: { tokens: job.prompt.tokens }, maxTokens: job.maxTokens, sampling: { temperature: 0 } });
      const { ids } = await collectJob(createJobTransport(browserLike.libp2p, { logger }).openJob(worker.peerId, job, {}));
      expect(ids).toEqual(local.tokens);
      const toWorker = browserLike.libp2p.getConnections().filter((c) => c.remotePeer.toString() === worker.peerId);
      expect(toWorker.map((c) => c.remoteAddr.toString())).toEqual([expect.stringContaining("/ws")]);
    } finally {
      await browserLike.stop();
    }
  });

  it("resumes after tokens already delivered, numbering from the answer position", async () => {
    const full = await model.generateText({ prompt: { tokens: request().prompt.tokens }, maxTokens: 40 });
    const job = request({ resumeTokens: full.tokens.slice(0, 7) });
    const transport = createJobTransport(requester.libp2p, { logger });
    const { ids, frames } = await collectJob(transport.openJob(worker.peerId, job, {}));
    expect(ids).toEqual(full.tokens.slice(7));
    expect(frames.find((frame) => frame.type === "tokens")).toMatchObject({ index: 7 });
    expect(frames.at(-1)).toMatchObject({ type: "end", answerTokens: full.tokens.length });
  });

  it("stops the worker's job when the requester leaves mid-stream", async () => {
    const job = request({ maxTokens: model.contextSize - 10 });
    const transport = createJobTransport(requester.libp2p, { logger });
    let tokensSeen = 0;
    for await (const frame of transport.openJob(worker.peerId, job, {})) {
      if (frame.type === "tokens") {
        tokensSeen += frame.ids.length;
        break;
      }
    }
    expect(tokensSeen).toBeGreaterThan(0);
    await waitFor("the job to stop", () => outcomes.some((outcome) => outcome.jobId === job.jobId) && model.stats().active === 0 && handler.activeJobs() === 0);
    const outcome = outcomes.find((o) => o.jobId === job.jobId)!;
    expect(outcome.outcome).toBe("gone");
    expect(outcome.generatedTokens).toBeLessThan(job.maxTokens);
  });

  it("reports a model the worker does not serve as a retryable worker error", async () => {
    const transport = createJobTransport(requester.libp2p, { logger });
    const error = await caught(collectJob(transport.openJob(worker.peerId, request({ modelSha256: "0".repeat(64) }), {})));
    expect(error).toMatchObject({ code: "SWARM_WORKER_ERROR", workerCode: "SWARM_MODEL_NOT_SERVED", retryable: true });
  });

  it("reports an unreachable peer as a dial failure", async () => {
    const { peerIdFromPrivateKey } = await import("@libp2p/peer-id");
    const nobody = peerIdFromPrivateKey(await generateKeyPair("Ed25519")).toString();
    const transport = createJobTransport(requester.libp2p, { logger, dialTimeoutMs: 1_500 });
    const error = await caught(collectJob(transport.openJob(nobody, request(), {})));
    expect(error.code).toBe("SWARM_DIAL_FAILED");
  });

  describe("against misbehaving workers", () => {
    const rogue = () => nodes[2]!;
    let behaviour: (stream: Stream) => Promise<void> = async () => undefined;

    beforeAll(async () => {
      await rogue().libp2p.handle(JOB_PROTOCOL_ID, async (stream) => {
        const frames = createFrameStream(stream);
        await frames.readFrame(jobRequestSchema, { deadlineMs: 2_000 });
        await behaviour(stream);
      });
    });
    afterAll(async () => {
      await rogue().libp2p.unhandle(JOB_PROTOCOL_ID);
    });

    const open = (frameDeadlineMs = 2_000) => collectJob(createJobTransport(requester.libp2p, { logger }).openJob(rogue().peerId, request(), { frameDeadlineMs }));

    it("throws SWARM_BAD_FRAME on a malformed frame", async () => {
      behaviour = async (stream) => {
        await createFrameStream(stream).writeFrame({ type: "tokens", index: 0, ids: ["x"] });
      };
      expect((await caught(open())).code).toBe("SWARM_BAD_FRAME");
    });

    it("throws SWARM_BAD_FRAME when tokens skip answer positions", async () => {
      behaviour = async (stream) => {
        const frames = createFrameStream(stream);
        await frames.writeFrame({ type: "tokens", index: 0, ids: [5], texts: ["a"] });
        await frames.writeFrame({ type: "tokens", index: 3, ids: [6], texts: ["b"] });
      };
      expect((await caught(open())).code).toBe("SWARM_BAD_FRAME");
    });

    it("throws SWARM_STALLED when the worker goes quiet", async () => {
      behaviour = async (stream) => {
        await createFrameStream(stream).writeFrame({ type: "accepted", queuePosition: 0 });
      };
      expect((await caught(open(300))).code).toBe("SWARM_STALLED");
    });

    it("throws SWARM_NO_END when the stream ends without an end frame", async () => {
      behaviour = async (stream) => {
        const frames = createFrameStream(stream);
        await frames.writeFrame({ type: "tokens", index: 0, ids: [5], texts: ["a"] });
        await frames.close();
      };
      expect((await caught(open())).code).toBe("SWARM_NO_END");
    });

    it("yields nothing after an error frame and throws its code", async () => {
      behaviour = async (stream) => {
        const frames = createFrameStream(stream);
        await frames.writeFrame({ type: "error", code: "ENGINE_BUSY", message: "full", retryable: true });
        await frames.writeFrame({ type: "keepalive" });
      };
      const transport = createJobTransport(requester.libp2p, { logger });
      const seen: WorkerFrame[] = [];
      const error = await caught(
        (async () => {
          for await (const frame of transport.openJob(rogue().peerId, request(), {})) seen.push(frame);
        })(),
      );
      expect(seen).toEqual([]);
      expect(error).toMatchObject({ code: "SWARM_WORKER_ERROR", workerCode: "ENGINE_BUSY", retryable: true });
    });
  });

  it("survives 200 fuzzed requests, answering each with an error or a closed stream", async () => {
    const valid = request() as unknown as Record<string, unknown>;
    const mutations: Array<(r: Record<string, unknown>) => void> = [
      (r) => delete r.jobId,
      (r) => (r.maxTokens = -5),
      (r) => (r.modelSha256 = "XYZ"),
      (r) => (r.prompt = { tokens: [] }),
      (r) => (r.extra = true),
      (r) => (r.type = "end"),
      (r) => (r.sampling = { temperature: "hot" }),
      (r) => (r.stop = ["a", "b", "c", "d", "e"]),
      (r) => (r.resumeTokens = [-1]),
    ];
    const cases = fuzzCases({ seed: 0x5eed, count: 200, validFrame: valid, mutations, maxFrameBytes: JOB_LIMITS.maxFrameBytes });

    const before = misbehaviour.length;
    const answers = await sendFuzzCases(cases, {
      dial: () => requester.libp2p.dialProtocol(worker.libp2p.peerId, JOB_PROTOCOL_ID),
      answerSchema: workerFrameSchema,
      describeAnswer: (frame) => (frame.type === "error" ? `error:${frame.code}` : `unexpected:${frame.type}`),
      allowedAnswers: ["error:SWARM_BAD_REQUEST", "SWARM_NO_END"],
    });
    // Both ways of refusing occur: an error frame for what was read, a reset for what was truncated.
    expect(answers["error:SWARM_BAD_REQUEST"]).toBeGreaterThan(0);
    expect(answers.SWARM_NO_END).toBeGreaterThan(0);
    await waitFor("every fuzz case to be reported", () => misbehaviour.length - before === cases.length);
    expect(misbehaviour.slice(before).every((entry) => entry.peerId === requester.peerId)).toBe(true);

    // The worker still serves honest requests.
    const { frames } = await collectJob(createJobTransport(requester.libp2p, { logger }).openJob(worker.peerId, request({ maxTokens: 8 }), {}));
    expect(frames.at(-1)).toMatchObject({ type: "end", answerTokens: 8 });
  });
});

describe("queueing and shutdown", () => {
  it("tells a queued job its position and keeps it alive until it runs", async () => {
    const second = nodes[4]!;
    const queueing = await registerJobHandler(second.libp2p, { resolveModel: () => model, logger, keepaliveIntervalMs: 50 });
    try {
      const transport = createJobTransport(requester.libp2p, { logger });
      const long = collectJob(transport.openJob(second.peerId, request({ maxTokens: 600 }), {}));
      await waitFor("the long job to run", () => model.stats().active === 1, { delayMs: 10, tries: 500 });
      const queued = await collectJob(transport.openJob(second.peerId, request({ maxTokens: 8 }), {}));
      expect(queued.frames[0]).toEqual({ type: "accepted", queuePosition: 1 });
      expect(queued.frames.some((frame) => frame.type === "keepalive")).toBe(true);
      expect(queued.frames.at(-1)).toMatchObject({ type: "end", answerTokens: 8 });
      expect((await long).frames.at(-1)).toMatchObject({ type: "end", answerTokens: 600 });
    } finally {
      await queueing.stop();
    }
  });

  it("refuses jobs with a retryable ENGINE_PAUSED while the owner's policy pauses the engine", async () => {
    const limits = model.stats();
    model.setAdmission({ accepting: false, maxActiveJobs: limits.maxActive, reason: "game running" });
    try {
      const transport = createJobTransport(requester.libp2p, { logger });
      const error = await caught(collectJob(transport.openJob(worker.peerId, request(), {})));
      expect(error).toMatchObject({ code: "SWARM_WORKER_ERROR", workerCode: "ENGINE_PAUSED", retryable: true });
    } finally {
      model.setAdmission({ accepting: true, maxActiveJobs: limits.maxActive });
    }
  });

  it("ends running jobs with a retryable error when the worker shuts down", async () => {
    const transport = createJobTransport(requester.libp2p, { logger });
    const running = collectJob(transport.openJob(worker.peerId, request({ maxTokens: model.contextSize - 10 }), {}));
    await waitFor("the job to run", () => handler.activeJobs() === 1 && model.stats().active === 1, { delayMs: 10, tries: 500 });
    await handler.stop();
    expect(await caught(running)).toMatchObject({ code: "SWARM_WORKER_ERROR", workerCode: "SWARM_SHUTTING_DOWN", retryable: true });
    expect(model.stats().active).toBe(0);
    // New streams are refused once the protocol is unregistered.
    expect((await caught(collectJob(transport.openJob(worker.peerId, request(), {})))).code).toBe("SWARM_DIAL_FAILED");
  });
});

describe("a private swarm", () => {
  it("lets only nodes with the swarm key connect", async () => {
    const key = parseSwarmKey(generateSwarmKey());
    const members = [await startNode({ swarmKey: key }), await startNode({ swarmKey: key })];
    const outsiders = [await startNode({ swarmKey: parseSwarmKey(generateSwarmKey()) }), await startNode()];
    try {
      await members[1]!.libp2p.dial(members[0]!.libp2p.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(5_000) });
      expect(members[1]!.libp2p.getConnections(members[0]!.libp2p.peerId).length).toBeGreaterThan(0);
      for (const outsider of outsiders) {
        await expect(outsider.libp2p.dial(members[0]!.libp2p.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(3_000) })).rejects.toThrow();
        expect(outsider.libp2p.getConnections(members[0]!.libp2p.peerId)).toEqual([]);
      }
    } finally {
      await Promise.all([...members, ...outsiders].map((node) => node.stop()));
    }
  });
});
