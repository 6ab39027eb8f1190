// Builders shared by the ledger's tests: identities, signed receipts and attestations, temporary files.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { generateKeyPair } from "@libp2p/crypto/keys";
import type { PrivateKey } from "@libp2p/interface";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import type { Clock } from "../common/index.js";
import { signAttestation, type SignedAttestation } from "./attestation.js";
import { countersignReceipt, createReceipt, signReceipt, type ReceiptInput, type SignedReceipt } from "./receipt.js";

export interface Identity {
  key: PrivateKey;
  peerId: string;
}

export async function makeIdentity(): Promise<Identity> {
  const key = await generateKeyPair("Ed25519");
  return { key, peerId: peerIdFromPrivateKey(key).toString() };
}

export const MODEL_A = "a".repeat(64);
export const MODEL_B = "b".repeat(64);

let jobCounter = 0;

export function receiptInput(requester: Identity, worker: Identity, overrides: Partial<ReceiptInput> = {}): ReceiptInput {
  jobCounter++;
  return {
    jobId: `job-${String(jobCounter).padStart(8, "0")}`,
    requesterPeerId: requester.peerId,
    workerPeerId: worker.peerId,
    modelSha256: MODEL_A,
    promptTokenIds: [1, 2, 3, 4],
    outputTokenIds: Array.from({ length: 100 }, (_, i) => 10 + i),
    pricePer1kTokensMicro: 2_000_000,
    startedAt: 1_700_000_000_000,
    finishedAt: 1_700_000_001_000,
    ...overrides,
  };
}

export async function signedBy(requester: Identity, worker: Identity, overrides: Partial<ReceiptInput> = {}): Promise<SignedReceipt> {
  return signReceipt(createReceipt(receiptInput(requester, worker, overrides)), requester.key);
}

export async function countersigned(requester: Identity, worker: Identity, overrides: Partial<ReceiptInput> = {}): Promise<SignedReceipt> {
  return countersignReceipt(await signedBy(requester, worker, overrides), worker.key);
}

export async function attestation(validator: Identity, receiptId: string, verdict: "pass" | "fail", issuedAt = 1_700_000_002_000): Promise<SignedAttestation> {
  return signAttestation({ v: 1, receiptId, validatorPeerId: validator.peerId, verdict, stats: { positions: 100, failed: verdict === "pass" ? 0 : 40 }, issuedAt }, validator.key);
}

export function manualClock(start: number): Clock & { set(ms: number): void; advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    set: (ms) => void (now = ms),
    advance: (ms) => void (now += ms),
  };
}

/** A fresh folder; `cleanup` removes it. */
export function tempDir(prefix = "inferswarm-ledger-"): { dir: string; file(name: string): string; cleanup(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, file: (name) => path.join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
