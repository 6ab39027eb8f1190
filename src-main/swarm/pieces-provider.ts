import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";

/**
 * The DHT key under which seeders of a model provide: CIDv1 raw of sha256 of `model-root/<root>`.
 * The prefix keeps it apart from modelProviderCid (workers serving jobs on a file sha256).
 */
export async function modelRootProviderCid(root: string): Promise<CID> {
  return CID.createV1(raw.code, await sha256.digest(new TextEncoder().encode(`model-root/${root}`)));
}
