import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { canonicalJson, createSilentLogger, systemClock, type Clock, type Logger } from "../common/index.js";
import { verifyAttestation, verifyAttestationEd25519, type AttestationSignatureCheck, type SignedAttestation } from "./attestation.js";
import { exportReceiptsCsv } from "./earnings-csv.js";
import { summarizeEarnings, type LedgerEarningsSummary } from "./earnings-summary.js";
import { entryBodySchemas, entryHash, GENESIS_PREV_HASH, isEntryKind, type EarningState, type EntryBody, type EntryKind } from "./ledger-entries.js";
import { LedgerError } from "./ledger-errors.js";
import { applyEntry, createMemoryView, createSqlView, EntryRuleError, receiptFromRow, type LedgerView, type ReceiptRecord } from "./ledger-state.js";
import { createTables, LEDGER_SCHEMA_VERSION } from "./ledger-tables.js";
import { systemTimeZone } from "./local-days.js";
import { verifyReceipt, type ReceiptBody, type SignedReceipt } from "./receipt.js";
import { inTransaction, openDatabase } from "./sqlite.js";

/** Where a worker's new earnings start: "held" while the node is new (trust decides), else "pending". */
export type HoldPolicy = (workerPeerId: string, receipt: ReceiptBody) => "pending" | "held";

export interface LedgerOptions {
  /** The database file (created with its folder when missing). */
  path: string;
  /** The identity this ledger belongs to: earned receipts name it as worker, spent ones as requester. */
  peerId: string;
  clock?: Clock;
  logger?: Logger;
  holdPolicy?: HoldPolicy;
  /**
   * Where a pending receipt goes when a validator passes it: "payable" (the default), or "held" while the
   * node is new and its verified work waits for the hold to lift (the ladder). Asked in the same
   * transaction that stores the attestation.
   */
  verifiedState?: () => "payable" | "held";
  /** How validators' signatures are checked; default Ed25519 by the key in the validator's peer id. */
  verifyAttestationSignature?: AttestationSignatureCheck;
  /**
   * A small file holding the chain head after each commit. The chain alone cannot show that its newest
   * entries were cut off; the head file can (it may lag one commit after a crash, never lead).
   */
  headFile?: string;
  /** IANA zone that days are counted in; default the system's. */
  timeZone?: string;
}

export interface ChainHead {
  seq: number;
  hash: string;
}

export interface VerifyReport {
  entries: number;
  receipts: number;
  attestations: number;
  head: ChainHead;
  /** True when the derived tables disagreed with the chain and were rebuilt from it. */
  repaired: boolean;
}

export interface StoredReceipt {
  record: ReceiptRecord;
  receipt: SignedReceipt;
  attestations: SignedAttestation[];
}

export interface AttestationOutcome {
  record: ReceiptRecord;
  /** The earnings move the verdict caused, if any (a verdict on a final state moves nothing). */
  moved: { from: EarningState; to: EarningState } | null;
}

export interface Ledger {
  readonly path: string;
  readonly peerId: string;
  /** Worker side: stores a countersigned receipt naming this node as worker; starts pending or held. */
  recordEarned(receipt: SignedReceipt): Promise<ReceiptRecord>;
  /** Requester side: stores a countersigned receipt naming this node as requester, as spent. */
  recordSpent(receipt: SignedReceipt): Promise<ReceiptRecord>;
  /**
   * Stores a validator's attestation on a known receipt (`receiptId`, else the one its body names). On an
   * earned receipt the verdict moves earnings (pass: pending → payable; fail: pending/held → forfeited)
   * unless `applyVerdict` is false, for when trust decides by quorum and calls setEarningState itself.
   */
  recordAttestation(attestation: SignedAttestation, options?: { receiptId?: string; applyVerdict?: boolean }): Promise<AttestationOutcome>;
  /** Moves one earned receipt's earnings (trust's decisions, e.g. a quorum); final states never move. */
  setEarningState(receiptId: string, state: EarningState, reason: string): ReceiptRecord;
  /** The hold on a new node lifted: every held receipt (or those given) becomes payable. Returns how many moved. */
  releaseHeld(options?: { receiptIds?: readonly string[]; reason?: string }): number;
  /** Pending receipts stored before `olderThan` with no failed verdict become payable: nobody disputed them in time. */
  settlePending(options: { olderThan: number; reason?: string }): number;
  has(receiptId: string): boolean;
  getReceipt(receiptId: string): StoredReceipt | undefined;
  /** Newest first; `before` is a `seq` from an earlier page. */
  listReceipts(options?: { limit?: number; before?: number; role?: "earned" | "spent" }): ReceiptRecord[];
  /** Earned receipts per current state, e.g. for trust's "verified jobs so far". */
  stateCounts(): Record<EarningState, number>;
  summary(options?: { now?: number; days?: number }): LedgerEarningsSummary;
  /** Receipts stored in [from, to), as RFC 4180 CSV. */
  exportCsv(options: { from: number; to: number; role?: "earned" | "spent"; modelName?: (sha256: string) => string | undefined }): string;
  head(): ChainHead;
  /** Re-reads the whole file: chain, entries, signatures and rules; throws LEDGER_TAMPERED naming the first bad seq. */
  verify(): Promise<VerifyReport>;
  close(): void;
}

type NewEntry = { [K in EntryKind]: { kind: K; body: EntryBody<K> } }[EntryKind];

const PAGE = 512;

/** Opens (or creates) a ledger and verifies all of it before returning; a tampered file throws LEDGER_TAMPERED. */
export async function openLedger(options: LedgerOptions): Promise<Ledger> {
  const clock = options.clock ?? systemClock;
  const logger = (options.logger ?? createSilentLogger()).child({ module: "ledger" });
  const owner = options.peerId;
  const holdPolicy: HoldPolicy = options.holdPolicy ?? (() => "pending");
  const verifiedState = options.verifiedState ?? (() => "payable");
  const attestationCheck = options.verifyAttestationSignature ?? verifyAttestationEd25519;
  const timeZone = options.timeZone ?? systemTimeZone();

  let db: DatabaseSync;
  try {
    mkdirSync(path.dirname(path.resolve(options.path)), { recursive: true });
    db = openDatabase(options.path);
  } catch (error) {
    throw new LedgerError("LEDGER_OPEN_FAILED", `Could not open the ledger at ${options.path}: ${describe(error)}. Check the path and its permissions.`, { cause: error });
  }

  let closed = false;
  let head: ChainHead;
  try {
    prepareFile(db, owner, clock);
    const report = await verifyChain(db, owner, attestationCheck, logger, true);
    head = report.head;
    checkHeadFile(options.headFile, db, head);
    if (report.repaired) logger.warn({ path: options.path }, "the ledger's query tables disagreed with its chain and were rebuilt from it");
  } catch (error) {
    db.close();
    if (error instanceof LedgerError) throw error;
    throw new LedgerError("LEDGER_OPEN_FAILED", `Could not read the ledger at ${options.path}: ${describe(error)}. It may not be a ledger file.`, { cause: error });
  }
  writeHeadFile(options.headFile, head, logger);

  const view = createSqlView(db);
  const insertEntry = db.prepare("INSERT INTO entries (seq, at, kind, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)");

  const open = () => {
    if (closed) throw new LedgerError("LEDGER_CLOSED", "The ledger is closed; open it again to use it.");
  };

  /** All `entries` commit together or not at all, each checked against the rules as it is added. */
  function append(entries: readonly NewEntry[]): ChainHead {
    open();
    const next = inTransaction(db, () => {
      let at = readHead(db);
      for (const entry of entries) {
        const seq = at.seq + 1;
        const now = clock.now();
        // The same schema the verifier reads with: the file never holds what an open would refuse.
        const body = canonicalJson(entryBodySchemas[entry.kind].parse(entry.body));
        const hash = entryHash(at.hash, seq, now, entry.kind, body);
        applyEntry(view, owner, seq, now, entry);
        insertEntry.run(seq, now, entry.kind, body, at.hash, hash);
        at = { seq, hash };
      }
      return at;
    });
    head = next;
    writeHeadFile(options.headFile, head, logger);
    return next;
  }

  function appendChecked(entries: readonly NewEntry[]): ChainHead {
    try {
      return append(entries);
    } catch (error) {
      throw ruleError(error);
    }
  }

  function requireReceipt(receiptId: string): ReceiptRecord {
    const record = view.receipt(receiptId);
    if (!record) throw new LedgerError("LEDGER_UNKNOWN_RECEIPT", `Receipt ${receiptId} is not in this ledger.`);
    return record;
  }

  function moveMany(records: readonly ReceiptRecord[], to: EarningState, reason: string): number {
    if (records.length === 0) return 0;
    appendChecked(records.map((record) => ({ kind: "earning-state", body: { receiptId: record.receiptId, state: to, reason } }) as const));
    return records.length;
  }

  const earnedInState = (state: EarningState) => db.prepare("SELECT * FROM receipts WHERE role = 'earned' AND state = ? ORDER BY seq").all(state).map(receiptFromRow);

  return {
    path: options.path,
    peerId: owner,

    async recordEarned(receipt) {
      open();
      const signed = await verifyReceipt(receipt, { requireCountersign: true });
      if (signed.body.workerPeerId !== owner) {
        throw new LedgerError("LEDGER_WRONG_OWNER", `Receipt ${signed.body.receiptId} pays worker ${signed.body.workerPeerId}, not this node (${owner}); it belongs in that worker's ledger.`);
      }
      const state = holdPolicy(owner, signed.body);
      appendChecked([{ kind: "receipt-earned", body: { receipt: signed, state } }]);
      return requireReceipt(signed.body.receiptId);
    },

    async recordSpent(receipt) {
      open();
      const signed = await verifyReceipt(receipt, { requireCountersign: true });
      if (signed.body.requesterPeerId !== owner) {
        throw new LedgerError("LEDGER_WRONG_OWNER", `Receipt ${signed.body.receiptId} was signed by requester ${signed.body.requesterPeerId}, not this node (${owner}).`);
      }
      appendChecked([{ kind: "receipt-spent", body: { receipt: signed } }]);
      return requireReceipt(signed.body.receiptId);
    },

    async recordAttestation(attestation, attestationOptions = {}) {
      open();
      const checked = await verifyAttestation(attestation, attestationCheck);
      const { verdict, validatorPeerId } = checked.body;
      const receiptId = attestationOptions.receiptId ?? checked.body.receiptId;
      if (receiptId === undefined) throw new LedgerError("LEDGER_UNKNOWN_RECEIPT", "The attestation names no receipt; pass the receipt id it judges.");
      const before = requireReceipt(receiptId);
      let to: EarningState | undefined;
      if (before.state !== "spent" && (attestationOptions.applyVerdict ?? true)) {
        if (verdict === "fail" && (before.state === "pending" || before.state === "held")) to = "forfeited";
        // A held receipt stays held when verified: the hold is about the node being new, not this job.
        if (verdict === "pass" && before.state === "pending") to = verifiedState();
      }
      const entries: NewEntry[] = [{ kind: "attestation", body: { receiptId, attestation: checked } }];
      if (to) entries.push({ kind: "earning-state", body: { receiptId, state: to, reason: `${verdict === "pass" ? "verified" : "failed verification"} by validator ${validatorPeerId}` } });
      appendChecked(entries);
      return { record: requireReceipt(receiptId), moved: to && before.state !== "spent" ? { from: before.state, to } : null };
    },

    setEarningState(receiptId, state, reason) {
      requireReceipt(receiptId);
      appendChecked([{ kind: "earning-state", body: { receiptId, state, reason: reason.slice(0, 300) || "changed" } }]);
      return requireReceipt(receiptId);
    },

    releaseHeld(releaseOptions = {}) {
      open();
      const wanted = releaseOptions.receiptIds ? new Set(releaseOptions.receiptIds) : undefined;
      const held = earnedInState("held").filter((record) => !wanted || wanted.has(record.receiptId));
      return moveMany(held, "payable", releaseOptions.reason ?? "hold on a new node lifted");
    },

    settlePending(settleOptions) {
      open();
      const due = earnedInState("pending").filter((record) => record.recordedAt < settleOptions.olderThan && record.verdict !== "fail");
      return moveMany(due, "payable", settleOptions.reason ?? "not disputed within the verification window");
    },

    has(receiptId) {
      open();
      return view.receipt(receiptId) !== undefined;
    },

    getReceipt(receiptId) {
      open();
      const record = view.receipt(receiptId);
      if (!record) return undefined;
      const receiptEntry = db.prepare("SELECT kind, body FROM entries WHERE seq = ?").get(record.seq)!;
      const receipt = (JSON.parse(receiptEntry.body as string) as EntryBody<"receipt-earned" | "receipt-spent">).receipt;
      const attestations = db
        .prepare("SELECT e.body AS body FROM attestations a JOIN entries e ON e.seq = a.seq WHERE a.receipt_id = ? ORDER BY a.seq")
        .all(receiptId)
        .map((row) => (JSON.parse(row.body as string) as EntryBody<"attestation">).attestation);
      return { record, receipt, attestations };
    },

    listReceipts(listOptions = {}) {
      open();
      const limit = Math.max(1, Math.min(1000, Math.floor(listOptions.limit ?? 50)));
      const before = listOptions.before ?? Number.MAX_SAFE_INTEGER;
      const rows = listOptions.role
        ? db.prepare("SELECT * FROM receipts WHERE seq < ? AND role = ? ORDER BY seq DESC LIMIT ?").all(before, listOptions.role, limit)
        : db.prepare("SELECT * FROM receipts WHERE seq < ? ORDER BY seq DESC LIMIT ?").all(before, limit);
      return rows.map(receiptFromRow);
    },

    stateCounts() {
      open();
      const counts: Record<EarningState, number> = { pending: 0, held: 0, payable: 0, forfeited: 0 };
      for (const row of db.prepare("SELECT state, COUNT(*) AS n FROM receipts WHERE role = 'earned' GROUP BY state").all()) counts[row.state as EarningState] = Number(row.n);
      return counts;
    },

    summary(summaryOptions = {}) {
      open();
      return summarizeEarnings(db, { now: summaryOptions.now ?? clock.now(), days: summaryOptions.days ?? 30, timeZone });
    },

    exportCsv(csvOptions) {
      open();
      return exportReceiptsCsv(db, csvOptions);
    },

    head() {
      return { ...head };
    },

    async verify() {
      open();
      return verifyChain(db, owner, attestationCheck, logger, false);
    },

    close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}

/** A new file gets the tables and its genesis entry; an existing one must be a ledger of this version and owner. */
function prepareFile(db: DatabaseSync, owner: string, clock: Clock): void {
  const version = Number(db.prepare("PRAGMA user_version").get()!.user_version);
  if (version > LEDGER_SCHEMA_VERSION) {
    throw new LedgerError("LEDGER_OPEN_FAILED", `The ledger file has format ${version}, newer than this build understands (${LEDGER_SCHEMA_VERSION}); update InferSwarm.`);
  }
  if (version === 0) {
    const tables = Number(db.prepare("SELECT COUNT(*) AS n FROM sqlite_master").get()!.n);
    if (tables > 0) throw new LedgerError("LEDGER_OPEN_FAILED", "The file is an SQLite database but not an InferSwarm ledger; choose another path.");
  }
  // IF NOT EXISTS: also puts back triggers someone dropped (the chain check then tells whether they did harm).
  createTables(db);
  if (version === 0) {
    inTransaction(db, () => {
      db.exec(`PRAGMA user_version = ${LEDGER_SCHEMA_VERSION}`);
      const at = clock.now();
      const body = canonicalJson({ v: 1, format: "inferswarm-ledger", peerId: owner } satisfies EntryBody<"genesis">);
      db.prepare("INSERT INTO entries (seq, at, kind, body, prev_hash, hash) VALUES (1, ?, 'genesis', ?, ?, ?)").run(at, body, GENESIS_PREV_HASH, entryHash(GENESIS_PREV_HASH, 1, at, "genesis", body));
    });
  }
}

function readHead(db: DatabaseSync): ChainHead {
  const row = db.prepare("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1").get();
  return row ? { seq: Number(row.seq), hash: row.hash as string } : { seq: 0, hash: GENESIS_PREV_HASH };
}

/**
 * Replays the file from the first entry: links, hashes, canonical bodies, schemas, signatures and rules.
 * Reads in pages so appends may continue meanwhile (only entries up to the head seen at the start count).
 */
async function verifyChain(db: DatabaseSync, owner: string, attestationCheck: AttestationSignatureCheck, logger: Logger, repair: boolean): Promise<VerifyReport> {
  const last = readHead(db);
  const memory = createMemoryView();
  const page = db.prepare("SELECT seq, at, kind, body, prev_hash, hash FROM entries WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?");
  let expected = 1;
  let prev = GENESIS_PREV_HASH;
  if (last.seq === 0) throw tampered(1, "the ledger has no genesis entry");
  while (expected <= last.seq) {
    const rows = page.all(expected - 1, last.seq, PAGE);
    if (rows.length === 0) throw tampered(expected, `entry ${expected} is missing`);
    for (const row of rows) {
      const seq = Number(row.seq);
      if (seq !== expected) throw tampered(expected, `entry ${expected} is missing (the next one is ${seq})`);
      const at = Number(row.at);
      const kind = String(row.kind);
      const bodyText = String(row.body);
      if (row.prev_hash !== prev) throw tampered(seq, "it does not link to the entry before it (an entry was removed, inserted or reordered)");
      if (entryHash(prev, seq, at, kind, bodyText) !== row.hash) throw tampered(seq, "its content does not match its hash (it was edited)");
      const entry = parseEntry(seq, kind, bodyText);
      await checkSignatures(seq, entry, attestationCheck);
      try {
        applyEntry(memory, owner, seq, at, entry);
      } catch (error) {
        if (error instanceof EntryRuleError) {
          if (error.rule === "owner" && seq === 1) throw new LedgerError("LEDGER_WRONG_OWNER", `This ledger file belongs to another identity: ${error.message}. Open it with that identity, or use another file.`, { cause: error });
          throw tampered(seq, error.message);
        }
        throw error;
      }
      prev = String(row.hash);
      expected++;
    }
  }
  const repaired = repair && !sameDerivedState(db, memory) ? rebuildDerived(db, memory) : false;
  // Entries appended while this ran are not in `memory`: compare only when none were.
  if (!repair && readHead(db).seq === last.seq && !sameDerivedState(db, memory)) logger.warn("the ledger's query tables disagree with its chain; they are rebuilt on the next open");
  return { entries: last.seq, receipts: memory.receipts.size, attestations: memory.attestations.length, head: last, repaired };
}

function parseEntry(seq: number, kind: string, bodyText: string): NewEntry {
  if (!isEntryKind(kind)) throw tampered(seq, `unknown entry kind "${kind.slice(0, 40)}"`);
  let value: unknown;
  try {
    value = JSON.parse(bodyText);
  } catch {
    throw tampered(seq, "its body is not JSON");
  }
  const parsed = entryBodySchemas[kind].safeParse(value);
  if (!parsed.success) throw tampered(seq, `its ${kind} body breaks the schema at ${parsed.error.issues[0]?.path.join(".") ?? "?"}`);
  if (canonicalJson(parsed.data) !== bodyText) throw tampered(seq, "its body is not in canonical form");
  return { kind, body: parsed.data } as NewEntry;
}

async function checkSignatures(seq: number, entry: NewEntry, attestationCheck: AttestationSignatureCheck): Promise<void> {
  try {
    if (entry.kind === "receipt-earned" || entry.kind === "receipt-spent") await verifyReceipt(entry.body.receipt, { requireCountersign: true });
    if (entry.kind === "attestation") await verifyAttestation(entry.body.attestation, attestationCheck);
  } catch (error) {
    if (error instanceof LedgerError) throw tampered(seq, `${error.code}: ${error.message}`, error);
    throw error;
  }
}

function sameDerivedState(db: DatabaseSync, memory: ReturnType<typeof createMemoryView>): boolean {
  const sql = createSqlView(db);
  const receipts = sql.allReceipts();
  if (receipts.length !== memory.receipts.size) return false;
  for (const record of receipts) if (canonicalJson(record) !== canonicalJson(memory.receipts.get(record.receiptId))) return false;
  return canonicalJson(sql.allAttestations()) === canonicalJson(memory.attestations);
}

function rebuildDerived(db: DatabaseSync, memory: ReturnType<typeof createMemoryView>): true {
  inTransaction(db, () => {
    const sql: LedgerView & { clear(): void } = createSqlView(db);
    sql.clear();
    for (const record of [...memory.receipts.values()].sort((a, b) => a.seq - b.seq)) sql.insertReceipt(record);
    for (const attestation of memory.attestations) sql.insertAttestation(attestation);
  });
  return true;
}

function checkHeadFile(headFile: string | undefined, db: DatabaseSync, head: ChainHead): void {
  if (!headFile) return;
  let text: string;
  try {
    text = readFileSync(headFile, "utf8");
  } catch {
    return; // first open with a head file, or it was lost: nothing to hold the chain against
  }
  let recorded: ChainHead;
  try {
    recorded = JSON.parse(text) as ChainHead;
  } catch {
    throw tampered(head.seq + 1, `the head file ${headFile} is not JSON`);
  }
  if (!Number.isSafeInteger(recorded.seq) || recorded.seq < 1) throw tampered(head.seq + 1, `the head file ${headFile} names no entry`);
  if (recorded.seq > head.seq) throw tampered(head.seq + 1, `the chain ends at entry ${head.seq} but the head file says ${recorded.seq} entries were committed (newest entries were cut off)`);
  const row = db.prepare("SELECT hash FROM entries WHERE seq = ?").get(recorded.seq);
  if (row?.hash !== recorded.hash) throw tampered(recorded.seq, "its hash differs from the one in the head file (the chain was rewritten from there)");
}

function writeHeadFile(headFile: string | undefined, head: ChainHead, logger: Logger): void {
  if (!headFile) return;
  try {
    const temporary = `${headFile}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(head)}\n`, { mode: 0o600 });
    renameSync(temporary, headFile);
  } catch (error) {
    logger.warn({ err: error, headFile }, "could not write the ledger head file");
  }
}

function ruleError(error: unknown): unknown {
  if (!(error instanceof EntryRuleError)) return error;
  switch (error.rule) {
    case "replayed":
      return new LedgerError("LEDGER_RECEIPT_REPLAYED", `Refused: ${error.message}. A receipt is paid once.`, { cause: error });
    case "unknown-receipt":
      return new LedgerError("LEDGER_UNKNOWN_RECEIPT", `Refused: ${error.message}.`, { cause: error });
    case "attestation-replayed":
      return new LedgerError("LEDGER_ATTESTATION_REPLAYED", `Refused: ${error.message}.`, { cause: error });
    case "self-attestation":
      return new LedgerError("LEDGER_ATTESTATION_REFUSED", `Refused: ${error.message}; a worker cannot validate its own work.`, { cause: error });
    case "attestation-mismatch":
      return new LedgerError("LEDGER_ATTESTATION_REFUSED", `Refused: ${error.message}.`, { cause: error });
    case "transition":
      return new LedgerError("LEDGER_BAD_TRANSITION", `Refused: ${error.message}.`, { cause: error });
    case "owner":
    case "genesis":
      return new LedgerError("LEDGER_WRONG_OWNER", `Refused: ${error.message}.`, { cause: error });
  }
}

function tampered(seq: number, why: string, cause?: unknown): LedgerError {
  return new LedgerError("LEDGER_TAMPERED", `The ledger does not verify at entry ${seq}: ${why}. Restore it from a backup; entries from ${seq} on cannot be trusted.`, { seq, cause });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
