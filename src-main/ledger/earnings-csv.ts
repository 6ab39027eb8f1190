import type { DatabaseSync } from "node:sqlite";
import { formatMicroCredits } from "./credits.js";
import { LedgerError } from "./ledger-errors.js";
import { receiptFromRow, type ReceiptRecord } from "./ledger-state.js";

export const CSV_LIMITS = {
  /** The dashboard contract's cap on an export (20 MB of text). */
  maxChars: 20_000_000,
} as const;

const COLUMNS = [
  "receipt_id",
  "role",
  "state",
  "state_reason",
  "verdict",
  "recorded_at",
  "job_id",
  "model_sha256",
  "model_name",
  "requester_peer_id",
  "worker_peer_id",
  "prompt_tokens",
  "output_tokens",
  "price_per_1k_tokens",
  "amount",
  "started_at",
  "finished_at",
] as const;

/** RFC 4180: a field with a comma, quote, CR or LF is quoted, and its quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function row(record: ReceiptRecord, modelName: string): string {
  const iso = (ms: number) => new Date(ms).toISOString();
  const fields = [
    record.receiptId,
    record.role,
    record.state,
    record.stateReason ?? "",
    record.verdict ?? "",
    iso(record.recordedAt),
    record.jobId,
    record.modelSha256,
    modelName,
    record.requesterPeerId,
    record.workerPeerId,
    String(record.promptTokens),
    String(record.outputTokens),
    formatMicroCredits(record.pricePer1kTokensMicro),
    formatMicroCredits(record.amountMicro),
    iso(record.startedAt),
    iso(record.finishedAt),
  ];
  return fields.map(csvField).join(",");
}

/**
 * One row per receipt stored in [from, to) (this node's clock), oldest first, with its current state;
 * amounts in credits as exact decimals; times in UTC ISO 8601; CRLF line ends as RFC 4180 says.
 */
export function exportReceiptsCsv(
  db: DatabaseSync,
  options: { from: number; to: number; role?: "earned" | "spent"; modelName?: (sha256: string) => string | undefined; maxChars?: number },
): string {
  const maxChars = options.maxChars ?? CSV_LIMITS.maxChars;
  const roleFilter = options.role ? "AND role = ?" : "";
  const params = options.role ? [options.from, options.to, options.role] : [options.from, options.to];
  const statement = db.prepare(`SELECT * FROM receipts WHERE recorded_at >= ? AND recorded_at < ? ${roleFilter} ORDER BY seq`);
  const lines = [COLUMNS.join(",")];
  let chars = lines[0]!.length + 2;
  for (const raw of statement.iterate(...params)) {
    const record = receiptFromRow(raw);
    const line = row(record, options.modelName?.(record.modelSha256) ?? "");
    chars += line.length + 2;
    if (chars > maxChars) {
      throw new LedgerError("LEDGER_EXPORT_TOO_LARGE", `The export passes ${maxChars} characters after ${lines.length - 1} receipts; export fewer days at a time.`);
    }
    lines.push(line);
  }
  return `${lines.join("\r\n")}\r\n`;
}
