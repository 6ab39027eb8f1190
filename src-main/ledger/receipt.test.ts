import { createHash } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { creditsToMicro, formatMicroCredits, microToCredits, receiptAmountMicro } from "./credits.js";
import { LedgerError } from "./ledger-errors.js";
import { countersigned, makeIdentity, receiptInput, signedBy, type Identity } from "./ledger.test-support.js";
import { countersignReceipt, createJobReceipts, createReceipt, hashTokens, signReceipt, verifyReceipt, type SignedReceipt } from "./receipt.js";
import { signAttestation, verifyAttestation } from "./attestation.js";
import { signCanonical } from "../common/index.js";

let requester: Identity;
let worker: Identity;
let stranger: Identity;

beforeAll(async () => {
  [requester, worker, stranger] = await Promise.all([makeIdentity(), makeIdentity(), makeIdentity()]);
});

async function failure(promise: Promise<unknown>): Promise<LedgerError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LedgerError);
  return error as LedgerError;
}

describe("hashTokens", () => {
  it("hashes token ids as little-endian u32 bytes", () => {
    expect(hashTokens([])).toBe(createHash("sha256").update(Buffer.alloc(0)).digest("hex"));
    expect(hashTokens([1, 0x01020304])).toBe(createHash("sha256").update(Buffer.from([1, 0, 0, 0, 4, 3, 2, 1])).digest("hex"));
    expect(hashTokens([1, 2])).not.toBe(hashTokens([2, 1]));
  });
});

describe("credits", () => {
  it("computes amounts in whole micro-credits, rounded down", () => {
    expect(receiptAmountMicro(100, 2_000_000)).toBe(200_000);
    expect(receiptAmountMicro(1, 1_999)).toBe(1);
    expect(receiptAmountMicro(0, 5_000_000)).toBe(0);
    expect(creditsToMicro(0.1)).toBe(100_000);
    expect(microToCredits(1_500_000)).toBe(1.5);
    expect(formatMicroCredits(12_000_345)).toBe("12.000345");
    expect(formatMicroCredits(7)).toBe("0.000007");
    expect(() => creditsToMicro(-1)).toThrow(RangeError);
  });
});

describe("a receipt", () => {
  it("is built from token ids: id, hashes, counts and amount", () => {
    const body = createReceipt(receiptInput(requester, worker, { jobId: "job-build-1", promptTokenIds: [1, 2], outputTokenIds: [5, 6, 7], pricePer1kTokensMicro: 1_000_000 }));
    expect(body).toMatchObject({
      v: 1,
      receiptId: `job-build-1:${worker.peerId}`,
      promptSha256: hashTokens([1, 2]),
      outputSha256: hashTokens([5, 6, 7]),
      promptTokens: 2,
      outputTokens: 3,
      amountMicro: 3_000,
    });
  });

  it("splits a failed-over job into one receipt per worker that produced tokens", () => {
    const part = { pricePer1kTokensMicro: 1_000_000, startedAt: 1, finishedAt: 2 };
    const [first, second] = createJobReceipts({
      jobId: "job-failover-1",
      requesterPeerId: requester.peerId,
      modelSha256: "a".repeat(64),
      promptTokenIds: [1, 2],
      answerTokenIds: [10, 11, 12, 13, 14],
      contributions: [
        { workerPeerId: worker.peerId, firstIndex: 0, count: 3, ...part },
        { workerPeerId: stranger.peerId, firstIndex: 3, count: 2, ...part },
        { workerPeerId: "12D3KooWNothingProduced", firstIndex: 5, count: 0, ...part },
      ],
    }) as [ReturnType<typeof createReceipt>, ReturnType<typeof createReceipt>];
    expect(first).toMatchObject({ receiptId: `job-failover-1:${worker.peerId}`, promptSha256: hashTokens([1, 2]), outputSha256: hashTokens([10, 11, 12]), promptTokens: 2, outputTokens: 3 });
    // The second worker was given the prompt and the answer so far, and is paid for what it added.
    expect(second).toMatchObject({ receiptId: `job-failover-1:${stranger.peerId}`, promptSha256: hashTokens([1, 2, 10, 11, 12]), outputSha256: hashTokens([13, 14]), promptTokens: 5, outputTokens: 2 });
    expect(() => createJobReceipts({ jobId: "job-failover-2", requesterPeerId: requester.peerId, modelSha256: "a".repeat(64), promptTokenIds: [1], answerTokenIds: [2], contributions: [{ workerPeerId: worker.peerId, firstIndex: 0, count: 2, ...part }] })).toThrow(RangeError);
  });

  it("verifies once signed, and with the worker's countersignature", async () => {
    const signed = await signedBy(requester, worker);
    await expect(verifyReceipt(signed, { requireCountersign: false })).resolves.toEqual(signed);
    expect((await failure(verifyReceipt(signed, { requireCountersign: true }))).failed).toBe("missingWorkerSignature");
    const both = await countersignReceipt(signed, worker.key);
    await expect(verifyReceipt(both, { requireCountersign: true })).resolves.toEqual(both);
  });

  it("is ALTERED when its fields contradict each other", async () => {
    const signed = await signedBy(requester, worker);
    const cases: Array<[string, (r: SignedReceipt) => unknown]> = [
      ["amount", (r) => ({ ...r, body: { ...r.body, amountMicro: r.body.amountMicro + 1 } })],
      ["amount", (r) => ({ ...r, body: { ...r.body, outputTokens: r.body.outputTokens + 50 } })],
      ["receiptId", (r) => ({ ...r, body: { ...r.body, receiptId: `other-job-1:${worker.peerId}` } })],
      ["receiptId", (r) => ({ ...r, body: { ...r.body, workerPeerId: stranger.peerId } })],
      ["times", (r) => ({ ...r, body: { ...r.body, finishedAt: r.body.startedAt - 1 } })],
      ["schema", (r) => ({ ...r, body: { ...r.body, bonus: 1 } })],
      ["schema", (r) => ({ ...r, body: { ...r.body, modelSha256: "XYZ" } })],
      ["schema", (r) => ({ ...r, requesterSignature: "not base64!" })],
    ];
    for (const [check, alter] of cases) {
      const error = await failure(verifyReceipt(alter(signed), { requireCountersign: false }));
      expect([error.code, error.failed]).toEqual(["LEDGER_RECEIPT_ALTERED", check]);
    }
  });

  it("is FORGED when a consistent change breaks the requester's signature", async () => {
    const signed = await signedBy(requester, worker);
    const changed = { ...signed, body: { ...signed.body, outputSha256: "f".repeat(64) } };
    const error = await failure(verifyReceipt(changed, { requireCountersign: false }));
    expect([error.code, error.failed]).toEqual(["LEDGER_RECEIPT_FORGED", "requesterSignature"]);
    // More tokens at the matching amount: consistent, but not what was signed.
    const inflated = { ...signed, body: { ...signed.body, outputTokens: 1000, amountMicro: receiptAmountMicro(1000, signed.body.pricePer1kTokensMicro) } };
    expect((await failure(verifyReceipt(inflated, { requireCountersign: false }))).code).toBe("LEDGER_RECEIPT_FORGED");
  });

  it("is FORGED when signed by someone other than the named requester", async () => {
    const body = createReceipt(receiptInput(requester, worker));
    await expect(signReceipt(body, stranger.key)).rejects.toMatchObject({ code: "LEDGER_WRONG_KEY" });
    const forged = { body, requesterSignature: await signCanonical(body, stranger.key) };
    const error = await failure(verifyReceipt(forged, { requireCountersign: false }));
    expect([error.code, error.failed]).toEqual(["LEDGER_RECEIPT_FORGED", "requesterSignature"]);
    // A worker never countersigns it.
    expect((await failure(countersignReceipt(forged, worker.key))).code).toBe("LEDGER_RECEIPT_FORGED");
  });

  it("names an unusable signer key", async () => {
    const body = { ...createReceipt(receiptInput(requester, worker)), requesterPeerId: "1111111111111111" };
    const error = await failure(verifyReceipt({ body, requesterSignature: "AAAA" }, { requireCountersign: false }));
    expect(error.failed).toBe("signerKey");
  });

  it("refuses countersignatures by the wrong key or over another receipt", async () => {
    const signed = await signedBy(requester, worker);
    await expect(countersignReceipt(signed, stranger.key)).rejects.toMatchObject({ code: "LEDGER_WRONG_KEY" });
    const other = await countersigned(requester, worker);
    const swapped = { ...signed, workerSignature: other.workerSignature };
    const error = await failure(verifyReceipt(swapped, { requireCountersign: true }));
    expect([error.code, error.failed]).toEqual(["LEDGER_RECEIPT_FORGED", "workerSignature"]);
    // The worker's signature also covers the requester's: a re-signed body under an old countersignature fails.
    const both = await countersignReceipt(signed, worker.key);
    const resigned = await signReceipt({ ...signed.body, finishedAt: signed.body.finishedAt + 1 }, requester.key);
    expect((await failure(verifyReceipt({ ...resigned, workerSignature: both.workerSignature }, { requireCountersign: true }))).failed).toBe("workerSignature");
  });
});

describe("an attestation", () => {
  it("verifies with the validator's key and not after a change", async () => {
    const signed = await signAttestation({ v: 1, receiptId: "job-00000001:x", validatorPeerId: stranger.peerId, verdict: "pass", stats: { positions: 10, worstRank: 2, note: "ok" }, issuedAt: 1 }, stranger.key);
    await expect(verifyAttestation(signed)).resolves.toEqual(signed);
    const flipped = { ...signed, body: { ...signed.body, verdict: "fail" } };
    expect(await failure(verifyAttestation(flipped))).toMatchObject({ code: "LEDGER_ATTESTATION_FORGED", failed: "attestationSignature" });
    const bloated = { ...signed, body: { ...signed.body, stats: { blob: "x".repeat(9000) } } };
    expect(await failure(verifyAttestation(bloated))).toMatchObject({ code: "LEDGER_ATTESTATION_FORGED", failed: "schema" });
    await expect(signAttestation(signed.body, worker.key)).rejects.toMatchObject({ code: "LEDGER_WRONG_KEY" });
  });
});
