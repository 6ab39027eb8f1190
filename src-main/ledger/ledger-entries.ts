import { createHash } from "node:crypto";
import { z } from "zod";
import { signedAttestationSchema } from "./attestation.js";
import { peerIdTextSchema, signedReceiptSchema } from "./receipt.js";

/** The hash before the first entry. */
export const GENESIS_PREV_HASH = "0".repeat(64);

export const earningStateSchema = z.enum(["pending", "held", "payable", "forfeited"]);
export type EarningState = z.infer<typeof earningStateSchema>;
/** States a receipt is in right after the worker stored it. */
export const initialEarningStateSchema = z.enum(["pending", "held"]);

const reasonSchema = z.string().min(1).max(300);

/** One schema per entry kind; `body` is the canonical JSON of the matching value. */
export const entryBodySchemas = {
  /** The first entry: whose ledger this is and its format. */
  genesis: z.object({ v: z.literal(1), format: z.literal("inferswarm-ledger"), peerId: peerIdTextSchema }).strict(),
  /** This node worked and holds the requester's receipt, countersigned; `state` is where its earnings start. */
  "receipt-earned": z.object({ receipt: signedReceiptSchema, state: initialEarningStateSchema }).strict(),
  /** This node requested and paid: the worker's countersigned receipt is its proof. */
  "receipt-spent": z.object({ receipt: signedReceiptSchema }).strict(),
  /** A validator's attestation, filed under the receipt it judges (its body may name only the job). */
  attestation: z.object({ receiptId: z.string().min(1).max(200), attestation: signedAttestationSchema }).strict(),
  /** An earned receipt's earnings moved to `state` (the current state is the last such entry). */
  "earning-state": z.object({ receiptId: z.string().min(1).max(200), state: earningStateSchema, reason: reasonSchema }).strict(),
} as const;

export type EntryKind = keyof typeof entryBodySchemas;
export const entryKinds = Object.keys(entryBodySchemas) as EntryKind[];
export type EntryBody<K extends EntryKind> = z.infer<(typeof entryBodySchemas)[K]>;

export function isEntryKind(kind: string): kind is EntryKind {
  return Object.hasOwn(entryBodySchemas, kind);
}

/**
 * sha256 over prev_hash, seq, at, kind and the body's canonical JSON, newline-separated: none of the
 * parts can hold a raw newline (hex, integers, a kind name, JSON), so no two entries share the bytes.
 */
export function entryHash(prevHash: string, seq: number, at: number, kind: string, body: string): string {
  return createHash("sha256").update(`${prevHash}\n${seq}\n${at}\n${kind}\n${body}`).digest("hex");
}

/** Earnings may move only forward: payable and forfeited are final. */
const ALLOWED: Record<EarningState, readonly EarningState[]> = {
  pending: ["payable", "forfeited", "held"],
  held: ["payable", "forfeited", "pending"],
  payable: [],
  forfeited: [],
};

export function canMoveEarning(from: EarningState, to: EarningState): boolean {
  return ALLOWED[from].includes(to);
}
