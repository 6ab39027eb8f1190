import type { PrivateKey, PublicKey } from "@libp2p/interface";
import { peerIdFromPrivateKey, peerIdFromString } from "@libp2p/peer-id";
import { fromString as uint8ArrayFromString } from "uint8arrays/from-string";
import { toString as uint8ArrayToString } from "uint8arrays/to-string";
import { canonicalJson } from "./canonical-json.js";

const encoder = new TextEncoder();

/** Ed25519 over the canonical JSON of `value` with the node's libp2p key, as adverts are signed; base64. */
export async function signCanonical(value: unknown, privateKey: PrivateKey): Promise<string> {
  return uint8ArrayToString(await privateKey.sign(encoder.encode(canonicalJson(value))), "base64");
}

export function peerIdOfKey(privateKey: PrivateKey): string {
  return peerIdFromPrivateKey(privateKey).toString();
}

// Parsing a peer id costs about as much as a verify; a ledger sees few distinct peers many times.
const publicKeys = new Map<string, PublicKey | null>();
const MAX_CACHED_KEYS = 4096;

/** The public key inlined in an Ed25519/secp256k1 peer id; null when the id is not one (e.g. RSA, garbage). */
export function publicKeyOfPeer(peerId: string): PublicKey | null {
  const cached = publicKeys.get(peerId);
  if (cached !== undefined) return cached;
  let key: PublicKey | null;
  try {
    key = peerIdFromString(peerId).publicKey ?? null;
  } catch {
    key = null;
  }
  if (publicKeys.size >= MAX_CACHED_KEYS) publicKeys.clear();
  publicKeys.set(peerId, key);
  return key;
}

/** "ok", or why `signature` is not `peerId`'s signature over canonicalJson(value). Never throws. */
export async function verifyCanonical(value: unknown, peerId: string, signature: string): Promise<"ok" | "no-key" | "bad-signature"> {
  const key = publicKeyOfPeer(peerId);
  if (!key) return "no-key";
  try {
    const bytes = uint8ArrayFromString(signature, "base64");
    return (await key.verify(encoder.encode(canonicalJson(value)), bytes)) ? "ok" : "bad-signature";
  } catch {
    return "bad-signature";
  }
}
