import type { DatabaseSync } from "node:sqlite";
import { GENESIS_PREV_HASH } from "./ledger-entries.js";

/** Bumped when the tables change; an older file is refused rather than misread. */
export const LEDGER_SCHEMA_VERSION = 1;

/**
 * `entries` is the ledger: append-only (triggers refuse UPDATE and DELETE, and any INSERT that is not at
 * the head of the chain). `receipts` and `attestations` are derived from it for queries, written in the same
 * transaction as the entry; `open()` recomputes them from the verified chain and repairs any difference.
 */
export const LEDGER_DDL = `
CREATE TABLE IF NOT EXISTS entries (
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  body TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS entries_no_update BEFORE UPDATE ON entries
BEGIN SELECT RAISE(ABORT, 'LEDGER_APPEND_ONLY: ledger entries are never changed'); END;
CREATE TRIGGER IF NOT EXISTS entries_no_delete BEFORE DELETE ON entries
BEGIN SELECT RAISE(ABORT, 'LEDGER_APPEND_ONLY: ledger entries are never deleted'); END;
CREATE TRIGGER IF NOT EXISTS entries_append_at_head BEFORE INSERT ON entries
WHEN NEW.seq IS NOT (SELECT COALESCE(MAX(seq), 0) + 1 FROM entries)
  OR NEW.prev_hash IS NOT COALESCE((SELECT hash FROM entries ORDER BY seq DESC LIMIT 1), '${GENESIS_PREV_HASH}')
BEGIN SELECT RAISE(ABORT, 'LEDGER_APPEND_ONLY: entries are appended at the head of the chain'); END;

CREATE TABLE IF NOT EXISTS receipts (
  receipt_id TEXT PRIMARY KEY,
  role TEXT NOT NULL CHECK (role IN ('earned', 'spent')),
  seq INTEGER NOT NULL,
  recorded_at INTEGER NOT NULL,
  job_id TEXT NOT NULL,
  requester_peer_id TEXT NOT NULL,
  worker_peer_id TEXT NOT NULL,
  model_sha256 TEXT NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  price_per_1k_micro INTEGER NOT NULL,
  amount_micro INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL,
  state TEXT NOT NULL,
  state_reason TEXT,
  state_seq INTEGER NOT NULL,
  state_at INTEGER NOT NULL,
  verdict TEXT
);
CREATE INDEX IF NOT EXISTS receipts_by_role_time ON receipts (role, recorded_at);
CREATE INDEX IF NOT EXISTS receipts_by_state ON receipts (role, state, recorded_at);

CREATE TABLE IF NOT EXISTS attestations (
  seq INTEGER PRIMARY KEY,
  receipt_id TEXT NOT NULL,
  validator_peer_id TEXT NOT NULL,
  verdict TEXT NOT NULL,
  UNIQUE (receipt_id, validator_peer_id)
);
`;

export function createTables(db: DatabaseSync): void {
  db.exec(LEDGER_DDL);
}
