import { generateKeyPair } from "@libp2p/crypto/keys";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSilentLogger } from "../common/index.js";
import type { ScoreRequest, ScoreResult } from "../engine/index.js";
import { hashScores, hashTokens, TrustError, type AnswerScores, type AttestationBody, type VerificationRequest } from "../trust/index.js";
import { varint } from "./length-prefix.test-support.js";
import { fuzzCases, sendFuzzCases } from "./protocol-fuzz.test-support.js";
import {
  createFrameStream,
  createSwarmNode,
  registerVerifyHandler,
  requestVerification,
  signAttestation,
  SwarmError,
  VERIFY_LIMITS,
  VERIFY_PROTOCOL_ID,
  verifyAttestationSignature,
  verifyRequestSchema,
  verifyResponseSchema,
  type SwarmNode,
  type VerifyHandler,
  type VerifyingModel,
} from "./index.js";

const logger = createSilentLogger();
const MODEL = "c".repeat(64);

/** A toy model: the best next token is a function of the whole context, so foreign answers stand out. */
const next = (context: readonly number[]) => 3 + (context.reduce((sum, token, i) => sum + token * (i + 1), 0) % 90);
let gate: Promise<void> = Promise.resolve();
const toyModel: VerifyingModel = {
  info: { sha256: MODEL, quantization: "F32", vocabularySize: 100 },
  contextSize: 512,
  eosToken: 2,
  isEndOfGenerationToken: (token) => token === 2,
  async score(request: ScoreRequest): Promise<ScoreResult> {
    await gate;
    const context = [...request.promptTokens];
    const positions = request.claimedTokens.map((token) => {
      const best = next(context);
      context.push(token);
      return token === best ? { token, rank: 0, logitMargin: 0, probability: 0.99, bestToken: best } : { token, rank: null, logitMargin: 25, probability: 0, bestToken: best };
    });
    return { positions, topK: request.topK ?? 8 };
  },
};

function honestAnswer(prompt: number[], length: number): number[] {
  const tokens: number[] = [];
  for (let i = 0; i < length; i++) tokens.push(next([...prompt, ...tokens]));
  return tokens;
}

function verification(overrides: Partial<VerificationRequest> = {}): VerificationRequest {
  const promptTokens = [1, 40, 41, 42];
  return { jobId: `job-${Math.random().toString(36).slice(2, 12)}`, modelSha256: MODEL, promptTokens, claimedTokens: honestAnswer(promptTokens, 12), sampling: { temperature: 0 }, finishReason: "length", maxTokens: 12, ...overrides };
}

async function waitFor(what: string, check: () => boolean, tries = 100) {
  for (let i = 0; i < tries; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

let validator: SwarmNode;
let requester: SwarmNode;
let rogue: SwarmNode;
let handler: VerifyHandler;
const misbehaviour: Array<{ peerId: string; reason: string }> = [];

beforeAll(async () => {
  const start = async () => {
    const node = await createSwarmNode({ privateKey: await generateKeyPair("Ed25519"), logger, listen: ["/ip4/127.0.0.1/tcp/0"], mdns: false, dialTimeoutMs: 3_000 });
    await node.start();
    return node;
  };
  [validator, requester, rogue] = [await start(), await start(), await start()];
  for (const node of [requester, rogue]) await node.libp2p.dial(validator.libp2p.getMultiaddrs()[0]!);
  await requester.libp2p.dial(rogue.libp2p.getMultiaddrs()[0]!);
  handler = await registerVerifyHandler(validator.libp2p, {
    resolveModel: (sha) => (sha === MODEL ? toyModel : undefined),
    sign: (bytes) => validator.privateKey.sign(bytes),
    logger,
    onMisbehaviour: (peerId, reason) => misbehaviour.push({ peerId, reason }),
    requestDeadlineMs: 1_000,
    maxQueuedPerModel: 2,
  });
});

afterAll(async () => {
  await handler?.stop();
  await Promise.all([validator, requester, rogue].map((node) => node?.stop()));
});

describe("the verify protocol", () => {
  it("returns a signed attestation that passes an honest answer, with scores the requester can re-judge", async () => {
    const request = verification();
    const answer = await requestVerification(requester.libp2p, validator.peerId, request);
    const body = answer.attestation.body;
    expect(body).toMatchObject({ jobId: request.jobId, validatorPeerId: validator.peerId, modelSha256: MODEL, verdict: "pass", quantization: "F32", finishReason: "length" });
    expect(body.promptSha256).toBe(hashTokens(request.promptTokens));
    expect(body.outputSha256).toBe(hashTokens(request.claimedTokens));
    expect(body.scoresSha256).toBe(hashScores(answer.scores));
    expect(answer.scores.positions).toHaveLength(12);
    expect(await verifyAttestationSignature(answer.attestation)).toBe(true);
    expect(await verifyAttestationSignature({ ...answer.attestation, body: { ...body, verdict: "fail" } })).toBe(false);
  });

  it("fails a foreign answer, a truncated one claimed as finished, and one claimed full but short", async () => {
    const salad = await requestVerification(requester.libp2p, validator.peerId, verification({ claimedTokens: Array.from({ length: 12 }, (_, i) => 3 + i) }));
    expect(salad.attestation.body).toMatchObject({ verdict: "fail", reasons: ["positions"] });
    const honest = verification();
    const cut = honest.claimedTokens.slice(0, 5);
    const eos = await requestVerification(requester.libp2p, validator.peerId, { ...honest, claimedTokens: cut, finishReason: "eos" });
    expect(eos.attestation.body).toMatchObject({ verdict: "fail", reasons: ["end-implausible"] });
    expect(eos.scores.end).not.toBeNull();
    const short = await requestVerification(requester.libp2p, validator.peerId, { ...honest, claimedTokens: cut });
    expect(short.attestation.body).toMatchObject({ verdict: "fail", reasons: ["length-mismatch"] });
  });

  it("refuses a model it does not serve (retryable) and tokens outside the vocabulary (misbehaviour)", async () => {
    const unknown = await requestVerification(requester.libp2p, validator.peerId, verification({ modelSha256: "d".repeat(64) })).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ code: "SWARM_WORKER_ERROR", workerCode: "SWARM_MODEL_NOT_SERVED", retryable: true });
    const before = misbehaviour.length;
    const foreign = await requestVerification(requester.libp2p, validator.peerId, verification({ claimedTokens: [5000], maxTokens: 1 })).catch((e: unknown) => e);
    expect(foreign).toMatchObject({ workerCode: "SWARM_BAD_REQUEST", retryable: false });
    expect(misbehaviour.length).toBe(before + 1);
  });

  it("scores one answer per model at a time and answers VERIFY_BUSY beyond its queue", async () => {
    let open!: () => void;
    gate = new Promise<void>((resolve) => (open = resolve));
    try {
      const pending = Array.from({ length: 3 }, () => requestVerification(requester.libp2p, validator.peerId, verification()));
      await waitFor("one scoring and two waiting", () => handler.pending() === 3);
      const busy = await requestVerification(requester.libp2p, validator.peerId, verification()).catch((e: unknown) => e);
      expect(busy).toMatchObject({ code: "SWARM_WORKER_ERROR", workerCode: "VERIFY_BUSY", retryable: true });
      open();
      for (const answer of await Promise.all(pending)) expect(answer.attestation.body.verdict).toBe("pass");
    } finally {
      open();
      gate = Promise.resolve();
    }
    expect(handler.pending()).toBe(0);
  });

  it("survives 150 fuzzed requests: no crash, a clear error or a reset, each reported as misbehaviour", async () => {
    const valid = { type: "verify", ...verification() } as Record<string, unknown>;
    const mutations: Array<(r: Record<string, unknown>) => void> = [
      (r) => delete r.jobId,
      (r) => (r.maxTokens = 0),
      (r) => (r.modelSha256 = "XYZ"),
      (r) => (r.promptTokens = []),
      (r) => (r.claimedTokens = Array.from({ length: 5000 }, () => 3)),
      (r) => (r.extra = true),
      (r) => (r.type = "attestation"),
      (r) => (r.finishReason = "tired"),
      (r) => (r.sampling = { temperature: 9 }),
      (r) => (r.claimedTokens = [-1]),
    ];
    const cases = fuzzCases({ seed: 0x7e51f1, count: 150, validFrame: valid, mutations, maxFrameBytes: VERIFY_LIMITS.maxFrameBytes });
    const before = misbehaviour.length;
    const answers = await sendFuzzCases(cases, {
      dial: () => requester.libp2p.dialProtocol(validator.libp2p.peerId, VERIFY_PROTOCOL_ID),
      answerSchema: verifyResponseSchema,
      describeAnswer: (frame) => (frame.type === "error" ? `error:${frame.code}` : `unexpected:${frame.type}`),
      allowedAnswers: ["error:SWARM_BAD_REQUEST", "SWARM_NO_END"],
    });
    expect(answers["error:SWARM_BAD_REQUEST"]).toBeGreaterThan(0);
    expect(answers.SWARM_NO_END).toBeGreaterThan(0);
    await waitFor("every fuzz case reported", () => misbehaviour.length - before === 150);
    expect(misbehaviour.slice(before).every((entry) => entry.peerId === requester.peerId)).toBe(true);
    // Still serving.
    expect((await requestVerification(requester.libp2p, validator.peerId, verification())).attestation.body.verdict).toBe("pass");
  });

  it("reports a requester that sends no request within the deadline as stalled", async () => {
    const before = misbehaviour.length;
    const stream = await requester.libp2p.dialProtocol(validator.libp2p.peerId, VERIFY_PROTOCOL_ID);
    await waitFor("the request deadline to pass", () => misbehaviour.length > before, 60);
    expect(misbehaviour.at(-1)!.reason).toContain("SWARM_STALLED");
    stream.abort(new Error("done"));
  });
});

describe("the requester's checks of a validator's answer", () => {
  /** A rogue validator that answers every request with what `respond` makes of it. */
  async function rogueAnswers(respond: (request: VerificationRequest & { type: string }) => Promise<unknown>) {
    await rogue.libp2p.unhandle(VERIFY_PROTOCOL_ID).catch(() => undefined);
    await rogue.libp2p.handle(VERIFY_PROTOCOL_ID, async (stream) => {
      const frames = createFrameStream(stream);
      const request = await frames.readFrame(verifyRequestSchema, { deadlineMs: 2_000 });
      const response = await respond(request);
      if (response instanceof Uint8Array) stream.send(response);
      else await frames.writeFrame(response);
      await frames.close();
    });
  }

  async function honestBody(request: VerificationRequest, scores: AnswerScores, overrides: Partial<AttestationBody> = {}): Promise<AttestationBody> {
    return {
      jobId: request.jobId,
      validatorPeerId: rogue.peerId,
      modelSha256: request.modelSha256,
      quantization: "F32",
      promptSha256: hashTokens(request.promptTokens),
      outputSha256: hashTokens(request.claimedTokens),
      scoresSha256: hashScores(scores),
      finishReason: request.finishReason,
      maxTokens: request.maxTokens,
      verdict: "pass",
      reasons: [],
      stats: { count: scores.positions.length, failing: 0, allowedFailing: 0, maxMargin: 0, meanMargin: 0, outsideTopK: 0, endPlausible: null },
      at: Date.now(),
      ...overrides,
    };
  }

  const passing = (request: VerificationRequest): AnswerScores => ({ topK: 8, positions: request.claimedTokens.map(() => [0, 0, 0.9] as [number, number, number]), end: null });

  it("accepts a well-formed attestation from the validator it asked", async () => {
    await rogueAnswers(async (request) => {
      const scores = passing(request);
      return { type: "attestation", attestation: await signAttestation(await honestBody(request, scores), (b) => rogue.privateKey.sign(b)), scores };
    });
    const answer = await requestVerification(requester.libp2p, rogue.peerId, verification());
    expect(answer.attestation.body.verdict).toBe("pass");
  });

  const forgeries: Record<string, (request: VerificationRequest & { type: string }) => Promise<unknown>> = {
    "signed by another key": async (request) => {
      const scores = passing(request);
      return { type: "attestation", attestation: await signAttestation(await honestBody(request, scores), async (b) => (await generateKeyPair("Ed25519")).sign(b)), scores };
    },
    "about another answer": async (request) => {
      const scores = passing(request);
      return { type: "attestation", attestation: await signAttestation(await honestBody(request, scores, { outputSha256: hashTokens([9, 9]) }), (b) => rogue.privateKey.sign(b)), scores };
    },
    "scores swapped after signing": async (request) => {
      const scores = passing(request);
      const attestation = await signAttestation(await honestBody(request, scores), (b) => rogue.privateKey.sign(b));
      return { type: "attestation", attestation, scores: { ...scores, positions: scores.positions.map(() => [-1, 40, 0]) } };
    },
    "a verdict its own scores contradict": async (request) => {
      const scores: AnswerScores = { topK: 8, positions: request.claimedTokens.map(() => [-1, 40, 0] as [number, number, number]), end: null };
      return { type: "attestation", attestation: await signAttestation(await honestBody(request, scores), (b) => rogue.privateKey.sign(b)), scores };
    },
  };

  for (const [name, forge] of Object.entries(forgeries)) {
    it(`refuses an attestation ${name}, and reports the validator`, async () => {
      await rogueAnswers(forge);
      const reports: string[] = [];
      const error = await requestVerification(requester.libp2p, rogue.peerId, verification(), { onMisbehaviour: (peerId, reason) => reports.push(`${peerId}:${reason}`) }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TrustError);
      expect(error).toMatchObject({ code: "TRUST_INCONSISTENT_ATTESTATION" });
      expect(reports).toHaveLength(1);
      expect(reports[0]).toContain(rogue.peerId);
    });
  }

  it("refuses a malformed response and a validator that never answers", async () => {
    await rogueAnswers(async () => Uint8Array.from([...varint(5), ...new TextEncoder().encode("{oops")]));
    const reports: string[] = [];
    const malformed = await requestVerification(requester.libp2p, rogue.peerId, verification(), { onMisbehaviour: (_p, reason) => reports.push(reason) }).catch((e: unknown) => e);
    expect(malformed).toMatchObject({ code: "SWARM_BAD_FRAME" });
    expect(reports).toEqual(["verify response: SWARM_BAD_FRAME"]);

    await rogueAnswers(() => new Promise(() => undefined));
    const silent = await requestVerification(requester.libp2p, rogue.peerId, verification(), { deadlineMs: 300 }).catch((e: unknown) => e);
    expect(silent).toBeInstanceOf(SwarmError);
    expect(silent).toMatchObject({ code: "SWARM_STALLED" });
  });
});
