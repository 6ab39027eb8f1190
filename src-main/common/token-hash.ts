import { createHash } from "node:crypto";

/**
 * sha256 (hex) over token ids as little-endian u32: how receipts and attestations name a prompt or an
 * answer, so the hashes of one job agree wherever they are computed.
 */
export function hashTokens(ids: readonly number[]): string {
  const bytes = Buffer.allocUnsafe(ids.length * 4);
  for (let i = 0; i < ids.length; i++) bytes.writeUInt32LE(ids[i]!, i * 4);
  return createHash("sha256").update(bytes).digest("hex");
}
