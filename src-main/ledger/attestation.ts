import type { PrivateKey } from "@libp2p/interface";
import { z } from "zod";
import { canonicalJson, peerIdOfKey, signCanonical, verifyCanonical } from "../common/index.js";
import { LedgerError } from "./ledger-errors.js";
import { peerIdTextSchema } from "./receipt.js";

export const ATTESTATION_LIMITS = {
  /** The whole body as canonical JSON: a summary (verdict, stats, hashes), never per-position data. */
  maxBodyBytes: 8192,
} as const;

/**
 * A validator's signed verdict. The trust module owns what else the body says (its stats, hashes and
 * reasons, e.g. trust's own attestation schema); the ledger needs only who judged and the verdict, and
 * checks `receiptId`/`jobId` against the receipt when the body names them. Everything else is kept as
 * it came (bounded), so the signature over its canonical JSON still verifies when read back.
 */
export const attestationBodySchema = z
  .object({
    validatorPeerId: peerIdTextSchema,
    verdict: z.enum(["pass", "fail"]),
    receiptId: z.string().min(1).max(200).optional(),
    jobId: z.string().min(1).max(64).optional(),
  })
  .catchall(z.json())
  .refine((body) => canonicalJson(body).length <= ATTESTATION_LIMITS.maxBodyBytes, { message: `the body must stay under ${ATTESTATION_LIMITS.maxBodyBytes} bytes of JSON` });

export const signedAttestationSchema = z
  .object({
    body: attestationBodySchema,
    /** The validator's Ed25519 signature over canonicalJson(body), base64. */
    signature: z.string().min(1).max(256),
  })
  .strict();

export type AttestationBody = z.infer<typeof attestationBodySchema>;
export type SignedAttestation = z.infer<typeof signedAttestationSchema>;

/** Checks a validator's signature; the default is Ed25519 by the key inlined in `validatorPeerId`. */
export type AttestationSignatureCheck = (attestation: SignedAttestation) => Promise<boolean>;

export const verifyAttestationEd25519: AttestationSignatureCheck = async (attestation) =>
  (await verifyCanonical(attestation.body, attestation.body.validatorPeerId, attestation.signature)) === "ok";

export async function signAttestation(body: AttestationBody, privateKey: PrivateKey): Promise<SignedAttestation> {
  if (peerIdOfKey(privateKey) !== body.validatorPeerId) {
    throw new LedgerError("LEDGER_WRONG_KEY", `This key belongs to ${peerIdOfKey(privateKey)}, not to the attestation's validator ${body.validatorPeerId}.`);
  }
  const parsed = attestationBodySchema.parse(body);
  return { body: parsed, signature: await signCanonical(parsed, privateKey) };
}

/** Throws LEDGER_ATTESTATION_FORGED (failed: schema or attestationSignature); returns the parsed attestation. */
export async function verifyAttestation(attestation: unknown, check: AttestationSignatureCheck = verifyAttestationEd25519): Promise<SignedAttestation> {
  const parsed = signedAttestationSchema.safeParse(attestation);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join(".")}` : "";
    throw new LedgerError("LEDGER_ATTESTATION_FORGED", `The attestation breaks its schema${where}: ${issue?.message ?? "invalid"}.`, { failed: "schema", cause: parsed.error });
  }
  if (!(await check(parsed.data))) {
    throw new LedgerError("LEDGER_ATTESTATION_FORGED", `The attestation is not signed by validator ${parsed.data.body.validatorPeerId}; it was changed or forged.`, { failed: "attestationSignature" });
  }
  return parsed.data;
}
