import { InferSwarmError } from "../common/index.js";

export type LedgerErrorCode =
  /** The file's hash chain, an entry or a signature inside it does not verify; `seq` names the first bad entry. */
  | "LEDGER_TAMPERED"
  /** A signature does not verify against the claimed signer's key (changed after signing, or signed by another key). */
  | "LEDGER_RECEIPT_FORGED"
  /** The receipt breaks its own rules (schema, id, amount, times): a field was changed or made up. */
  | "LEDGER_RECEIPT_ALTERED"
  /** A receipt with this id is already in the ledger. */
  | "LEDGER_RECEIPT_REPLAYED"
  | "LEDGER_ATTESTATION_FORGED"
  | "LEDGER_ATTESTATION_REPLAYED"
  /** A well-signed attestation the ledger will not take (e.g. a worker attesting its own receipt). */
  | "LEDGER_ATTESTATION_REFUSED"
  | "LEDGER_UNKNOWN_RECEIPT"
  /** An earnings state change the state machine does not allow (e.g. out of forfeited). */
  | "LEDGER_BAD_TRANSITION"
  /** The ledger file belongs to another identity than the one opening it. */
  | "LEDGER_WRONG_OWNER"
  /** A receipt was given to sign with a key that is not the signer named in it. */
  | "LEDGER_WRONG_KEY"
  | "LEDGER_OPEN_FAILED"
  | "LEDGER_CLOSED"
  | "LEDGER_EXPORT_TOO_LARGE";

/** What a receipt or attestation check found wrong (tests and peers branch on it, messages explain it). */
export type ReceiptCheck =
  | "schema"
  | "receiptId"
  | "amount"
  | "times"
  | "signerKey"
  | "requesterSignature"
  | "workerSignature"
  | "missingWorkerSignature"
  | "attestationSignature";

export class LedgerError extends InferSwarmError {
  declare readonly code: LedgerErrorCode;
  /** For LEDGER_TAMPERED: the first entry that does not verify. */
  readonly seq: number | undefined;
  /** For receipt and attestation checks: which check failed. */
  readonly failed: ReceiptCheck | undefined;

  constructor(code: LedgerErrorCode, message: string, options: { seq?: number; failed?: ReceiptCheck; cause?: unknown } = {}) {
    super(code, message, { cause: options.cause });
    this.seq = options.seq;
    this.failed = options.failed;
  }
}
