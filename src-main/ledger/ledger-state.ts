import type { DatabaseSync, SQLOutputValue } from "node:sqlite";
import { canMoveEarning, type EarningState, type EntryBody, type EntryKind } from "./ledger-entries.js";

/** A receipt as the ledger holds it now: the signed body's fields plus its current state. */
export interface ReceiptRecord {
  receiptId: string;
  /** earned: this node worked; spent: this node requested and paid. */
  role: "earned" | "spent";
  /** The entry holding the signed receipt. */
  seq: number;
  /** Epoch ms on this node's clock when the receipt was stored: what days and periods count by. */
  recordedAt: number;
  jobId: string;
  requesterPeerId: string;
  workerPeerId: string;
  modelSha256: string;
  promptTokens: number;
  outputTokens: number;
  pricePer1kTokensMicro: number;
  amountMicro: number;
  startedAt: number;
  finishedAt: number;
  /** Earnings state for earned receipts; "spent" for spent ones. */
  state: EarningState | "spent";
  stateReason: string | null;
  stateSeq: number;
  stateAt: number;
  /** The latest validator verdict seen, if any. */
  verdict: "pass" | "fail" | null;
}

export interface AttestationRecord {
  seq: number;
  receiptId: string;
  validatorPeerId: string;
  verdict: "pass" | "fail";
}

/** Where the derived state lives: SQL tables at append time, maps while a chain is replayed. */
export interface LedgerView {
  receipt(receiptId: string): ReceiptRecord | undefined;
  insertReceipt(record: ReceiptRecord): void;
  updateReceipt(receiptId: string, change: Pick<ReceiptRecord, "state" | "stateReason" | "stateSeq" | "stateAt" | "verdict">): void;
  hasAttestation(receiptId: string, validatorPeerId: string): boolean;
  insertAttestation(record: AttestationRecord): void;
}

/** Why an entry cannot follow the entries before it; the ledger turns it into a specific error. */
export class EntryRuleError extends Error {
  constructor(
    readonly rule: "genesis" | "owner" | "replayed" | "unknown-receipt" | "self-attestation" | "attestation-mismatch" | "attestation-replayed" | "transition",
    message: string,
  ) {
    super(message);
  }
}

type AnyEntry = { [K in EntryKind]: { kind: K; body: EntryBody<K> } }[EntryKind];

/**
 * The ledger's rules, in one place for appending and for replaying a file: the first entry is the
 * genesis, receipts are unique and belong to the owner's side, attestations name a known receipt and
 * another peer than its worker, and earnings only move as `canMoveEarning` allows. Signatures are
 * checked separately (they are async); this is synchronous so it can run inside a transaction.
 */
export function applyEntry(view: LedgerView, owner: string, seq: number, at: number, entry: AnyEntry): void {
  if ((seq === 1) !== (entry.kind === "genesis")) throw new EntryRuleError("genesis", seq === 1 ? "the first entry is not the genesis" : "a second genesis entry");
  switch (entry.kind) {
    case "genesis":
      if (entry.body.peerId !== owner) throw new EntryRuleError("owner", `the ledger belongs to ${entry.body.peerId}, not ${owner}`);
      return;
    case "receipt-earned":
    case "receipt-spent": {
      const body = entry.body.receipt.body;
      const role = entry.kind === "receipt-earned" ? "earned" : "spent";
      const ourSide = role === "earned" ? body.workerPeerId : body.requesterPeerId;
      if (ourSide !== owner) throw new EntryRuleError("owner", `receipt ${body.receiptId} names ${ourSide} as the ${role === "earned" ? "worker" : "requester"}, not this ledger's owner ${owner}`);
      if (view.receipt(body.receiptId)) throw new EntryRuleError("replayed", `receipt ${body.receiptId} is already in the ledger`);
      view.insertReceipt({
        receiptId: body.receiptId,
        role,
        seq,
        recordedAt: at,
        jobId: body.jobId,
        requesterPeerId: body.requesterPeerId,
        workerPeerId: body.workerPeerId,
        modelSha256: body.modelSha256,
        promptTokens: body.promptTokens,
        outputTokens: body.outputTokens,
        pricePer1kTokensMicro: body.pricePer1kTokensMicro,
        amountMicro: body.amountMicro,
        startedAt: body.startedAt,
        finishedAt: body.finishedAt,
        state: entry.kind === "receipt-earned" ? entry.body.state : "spent",
        stateReason: entry.kind === "receipt-earned" ? (entry.body.state === "held" ? "new node: earnings held back" : "awaiting verification") : null,
        stateSeq: seq,
        stateAt: at,
        verdict: null,
      });
      return;
    }
    case "attestation": {
      const { receiptId, attestation } = entry.body;
      const { validatorPeerId, verdict } = attestation.body;
      const receipt = view.receipt(receiptId);
      if (!receipt) throw new EntryRuleError("unknown-receipt", `attestation on receipt ${receiptId}, which is not in the ledger`);
      if (attestation.body.receiptId !== undefined && attestation.body.receiptId !== receiptId) throw new EntryRuleError("attestation-mismatch", `the attestation is about receipt ${attestation.body.receiptId}, not ${receiptId}`);
      if (attestation.body.jobId !== undefined && attestation.body.jobId !== receipt.jobId) throw new EntryRuleError("attestation-mismatch", `the attestation is about job ${attestation.body.jobId}, not ${receipt.jobId}`);
      if (validatorPeerId === receipt.workerPeerId) throw new EntryRuleError("self-attestation", `worker ${validatorPeerId} attests its own receipt ${receiptId}`);
      if (view.hasAttestation(receiptId, validatorPeerId)) throw new EntryRuleError("attestation-replayed", `validator ${validatorPeerId} already attested receipt ${receiptId}`);
      view.insertAttestation({ seq, receiptId, validatorPeerId, verdict });
      view.updateReceipt(receiptId, { state: receipt.state, stateReason: receipt.stateReason, stateSeq: receipt.stateSeq, stateAt: receipt.stateAt, verdict });
      return;
    }
    case "earning-state": {
      const { receiptId, state, reason } = entry.body;
      const receipt = view.receipt(receiptId);
      if (!receipt) throw new EntryRuleError("unknown-receipt", `state change of receipt ${receiptId}, which is not in the ledger`);
      if (receipt.state === "spent") throw new EntryRuleError("transition", `receipt ${receiptId} was spent by this node; only earned receipts have earnings states`);
      if (!canMoveEarning(receipt.state, state)) throw new EntryRuleError("transition", `receipt ${receiptId} cannot move from ${receipt.state} to ${state}`);
      view.updateReceipt(receiptId, { state, stateReason: reason, stateSeq: seq, stateAt: at, verdict: receipt.verdict });
      return;
    }
  }
}

export function createMemoryView(): LedgerView & { receipts: Map<string, ReceiptRecord>; attestations: AttestationRecord[] } {
  const receipts = new Map<string, ReceiptRecord>();
  const attestations: AttestationRecord[] = [];
  const attested = new Set<string>();
  return {
    receipts,
    attestations,
    receipt: (id) => receipts.get(id),
    insertReceipt: (record) => void receipts.set(record.receiptId, record),
    updateReceipt: (id, change) => void receipts.set(id, { ...receipts.get(id)!, ...change }),
    hasAttestation: (receiptId, validator) => attested.has(`${receiptId}\n${validator}`),
    insertAttestation: (record) => {
      attestations.push(record);
      attested.add(`${record.receiptId}\n${record.validatorPeerId}`);
    },
  };
}

const RECEIPT_COLUMNS = `receipt_id, role, seq, recorded_at, job_id, requester_peer_id, worker_peer_id, model_sha256, prompt_tokens, output_tokens,
  price_per_1k_micro, amount_micro, started_at, finished_at, state, state_reason, state_seq, state_at, verdict`;

export function receiptFromRow(row: Record<string, SQLOutputValue>): ReceiptRecord {
  return {
    receiptId: row.receipt_id as string,
    role: row.role as ReceiptRecord["role"],
    seq: Number(row.seq),
    recordedAt: Number(row.recorded_at),
    jobId: row.job_id as string,
    requesterPeerId: row.requester_peer_id as string,
    workerPeerId: row.worker_peer_id as string,
    modelSha256: row.model_sha256 as string,
    promptTokens: Number(row.prompt_tokens),
    outputTokens: Number(row.output_tokens),
    pricePer1kTokensMicro: Number(row.price_per_1k_micro),
    amountMicro: Number(row.amount_micro),
    startedAt: Number(row.started_at),
    finishedAt: Number(row.finished_at),
    state: row.state as ReceiptRecord["state"],
    stateReason: (row.state_reason as string | null) ?? null,
    stateSeq: Number(row.state_seq),
    stateAt: Number(row.state_at),
    verdict: (row.verdict as ReceiptRecord["verdict"]) ?? null,
  };
}

/** The SQL tables as a view; statements are prepared once per connection. */
export function createSqlView(db: DatabaseSync): LedgerView & { allReceipts(): ReceiptRecord[]; allAttestations(): AttestationRecord[]; clear(): void } {
  const selectReceipt = db.prepare(`SELECT ${RECEIPT_COLUMNS} FROM receipts WHERE receipt_id = ?`);
  const insertReceipt = db.prepare(`INSERT INTO receipts (${RECEIPT_COLUMNS}) VALUES (${Array(19).fill("?").join(", ")})`);
  const updateReceipt = db.prepare("UPDATE receipts SET state = ?, state_reason = ?, state_seq = ?, state_at = ?, verdict = ? WHERE receipt_id = ?");
  const selectAttestation = db.prepare("SELECT 1 FROM attestations WHERE receipt_id = ? AND validator_peer_id = ?");
  const insertAttestation = db.prepare("INSERT INTO attestations (seq, receipt_id, validator_peer_id, verdict) VALUES (?, ?, ?, ?)");
  return {
    receipt(id) {
      const row = selectReceipt.get(id);
      return row ? receiptFromRow(row) : undefined;
    },
    insertReceipt(r) {
      insertReceipt.run(r.receiptId, r.role, r.seq, r.recordedAt, r.jobId, r.requesterPeerId, r.workerPeerId, r.modelSha256, r.promptTokens, r.outputTokens, r.pricePer1kTokensMicro, r.amountMicro, r.startedAt, r.finishedAt, r.state, r.stateReason, r.stateSeq, r.stateAt, r.verdict);
    },
    updateReceipt(id, c) {
      updateReceipt.run(c.state, c.stateReason, c.stateSeq, c.stateAt, c.verdict, id);
    },
    hasAttestation: (receiptId, validator) => selectAttestation.get(receiptId, validator) !== undefined,
    insertAttestation(a) {
      insertAttestation.run(a.seq, a.receiptId, a.validatorPeerId, a.verdict);
    },
    allReceipts: () => db.prepare(`SELECT ${RECEIPT_COLUMNS} FROM receipts ORDER BY seq`).all().map(receiptFromRow),
    allAttestations: () =>
      db
        .prepare("SELECT seq, receipt_id, validator_peer_id, verdict FROM attestations ORDER BY seq")
        .all()
        .map((row) => ({ seq: Number(row.seq), receiptId: row.receipt_id as string, validatorPeerId: row.validator_peer_id as string, verdict: row.verdict as "pass" | "fail" })),
    clear() {
      db.exec("DELETE FROM receipts; DELETE FROM attestations;");
    },
  };
}
