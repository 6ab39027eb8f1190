import { describe, expect, it } from "vitest";
import type { CapacityAdvertBody } from "../swarm/index.js";
import { createDraftPairing, estimateDraftSpeedup, rankDraftCandidates, type DraftCandidateFacts } from "./draft-pairing.js";

const DRAFT = "d".repeat(64);
const OTHER_DRAFT = "e".repeat(64);
const verifier = { verifierTokensPerSecond: 85 };

function facts(peerId: string, rttMs: number | undefined, overrides: Partial<DraftCandidateFacts> = {}): DraftCandidateFacts {
  return { peerId, draftModelSha256: DRAFT, rttMs, draftTokensPerSecond: 220, freeSlots: 1, contributing: true, ...overrides };
}

function advert(peerId: string, sha256: string, tokensPerSecond: number, freeSlots = 1): CapacityAdvertBody {
  return {
    peerId,
    issuedAt: 0,
    expiresAt: 60_000,
    sequence: 1,
    models: [{ sha256, name: "draft", quantization: "Q8_0", contextSize: 2048, tokensPerSecond, pricePer1kTokens: 0 }],
    freeSlots,
    queueLength: 0,
    policy: { contribute: true, reasonCode: "contributing" },
    addresses: [],
  };
}

describe("draft speedup estimate", () => {
  it("is above 1 for a fast draft on a short link and falls with the round trip", () => {
    const near = estimateDraftSpeedup({ rttMs: 1, draftTokensPerSecond: 220 }, verifier);
    const far = estimateDraftSpeedup({ rttMs: 20, draftTokensPerSecond: 220 }, verifier);
    expect(near.speedup).toBeGreaterThan(1.2);
    expect(far.speedup).toBeLessThan(near.speedup);
    expect(near.draftTokens).toBeGreaterThan(0);
  });

  it("is 1 (no pairing) when the draft is slower than the verifier", () => {
    expect(estimateDraftSpeedup({ rttMs: 1, draftTokensPerSecond: 40 }, verifier)).toEqual({ speedup: 1, draftTokens: 0 });
  });
});

describe("ranking draft candidates", () => {
  it("prefers the nearest draft, and leaves out unreachable, distant, full and paused ones", () => {
    const ranked = rankDraftCandidates(
      [
        facts("far", 40),
        facts("near", 1),
        facts("unreachable", undefined),
        facts("too-far", 500),
        facts("full", 1, { freeSlots: 0 }),
        facts("paused", 1, { contributing: false }),
        facts("mid", 5),
      ],
      verifier,
    );
    const ids = ranked.map((r) => r.peerId);
    expect(ids.slice(0, 2)).toEqual(["near", "mid"]);
    for (const left of ["unreachable", "too-far", "full", "paused"]) expect(ids).not.toContain(left);
  });

  it("takes a faster draft over a slightly nearer slow one", () => {
    const ranked = rankDraftCandidates([facts("near-slow", 1, { draftTokensPerSecond: 100 }), facts("fast", 2, { draftTokensPerSecond: 600 })], verifier);
    expect(ranked[0]!.peerId).toBe("fast");
  });
});

describe("createDraftPairing", () => {
  it("pairs with the best advertised draft by ping and never with itself", async () => {
    const adverts: Record<string, CapacityAdvertBody[]> = {
      [DRAFT]: [advert("self", DRAFT, 300), advert("slow-link", DRAFT, 300), advert("close", DRAFT, 250)],
      [OTHER_DRAFT]: [advert("busy", OTHER_DRAFT, 400, 0)],
    };
    const pings: Record<string, number | undefined> = { self: 0, "slow-link": 45, close: 2, busy: 1 };
    const pinged: string[] = [];
    const pairing = createDraftPairing({
      selfPeerId: "self",
      candidates: { candidates: async (sha) => (adverts[sha] ?? []).map((body) => ({ peerId: body.peerId, advert: body })) },
      latency: {
        latencyMs: async (peerId) => {
          pinged.push(peerId);
          return pings[peerId];
        },
      },
    });
    const choice = await pairing.pick({ draftModels: [DRAFT, OTHER_DRAFT], ...verifier });
    expect(choice).toMatchObject({ peerId: "close", draftModelSha256: DRAFT, rttMs: 2 });
    expect(pinged.sort()).toEqual(["close", "slow-link"]);
    expect(await pairing.pick({ draftModels: [DRAFT], exclude: new Set(["close", "slow-link"]), ...verifier })).toBeUndefined();
  });
});
