import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { describe, expect, it } from "vitest";
import { canonicalJson, modelProviderCid, signAdvert, verifyAdvertSignature } from "./adverts.js";
import type { CapacityAdvertBody } from "./capacity-advert.js";

async function body(): Promise<{ body: CapacityAdvertBody; key: Awaited<ReturnType<typeof generateKeyPair>> }> {
  const key = await generateKeyPair("Ed25519");
  return {
    key,
    body: {
      peerId: peerIdFromPrivateKey(key).toString(),
      issuedAt: 1_000,
      expiresAt: 61_000,
      sequence: 1_000,
      models: [],
      freeSlots: 1,
      queueLength: 0,
      policy: { contribute: true, reasonCode: "idle" },
      addresses: [],
    },
  };
}

describe("advert signatures", () => {
  it("canonical JSON does not depend on key order", () => {
    expect(canonicalJson({ b: 1, a: [{ d: "x", c: null }] })).toBe(canonicalJson({ a: [{ c: null, d: "x" }], b: 1 }));
    expect(canonicalJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
  });

  it("verifies an advert signed by its peer and rejects any change or another signer", async () => {
    const { body: advertBody, key } = await body();
    const signed = await signAdvert(advertBody, key);
    expect(await verifyAdvertSignature(signed)).toBe(true);
    // Same content, keys in another order: still valid (the signature covers canonical bytes).
    const reordered = JSON.parse(JSON.stringify({ signature: signed.signature, body: Object.fromEntries(Object.entries(signed.body).reverse()) }));
    expect(await verifyAdvertSignature(reordered)).toBe(true);
    expect(await verifyAdvertSignature({ ...signed, body: { ...advertBody, freeSlots: 9 } })).toBe(false);
    expect(await verifyAdvertSignature(await signAdvert(advertBody, await generateKeyPair("Ed25519")))).toBe(false);
    expect(await verifyAdvertSignature({ ...signed, signature: "not base64 at all!" })).toBe(false);
    expect(await verifyAdvertSignature({ ...signed, body: { ...advertBody, peerId: "garbage" } })).toBe(false);
  });

  it("derives one provider CID per model hash", async () => {
    const a = await modelProviderCid("a".repeat(64));
    expect((await modelProviderCid("a".repeat(64))).equals(a)).toBe(true);
    expect((await modelProviderCid("b".repeat(64))).equals(a)).toBe(false);
    expect(a.version).toBe(1);
  });
});
