// The ledger module's door: signed receipts and attestations, and the append-only, hash-chained ledger.
export { LedgerError, type LedgerErrorCode, type ReceiptCheck } from "./ledger-errors.js";
export { MICRO_PER_CREDIT, creditsToMicro, microToCredits, formatMicroCredits, receiptAmountMicro } from "./credits.js";
export {
  RECEIPT_LIMITS,
  receiptBodySchema,
  signedReceiptSchema,
  hashTokens,
  receiptIdOf,
  createReceipt,
  createJobReceipts,
  signReceipt,
  countersignReceipt,
  verifyReceipt,
  type ReceiptBody,
  type SignedReceipt,
  type ReceiptInput,
  type WorkerContribution,
} from "./receipt.js";
export {
  ATTESTATION_LIMITS,
  attestationBodySchema,
  signedAttestationSchema,
  signAttestation,
  verifyAttestation,
  verifyAttestationEd25519,
  type AttestationBody,
  type SignedAttestation,
  type AttestationSignatureCheck,
} from "./attestation.js";
export { earningStateSchema, canMoveEarning, type EarningState } from "./ledger-entries.js";
export type { ReceiptRecord } from "./ledger-state.js";
export { openLedger, type Ledger, type LedgerOptions, type HoldPolicy, type ChainHead, type VerifyReport, type StoredReceipt, type AttestationOutcome } from "./ledger.js";
export type { LedgerEarningsSummary, EarningAmounts } from "./earnings-summary.js";
export { createFinishedJobRegistry, FINISHED_JOB_LIMITS, type FinishedJobRegistry, type FinishedJobRecord, type FinishedJobInput } from "./finished-jobs.js";
