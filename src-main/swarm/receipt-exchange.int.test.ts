import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { toString as uint8ArrayToString } from "uint8arrays/to-string";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonicalJson, createSilentLogger } from "../common/index.js";
import {
  createFinishedJobRegistry,
  createReceipt,
  openLedger,
  signAttestation,
  signReceipt,
  type FinishedJobRegistry,
  type Ledger,
  type SignedReceipt,
} from "../ledger/index.js";
import { fuzzCases, sendFuzzCases } from "./protocol-fuzz.test-support.js";
import {
  createFrameStream,
  createSwarmNode,
  registerReceiptHandler,
  RECEIPT_EXCHANGE_LIMITS,
  RECEIPT_PROTOCOL_ID,
  receiptAnswerFrameSchema,
  receiptRequestFrameSchema,
  sendAttestation,
  sendReceipt,
  SwarmError,
  type ReceiptHandler,
  type SwarmNode,
} from "./index.js";

const logger = createSilentLogger();
const MODEL = "c".repeat(64);
const PRICE = 1_500_000;
const dir = mkdtempSync(path.join(tmpdir(), "inferswarm-receipts-"));

let worker: SwarmNode;
let requester: SwarmNode;
let stranger: SwarmNode;
let workerLedger: Ledger;
let requesterLedger: Ledger;
let finishedJobs: FinishedJobRegistry;
let handler: ReceiptHandler;
const misbehaviour: Array<{ peerId: string; reason: string }> = [];

async function startNode(): Promise<SwarmNode> {
  const node = await createSwarmNode({ privateKey: await generateKeyPair("Ed25519"), logger, listen: ["/ip4/127.0.0.1/tcp/0"], mdns: false, dialTimeoutMs: 3_000 });
  await node.start();
  return node;
}

let jobCounter = 0;

/** A job the worker "finished" for the requester (as the job worker's onJobFinished would record it), and its receipt. */
async function finishedJob(options: { claimOutput?: number[]; signer?: SwarmNode; from?: SwarmNode } = {}): Promise<SignedReceipt> {
  const jobId = `rcpt-job-${++jobCounter}-${Date.now()}`;
  const from = options.from ?? requester;
  const prompt = [1, 2, 3];
  const generated = [40, 41, 42, 43, 44];
  finishedJobs.record({ jobId, requesterPeerId: from.peerId, modelSha256: MODEL, promptTokenIds: prompt, resumeTokenIds: [], generatedTokenIds: generated, pricePer1kTokensMicro: PRICE });
  const body = createReceipt({
    jobId,
    requesterPeerId: from.peerId,
    workerPeerId: worker.peerId,
    modelSha256: MODEL,
    promptTokenIds: prompt,
    outputTokenIds: options.claimOutput ?? generated,
    pricePer1kTokensMicro: PRICE,
    startedAt: Date.now() - 1_000,
    finishedAt: Date.now(),
  });
  if (!options.signer) return signReceipt(body, from.privateKey);
  // A forgery: another key's signature in the requester's name (signReceipt itself refuses to make one).
  const signature = await options.signer.privateKey.sign(new TextEncoder().encode(canonicalJson(body)));
  return { body, requesterSignature: uint8ArrayToString(signature, "base64") };
}

async function refusal(promise: Promise<unknown>): Promise<SwarmError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SwarmError);
  return error as SwarmError;
}

async function waitFor(what: string, check: () => boolean) {
  for (let i = 0; i < 100; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  [worker, requester, stranger] = [await startNode(), await startNode(), await startNode()];
  workerLedger = await openLedger({ path: path.join(dir, "worker.sqlite"), peerId: worker.peerId });
  requesterLedger = await openLedger({ path: path.join(dir, "requester.sqlite"), peerId: requester.peerId });
  finishedJobs = createFinishedJobRegistry();
  handler = await registerReceiptHandler(worker.libp2p, {
    privateKey: worker.privateKey,
    ledger: workerLedger,
    lookupFinishedJob: (jobId, requesterPeerId) => finishedJobs.lookup(jobId, requesterPeerId),
    onMisbehaviour: (peerId, reason) => misbehaviour.push({ peerId, reason }),
    logger,
    requestDeadlineMs: 1_000,
  });
  for (const node of [requester, stranger]) await node.libp2p.dial(worker.libp2p.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(5_000) });
});

afterAll(async () => {
  await handler?.stop();
  workerLedger?.close();
  requesterLedger?.close();
  await Promise.all([worker, requester, stranger].map((node) => node?.stop()));
  rmSync(dir, { recursive: true, force: true });
});

describe("receipts between two nodes on loopback", () => {
  let exchanged: SignedReceipt;

  it("countersigns a receipt for a finished job and both sides store it", async () => {
    const receipt = await finishedJob();
    exchanged = await sendReceipt(requester.libp2p, worker.peerId, receipt);
    expect(exchanged.workerSignature).toBeDefined();
    expect(exchanged.body).toEqual(receipt.body);
    const spent = await requesterLedger.recordSpent(exchanged);
    expect(spent).toMatchObject({ role: "spent", amountMicro: 7_500, outputTokens: 5 });
    const earned = workerLedger.getReceipt(receipt.body.receiptId)!;
    expect(earned.record).toMatchObject({ role: "earned", state: "pending", amountMicro: 7_500 });
    // The same signed bytes on both sides: each holds the other's signature as proof.
    expect(canonicalJson(earned.receipt)).toBe(canonicalJson(requesterLedger.getReceipt(receipt.body.receiptId)!.receipt));
  });

  it("rejects a replay of a stored receipt and reports it", async () => {
    const before = misbehaviour.length;
    const error = await refusal(sendReceipt(requester.libp2p, worker.peerId, { body: exchanged.body, requesterSignature: exchanged.requesterSignature }));
    expect(error).toMatchObject({ code: "SWARM_WORKER_ERROR", workerCode: "LEDGER_RECEIPT_REPLAYED", retryable: false });
    await waitFor("the replay to be reported", () => misbehaviour.length > before);
    expect(misbehaviour.at(-1)).toMatchObject({ peerId: requester.peerId, reason: "receipt: LEDGER_RECEIPT_REPLAYED" });
    expect(workerLedger.stateCounts().pending).toBe(1);
  });

  it("rejects forged receipts, receipts sent by another peer and receipts that claim other tokens", async () => {
    // Signed by another key in the requester's name.
    const forged = await finishedJob({ signer: stranger });
    expect((await refusal(sendReceipt(requester.libp2p, worker.peerId, forged))).workerCode).toBe("LEDGER_RECEIPT_FORGED");
    // Altered after signing.
    const genuine = await finishedJob();
    const altered = { ...genuine, body: { ...genuine.body, promptTokens: 2 } };
    expect((await refusal(sendReceipt(requester.libp2p, worker.peerId, altered))).workerCode).toBe("LEDGER_RECEIPT_FORGED");
    // A valid receipt relayed by a peer that did not sign it.
    expect((await refusal(sendReceipt(stranger.libp2p, worker.peerId, genuine))).workerCode).toBe("RECEIPT_SENDER_MISMATCH");
    // Signed, but for fewer tokens than the worker generated.
    const underpaid = await finishedJob({ claimOutput: [40, 41] });
    const mismatch = await refusal(sendReceipt(requester.libp2p, worker.peerId, underpaid));
    expect(mismatch.workerCode).toBe("RECEIPT_MISMATCH");
    expect(mismatch.message).toContain("outputSha256, outputTokens");
    // For a job the worker never ran.
    finishedJobs.forget(genuine.body.jobId, requester.peerId);
    expect((await refusal(sendReceipt(requester.libp2p, worker.peerId, genuine))).workerCode).toBe("RECEIPT_UNKNOWN_JOB");
    expect(workerLedger.stateCounts().pending).toBe(1);
    const reasons = misbehaviour.map((m) => m.reason);
    expect(reasons).toEqual(expect.arrayContaining(["receipt: LEDGER_RECEIPT_FORGED (requesterSignature)", "receipt: RECEIPT_SENDER_MISMATCH", "receipt: RECEIPT_MISMATCH (outputSha256,outputTokens)"]));
  });

  it("delivers a validator's attestation and moves the worker's earnings", async () => {
    const attestation = await signAttestation(
      { v: 1, receiptId: exchanged.body.receiptId, validatorPeerId: stranger.peerId, verdict: "pass", stats: { positions: 5, outside: 0 }, issuedAt: Date.now() },
      stranger.privateKey,
    );
    const forged = { ...attestation, body: { ...attestation.body, verdict: "fail" as const } };
    expect((await refusal(sendAttestation(requester.libp2p, worker.peerId, { receiptId: exchanged.body.receiptId, attestation: forged }))).workerCode).toBe("LEDGER_ATTESTATION_FORGED");
    expect(await sendAttestation(requester.libp2p, worker.peerId, { receiptId: exchanged.body.receiptId, attestation })).toEqual({ receiptId: exchanged.body.receiptId, state: "payable" });
    expect(workerLedger.getReceipt(exchanged.body.receiptId)).toMatchObject({ record: { state: "payable", verdict: "pass" }, attestations: [attestation] });
    expect((await refusal(sendAttestation(requester.libp2p, worker.peerId, { receiptId: exchanged.body.receiptId, attestation }))).workerCode).toBe("LEDGER_ATTESTATION_REPLAYED");
    // The requester keeps the verdict next to its spent receipt.
    expect((await requesterLedger.recordAttestation(attestation)).record).toMatchObject({ state: "spent", verdict: "pass" });
  });

  it("refuses a countersignature that does not verify", async () => {
    // A rogue worker answers with someone else's signature.
    await stranger.libp2p.handle(RECEIPT_PROTOCOL_ID, async (stream) => {
      const frames = createFrameStream(stream, { maxFrameBytes: RECEIPT_EXCHANGE_LIMITS.maxFrameBytes });
      const request = await frames.readFrame(receiptRequestFrameSchema, { deadlineMs: 2_000 });
      if (request.type !== "receipt") return;
      await frames.writeFrame({ type: "countersigned", receiptId: request.receipt.body.receiptId, workerSignature: exchanged.workerSignature });
      await frames.close();
    });
    try {
      const body = createReceipt({ jobId: "rogue-job-0001", requesterPeerId: requester.peerId, workerPeerId: stranger.peerId, modelSha256: MODEL, promptTokenIds: [1], outputTokenIds: [2], pricePer1kTokensMicro: PRICE, startedAt: 1, finishedAt: 2 });
      const error = await sendReceipt(requester.libp2p, stranger.peerId, await signReceipt(body, requester.privateKey)).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "LEDGER_RECEIPT_FORGED", failed: "workerSignature" });
    } finally {
      await stranger.libp2p.unhandle(RECEIPT_PROTOCOL_ID);
    }
  });

  it("survives 150 fuzzed frames, answering each with a rejection or a reset, and reporting each", async () => {
    const valid = JSON.parse(JSON.stringify({ type: "receipt", receipt: await finishedJob() })) as { type: string; receipt: { body: Record<string, unknown>; requesterSignature: unknown } };
    const mutations: Array<(frame: typeof valid) => void> = [
      (f) => delete f.receipt.body.jobId,
      (f) => (f.type = "payment"),
      (f) => (f.receipt.body.v = 2),
      (f) => (f.receipt.body.outputTokens = -1),
      (f) => (f.receipt.body.extra = true),
      (f) => (f.receipt.requesterSignature = 12),
      (f) => (f.receipt.body.modelSha256 = "Z".repeat(64)),
      (f) => (f.receipt = null as never),
    ];
    const cases = fuzzCases({ seed: 0x7ec1, count: 150, validFrame: valid, mutations, maxFrameBytes: RECEIPT_EXCHANGE_LIMITS.maxFrameBytes });

    const before = misbehaviour.length;
    const answers = await sendFuzzCases(cases, {
      dial: () => requester.libp2p.dialProtocol(worker.libp2p.peerId, RECEIPT_PROTOCOL_ID),
      answerSchema: receiptAnswerFrameSchema,
      describeAnswer: (frame) => (frame.type === "rejected" ? `rejected:${frame.code}` : `unexpected:${frame.type}`),
      allowedAnswers: ["rejected:RECEIPT_BAD_REQUEST", "SWARM_NO_END"],
    });
    expect(answers["rejected:RECEIPT_BAD_REQUEST"]).toBeGreaterThan(0);
    expect(answers.SWARM_NO_END).toBeGreaterThan(0);
    await waitFor("every fuzz case to be reported", () => misbehaviour.length - before === cases.length);
    expect(misbehaviour.slice(before).every((entry) => entry.peerId === requester.peerId && entry.reason.startsWith("request: SWARM_"))).toBe(true);

    // Still serving honest requesters, and nothing was stored from the noise.
    expect(workerLedger.stateCounts()).toEqual({ pending: 0, held: 0, payable: 1, forfeited: 0 });
    await expect(sendReceipt(requester.libp2p, worker.peerId, await finishedJob())).resolves.toMatchObject({ workerSignature: expect.any(String) });
    expect((await workerLedger.verify()).receipts).toBe(2);
  });

  it("refuses new receipts once stopped", async () => {
    await handler.stop();
    const error = await refusal(sendReceipt(requester.libp2p, worker.peerId, await finishedJob(), { deadlineMs: 2_000 }));
    expect(["SWARM_DIAL_FAILED", "SWARM_NO_END"]).toContain(error.code);
  });
});
