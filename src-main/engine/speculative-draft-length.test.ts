import { describe, expect, it } from "vitest";
import { createDraftLengthController, expectedTokensPerRound } from "./speculative-draft-length.js";

// Costs shaped like the medium F32 verifier measured here: a plain step 10 ms, each extra batched token ~2.5 ms.
const PLAIN_MS = 10;
const verifyMs = (drafted: number) => PLAIN_MS + 2.5 * drafted;

function warmed(options: Parameters<typeof createDraftLengthController>[0] = {}) {
  const controller = createDraftLengthController(options);
  controller.recordPlainStep(PLAIN_MS);
  return controller;
}

/** Feeds rounds with a draft accepting each token with the given pattern, for a number of rounds. */
function feed(controller: ReturnType<typeof createDraftLengthController>, rounds: number, acceptAll: boolean, waitMs: number) {
  for (let i = 0; i < rounds; i++) {
    const k = Math.max(1, controller.next());
    controller.recordRound({ drafted: k, accepted: acceptAll ? k : 0, draftWaitMs: waitMs, draftComputeMs: 0, verifyMs: verifyMs(k) });
  }
}

describe("expected tokens per round (geometric acceptance)", () => {
  it("is 1 for plain decoding, k+1 for a perfect draft and in between otherwise", () => {
    expect(expectedTokensPerRound(0.8, 0)).toBe(1);
    expect(expectedTokensPerRound(1, 4)).toBe(5);
    expect(expectedTokensPerRound(0.5, 2)).toBeCloseTo(1.75);
  });
});

describe("draft length controller", () => {
  it("starts with a plain step to measure the reference cost", () => {
    expect(createDraftLengthController().next()).toBe(0);
  });

  it("drafts long when the draft is good and the link is fast", () => {
    const controller = warmed();
    feed(controller, 20, true, 1);
    expect(controller.next()).toBeGreaterThanOrEqual(6);
    expect(controller.state().acceptance).toBeGreaterThan(0.9);
  });

  it("falls back to plain decoding when the draft is always wrong", () => {
    const controller = warmed();
    feed(controller, 8, false, 1);
    expect(controller.next()).toBe(0);
  });

  it("falls back to plain decoding when the round trip costs more than speculation saves", () => {
    const controller = warmed({ priorAcceptance: 0.9 });
    feed(controller, 10, true, 200);
    expect(controller.next()).toBe(0);
  });

  it("drafts shorter on a slower link", () => {
    const fast = warmed();
    feed(fast, 10, true, 1);
    const slow = warmed();
    // A good but imperfect draft: 3 of 4 rounds fully accepted.
    for (const controller of [fast, slow]) {
      for (let i = 0; i < 12; i++) {
        const k = Math.max(1, controller.next());
        controller.recordRound({ drafted: k, accepted: i % 4 === 3 ? Math.floor(k / 2) : k, draftWaitMs: controller === fast ? 1 : 25, draftComputeMs: 0, verifyMs: verifyMs(k) });
      }
    }
    expect(slow.next()).toBeLessThanOrEqual(fast.next());
  });

  it("probes the draft again after a run of plain steps, and recovers when it got better", () => {
    const controller = warmed({ probeAfterPlainTokens: 5, probeDraftTokens: 2 });
    feed(controller, 8, false, 1);
    const chosen: number[] = [];
    for (let i = 0; i < 6; i++) {
      const k = controller.next();
      chosen.push(k);
      if (k === 0) controller.recordPlainStep(PLAIN_MS);
    }
    expect(chosen.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    expect(chosen[5]).toBe(2);
    // The draft is good now: a few accepted probes bring speculation back.
    feed(controller, 12, true, 1);
    expect(controller.next()).toBeGreaterThan(0);
  });

  it("uses a fixed draft length when told to", () => {
    const controller = createDraftLengthController({ fixedDraftTokens: 4 });
    feed(controller, 5, false, 100);
    expect(controller.next()).toBe(4);
  });
});
