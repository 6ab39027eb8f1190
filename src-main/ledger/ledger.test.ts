import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { LedgerError } from "./ledger-errors.js";
import { attestation, countersigned, makeIdentity, manualClock, MODEL_A, MODEL_B, signedBy, tempDir, type Identity } from "./ledger.test-support.js";
import { openLedger, type Ledger, type LedgerOptions } from "./ledger.js";
import { openDatabase } from "./sqlite.js";
import { signAttestation } from "./attestation.js";

let requester: Identity;
let worker: Identity;
let validator: Identity;
let other: Identity;

beforeAll(async () => {
  [requester, worker, validator, other] = await Promise.all([makeIdentity(), makeIdentity(), makeIdentity(), makeIdentity()]);
});

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function open(options: Partial<LedgerOptions> = {}): Promise<{ ledger: Ledger; file: string; options: LedgerOptions }> {
  const dir = tempDir();
  const file = dir.file("ledger.sqlite");
  const full: LedgerOptions = { path: file, peerId: worker.peerId, timeZone: "UTC", ...options };
  const ledger = await openLedger(full);
  cleanups.push(() => {
    ledger.close();
    dir.cleanup();
  });
  return { ledger, file, options: full };
}

async function failure(work: Promise<unknown> | (() => unknown)): Promise<LedgerError> {
  let error: unknown;
  try {
    await (typeof work === "function" ? work() : work);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(LedgerError);
  return error as LedgerError;
}

describe("the chain", () => {
  it("starts with a genesis entry and grows by one entry per receipt", async () => {
    const { ledger } = await open();
    expect(ledger.head().seq).toBe(1);
    const genesisHash = ledger.head().hash;
    await ledger.recordEarned(await countersigned(requester, worker));
    await ledger.recordEarned(await countersigned(requester, worker));
    expect(ledger.head().seq).toBe(3);
    expect(ledger.head().hash).not.toBe(genesisHash);
    expect(await ledger.verify()).toMatchObject({ entries: 3, receipts: 2, attestations: 0, repaired: false, head: ledger.head() });
  });

  it("keeps everything across a reopen and refuses another identity", async () => {
    const { ledger, options } = await open();
    const receipt = await countersigned(requester, worker);
    await ledger.recordEarned(receipt);
    const head = ledger.head();
    ledger.close();
    await expect(ledger.recordEarned(receipt)).rejects.toMatchObject({ code: "LEDGER_CLOSED" });
    const again = await openLedger(options);
    try {
      expect(again.head()).toEqual(head);
      expect(again.getReceipt(receipt.body.receiptId)?.receipt).toEqual(receipt);
    } finally {
      again.close();
    }
    expect((await failure(openLedger({ ...options, peerId: other.peerId }))).code).toBe("LEDGER_WRONG_OWNER");
  });

  it("refuses UPDATE, DELETE and out-of-place INSERT through the database itself", async () => {
    const { ledger, file } = await open();
    await ledger.recordEarned(await countersigned(requester, worker));
    const raw = openDatabase(file);
    try {
      expect(() => raw.exec("UPDATE entries SET body = '{}' WHERE seq = 2")).toThrow(/LEDGER_APPEND_ONLY/);
      expect(() => raw.exec("DELETE FROM entries WHERE seq = 2")).toThrow(/LEDGER_APPEND_ONLY/);
      expect(() => raw.exec("DELETE FROM entries")).toThrow(/LEDGER_APPEND_ONLY/);
      expect(() => raw.exec(`INSERT INTO entries (seq, at, kind, body, prev_hash, hash) VALUES (9, 0, 'genesis', '{}', '${"0".repeat(64)}', 'x')`)).toThrow(/LEDGER_APPEND_ONLY/);
      expect(() => raw.exec(`INSERT INTO entries (seq, at, kind, body, prev_hash, hash) VALUES (3, 0, 'genesis', '{}', '${"0".repeat(64)}', 'x')`)).toThrow(/LEDGER_APPEND_ONLY/);
    } finally {
      raw.close();
    }
    expect((await ledger.verify()).entries).toBe(2);
  });

  it("rebuilds its query tables from the chain when they were edited", async () => {
    const { ledger, file, options } = await open();
    const receipt = await countersigned(requester, worker);
    await ledger.recordEarned(receipt);
    ledger.close();
    const raw = openDatabase(file);
    raw.exec("UPDATE receipts SET state = 'payable', amount_micro = 999999999");
    raw.close();
    const again = await openLedger(options);
    try {
      expect(again.getReceipt(receipt.body.receiptId)?.record).toMatchObject({ state: "pending", amountMicro: receipt.body.amountMicro });
    } finally {
      again.close();
    }
  });
});

describe("receipts", () => {
  it("stores an earned receipt as pending, or held while the node is new", async () => {
    let newNode = false;
    const { ledger } = await open({ holdPolicy: (peerId) => (newNode && peerId === worker.peerId ? "held" : "pending") });
    const first = await ledger.recordEarned(await countersigned(requester, worker));
    newNode = true;
    const second = await ledger.recordEarned(await countersigned(requester, worker));
    expect([first.state, second.state]).toEqual(["pending", "held"]);
    expect(first).toMatchObject({ role: "earned", workerPeerId: worker.peerId, outputTokens: 100, amountMicro: 200_000 });
    expect(ledger.has(first.receiptId)).toBe(true);
    expect(ledger.stateCounts()).toEqual({ pending: 1, held: 1, payable: 0, forfeited: 0 });
  });

  it("refuses a replayed receipt and leaves the chain as it was", async () => {
    const { ledger } = await open();
    const receipt = await countersigned(requester, worker);
    await ledger.recordEarned(receipt);
    const head = ledger.head();
    expect((await failure(ledger.recordEarned(receipt))).code).toBe("LEDGER_RECEIPT_REPLAYED");
    // The same job re-signed (another signature, same id) is a replay too.
    const resigned = await countersigned(requester, worker, { jobId: receipt.body.jobId, outputTokenIds: [1, 2, 3] });
    expect((await failure(ledger.recordEarned(resigned))).code).toBe("LEDGER_RECEIPT_REPLAYED");
    // Two at once: one wins.
    const twin = await countersigned(requester, worker);
    const results = await Promise.allSettled([ledger.recordEarned(twin), ledger.recordEarned(twin)]);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    expect(ledger.head().seq).toBe(head.seq + 1);
  });

  it("refuses receipts that are forged, not countersigned or for another node", async () => {
    const { ledger } = await open();
    const receipt = await countersigned(requester, worker);
    const altered = { ...receipt, body: { ...receipt.body, outputSha256: "0".repeat(64) } };
    expect((await failure(ledger.recordEarned(altered))).code).toBe("LEDGER_RECEIPT_FORGED");
    expect((await failure(ledger.recordEarned(await signedBy(requester, worker)))).failed).toBe("missingWorkerSignature");
    expect((await failure(ledger.recordEarned(await countersigned(requester, other)))).code).toBe("LEDGER_WRONG_OWNER");
    expect((await failure(ledger.recordSpent(receipt))).code).toBe("LEDGER_WRONG_OWNER");
    expect(ledger.head().seq).toBe(1);
  });

  it("records the requester's side as spent", async () => {
    const { ledger } = await open({ peerId: requester.peerId });
    const record = await ledger.recordSpent(await countersigned(requester, worker));
    expect(record).toMatchObject({ role: "spent", state: "spent" });
    expect(ledger.stateCounts()).toEqual({ pending: 0, held: 0, payable: 0, forfeited: 0 });
    await ledger.recordAttestation(await attestation(validator, record.receiptId, "fail"));
    expect(ledger.getReceipt(record.receiptId)?.record).toMatchObject({ state: "spent", verdict: "fail" });
    expect(() => ledger.setEarningState(record.receiptId, "payable", "x")).toThrow(expect.objectContaining({ code: "LEDGER_BAD_TRANSITION" }));
  });

  it("lists receipts newest first, page by page", async () => {
    const { ledger } = await open();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await ledger.recordEarned(await countersigned(requester, worker))).receiptId);
    const first = ledger.listReceipts({ limit: 2 });
    expect(first.map((r) => r.receiptId)).toEqual([ids[4], ids[3]]);
    const second = ledger.listReceipts({ limit: 2, before: first.at(-1)!.seq });
    expect(second.map((r) => r.receiptId)).toEqual([ids[2], ids[1]]);
    expect(ledger.listReceipts({ role: "spent" })).toEqual([]);
  });
});

describe("earnings states", () => {
  it("moves pending to payable on a pass and to forfeited on a fail, and stores the attestations", async () => {
    const { ledger } = await open();
    const good = await ledger.recordEarned(await countersigned(requester, worker));
    const bad = await ledger.recordEarned(await countersigned(requester, worker));
    const pass = await attestation(validator, good.receiptId, "pass");
    expect(await ledger.recordAttestation(pass)).toMatchObject({ moved: { from: "pending", to: "payable" }, record: { state: "payable", verdict: "pass" } });
    expect(await ledger.recordAttestation(await attestation(validator, bad.receiptId, "fail"))).toMatchObject({ moved: { from: "pending", to: "forfeited" } });
    // Final states stay final; a later verdict is kept but moves nothing.
    expect(await ledger.recordAttestation(await attestation(other, good.receiptId, "fail"))).toMatchObject({ moved: null, record: { state: "payable", verdict: "fail" } });
    expect(ledger.getReceipt(good.receiptId)?.attestations).toEqual([pass, expect.objectContaining({ body: expect.objectContaining({ validatorPeerId: other.peerId }) })]);
    expect((await ledger.verify()).attestations).toBe(3);
  });

  it("keeps a held receipt held on a pass until the hold lifts, and forfeits it on a fail", async () => {
    const { ledger } = await open({ holdPolicy: () => "held" });
    const a = await ledger.recordEarned(await countersigned(requester, worker));
    const b = await ledger.recordEarned(await countersigned(requester, worker));
    const c = await ledger.recordEarned(await countersigned(requester, worker));
    expect((await ledger.recordAttestation(await attestation(validator, a.receiptId, "pass"))).record.state).toBe("held");
    expect((await ledger.recordAttestation(await attestation(validator, b.receiptId, "fail"))).record.state).toBe("forfeited");
    expect(ledger.releaseHeld({ receiptIds: [c.receiptId] })).toBe(1);
    expect(ledger.releaseHeld()).toBe(1);
    expect(ledger.releaseHeld()).toBe(0);
    expect([a, b, c].map((r) => ledger.getReceipt(r.receiptId)?.record.state)).toEqual(["payable", "forfeited", "payable"]);
    expect(ledger.getReceipt(a.receiptId)?.record.stateReason).toBe("hold on a new node lifted");
  });

  it("sends a passed pending receipt where verifiedState says: held while the node is new, then payable", async () => {
    let isNew = true;
    const { ledger } = await open({ verifiedState: () => (isNew ? "held" : "payable") });
    const a = await ledger.recordEarned(await countersigned(requester, worker));
    const b = await ledger.recordEarned(await countersigned(requester, worker));
    expect(a.state).toBe("pending");
    expect(await ledger.recordAttestation(await attestation(validator, a.receiptId, "pass"))).toMatchObject({ record: { state: "held" }, moved: { from: "pending", to: "held" } });
    isNew = false;
    expect(await ledger.recordAttestation(await attestation(validator, b.receiptId, "pass"))).toMatchObject({ record: { state: "payable" }, moved: { from: "pending", to: "payable" } });
  });

  it("files an attestation that names only the job under the receipt it is given, and can leave the state to trust", async () => {
    const { ledger } = await open();
    const record = await ledger.recordEarned(await countersigned(requester, worker));
    // Shaped like the trust module's attestation: per job, with its own stats; the ledger keeps it whole.
    const body = { jobId: record.jobId, validatorPeerId: validator.peerId, modelSha256: MODEL_A, verdict: "fail" as const, reasons: ["positions"], stats: { count: 100, failing: 40, maxMargin: 2.5 }, at: 1 };
    const signed = await signAttestation(body, validator.key);
    expect((await failure(ledger.recordAttestation(signed))).code).toBe("LEDGER_UNKNOWN_RECEIPT");
    const otherJob = await ledger.recordEarned(await countersigned(requester, worker));
    expect((await failure(ledger.recordAttestation(signed, { receiptId: otherJob.receiptId }))).code).toBe("LEDGER_ATTESTATION_REFUSED");
    expect(await ledger.recordAttestation(signed, { receiptId: record.receiptId, applyVerdict: false })).toMatchObject({ moved: null, record: { state: "pending", verdict: "fail" } });
    expect(ledger.getReceipt(record.receiptId)?.attestations).toEqual([signed]);
    expect((await ledger.verify()).attestations).toBe(1);
  });

  it("settles pending receipts nobody disputed in time", async () => {
    const clock = manualClock(Date.UTC(2025, 0, 10, 12));
    const { ledger } = await open({ clock });
    const old = await ledger.recordEarned(await countersigned(requester, worker));
    clock.advance(60 * 60_000);
    const fresh = await ledger.recordEarned(await countersigned(requester, worker));
    expect(ledger.settlePending({ olderThan: clock.now() - 30 * 60_000 })).toBe(1);
    expect(ledger.getReceipt(old.receiptId)?.record.state).toBe("payable");
    expect(ledger.getReceipt(fresh.receiptId)?.record.state).toBe("pending");
  });

  it("refuses transitions out of final states and attestations it must not take", async () => {
    const { ledger } = await open();
    const record = await ledger.recordEarned(await countersigned(requester, worker));
    ledger.setEarningState(record.receiptId, "forfeited", "quorum: failed");
    expect((await failure(() => ledger.setEarningState(record.receiptId, "payable", "appeal"))).code).toBe("LEDGER_BAD_TRANSITION");
    expect((await failure(() => ledger.setEarningState("job-unknown1:x", "payable", "?"))).code).toBe("LEDGER_UNKNOWN_RECEIPT");
    const pass = await attestation(validator, record.receiptId, "pass");
    await ledger.recordAttestation(pass);
    expect((await failure(ledger.recordAttestation(pass))).code).toBe("LEDGER_ATTESTATION_REPLAYED");
    expect((await failure(ledger.recordAttestation(await attestation(worker, record.receiptId, "pass")))).code).toBe("LEDGER_ATTESTATION_REFUSED");
    expect((await failure(ledger.recordAttestation({ ...pass, body: { ...pass.body, verdict: "fail" } }))).code).toBe("LEDGER_ATTESTATION_FORGED");
    expect((await failure(ledger.recordAttestation(await attestation(validator, "job-unknown1:x", "pass")))).code).toBe("LEDGER_UNKNOWN_RECEIPT");
    // Every refusal left the chain verifiable.
    expect((await ledger.verify()).entries).toBe(4);
  });
});

describe("summary and CSV", () => {
  const day = (d: number, hour = 12) => Date.UTC(2025, 2, d, hour);

  async function filled() {
    const clock = manualClock(day(1));
    const { ledger } = await open({ clock });
    const record = async (at: number, overrides: Parameters<typeof countersigned>[2] = {}) => {
      clock.set(at);
      return ledger.recordEarned(await countersigned(requester, worker, overrides));
    };
    // 100 tokens at 2 credits per 1k = 0.2 credits each unless said otherwise.
    const old = await record(day(1));
    const weekAgo = await record(day(25));
    const yesterday = await record(day(30), { modelSha256: MODEL_B, outputTokenIds: Array(10).fill(7), pricePer1kTokensMicro: 1_000_000 });
    const today1 = await record(day(31, 1));
    const today2 = await record(day(31, 2));
    await ledger.recordAttestation(await attestation(validator, today1.receiptId, "pass"));
    await ledger.recordAttestation(await attestation(validator, weekAgo.receiptId, "fail"));
    clock.set(day(31, 23));
    return { ledger, ids: { old, weekAgo, yesterday, today1, today2 } };
  }

  it("totals per state for today, 7 and 30 days, per day and per model, in credits", async () => {
    const { ledger } = await filled();
    const summary = ledger.summary({ days: 30 });
    expect(summary.unit).toBe("credits");
    expect(summary.totals.today).toEqual({ pending: 0.2, held: 0, payable: 0.2, forfeited: 0 });
    expect(summary.totals.last7Days).toEqual({ pending: 0.21, held: 0, payable: 0.2, forfeited: 0.2 });
    // 1 March is 31 local days before 31 March: outside the 30-day totals and window.
    expect(summary.totals.last30Days).toEqual(summary.totals.last7Days);
    expect(summary.perDay).toEqual([
      { day: "2025-03-25", pending: 0, held: 0, payable: 0, forfeited: 0.2, tokens: 100 },
      { day: "2025-03-30", pending: 0.01, held: 0, payable: 0, forfeited: 0, tokens: 10 },
      { day: "2025-03-31", pending: 0.2, held: 0, payable: 0.2, forfeited: 0, tokens: 200 },
    ]);
    expect(summary.perModel).toEqual([
      { model: MODEL_A, pending: 0.2, held: 0, payable: 0.2, forfeited: 0.2, tokens: 300, jobs: 3 },
      { model: MODEL_B, pending: 0.01, held: 0, payable: 0, forfeited: 0, tokens: 10, jobs: 1 },
    ]);
    expect(summary.spent).toEqual({ today: 0, last7Days: 0, last30Days: 0, jobsLast30Days: 0 });
    expect(ledger.summary({ days: 31 }).perDay[0]!.day).toBe("2025-03-01");
  });

  it("counts days in the owner's time zone", async () => {
    const clock = manualClock(Date.UTC(2025, 2, 31, 3));
    const { ledger } = await open({ clock, timeZone: "America/New_York" });
    await ledger.recordEarned(await countersigned(requester, worker));
    // 03:00 UTC on 31 March is 23:00 on 30 March in New York.
    expect(ledger.summary().perDay.map((d) => d.day)).toEqual(["2025-03-30"]);
  });

  it("exports one RFC 4180 row per receipt with its current state", async () => {
    const { ledger, ids } = await filled();
    ledger.setEarningState(ids.today2.receiptId, "forfeited", 'quorum said "no", twice\nsee log');
    const csv = ledger.exportCsv({ from: day(30, 0), to: day(32, 0), modelName: (sha) => (sha === MODEL_B ? "tiny, peaky" : undefined) });
    const lines = csv.split("\r\n");
    expect(lines[0]).toBe(
      "receipt_id,role,state,state_reason,verdict,recorded_at,job_id,model_sha256,model_name,requester_peer_id,worker_peer_id,prompt_tokens,output_tokens,price_per_1k_tokens,amount,started_at,finished_at",
    );
    expect(csv.endsWith("\r\n")).toBe(true);
    expect(lines[1]).toContain(`${ids.yesterday.receiptId},earned,pending,awaiting verification,,2025-03-30T12:00:00.000Z,`);
    expect(lines[1]).toContain(`,"tiny, peaky",`);
    expect(lines[1]).toContain(",4,10,1.000000,0.010000,");
    expect(lines[2]).toContain(",payable,verified by validator");
    expect(lines[2]).toContain(",pass,");
    expect(csv).toContain(`,forfeited,"quorum said ""no"", twice\nsee log",,`);
    expect(csv.match(/,earned,/g)).toHaveLength(3);
    expect(ledger.exportCsv({ from: 0, to: day(2) }).split("\r\n")).toHaveLength(3);
  });
});
