import { describe, expect, it } from "vitest";
import { reputationViewSchema } from "../../src-contract/dashboard-api.js";
import { createFakeTime } from "../common/index.js";
import { createReputation, type ReputationStore } from "./reputation.js";

const DAY = 86_400_000;

function setup(options: Partial<Parameters<typeof createReputation>[0]> = {}) {
  const time = createFakeTime();
  const reputation = createReputation({ clock: time.clock, ...options });
  return { time, reputation };
}

const pass = { kind: "verification", verdict: "pass" } as const;
const fail = { kind: "verification", verdict: "fail" } as const;

describe("reputation scores and tiers", () => {
  it("gives unknown peers a neutral score, the new tier and held earnings", () => {
    const { reputation } = setup();
    expect(reputation.score("stranger")).toBe(0.5);
    expect(reputation.tier("stranger")).toBe("new");
    expect(reputation.holdPolicy("stranger")).toBe("held");
  });

  it("holds a new peer's earnings until it has enough verified passes, then trusts it", () => {
    const { reputation } = setup({ holdUntilPasses: 10 });
    for (let i = 0; i < 9; i++) reputation.record("p", pass);
    expect(reputation.tier("p")).toBe("new");
    expect(reputation.holdPolicy("p")).toBe("held");
    reputation.record("p", { kind: "challenge", verdict: "pass" });
    expect(reputation.standing("p").passes).toBe(10);
    expect(reputation.tier("p")).toBe("trusted");
    expect(reputation.holdPolicy("p")).toBe("pending");
    expect(reputation.score("p")).toBeGreaterThanOrEqual(0.7);
  });

  it("puts a trusted peer on probation after one failed check and distrusts it after two", () => {
    const { reputation } = setup();
    for (let i = 0; i < 20; i++) reputation.record("p", pass);
    expect(reputation.tier("p")).toBe("trusted");
    reputation.record("p", fail);
    expect(reputation.tier("p")).toBe("probation");
    expect(reputation.holdPolicy("p")).toBe("held");
    reputation.record("p", { kind: "challenge", verdict: "fail" });
    expect(reputation.tier("p")).toBe("distrusted");
  });

  it("distrusts a new peer at its first failed check", () => {
    const { reputation } = setup();
    reputation.record("cheater", fail);
    expect(reputation.tier("cheater")).toBe("distrusted");
    expect(reputation.score("cheater")).toBeLessThan(reputation.score("stranger"));
  });

  it("lets failures and stalls weigh little: a few bad connections do not distrust a peer", () => {
    const { reputation } = setup();
    for (let i = 0; i < 5; i++) reputation.record("flaky", { kind: "failure", detail: "SWARM_NO_END" });
    reputation.record("flaky", { kind: "stall" });
    expect(reputation.tier("flaky")).toBe("new");
    expect(reputation.score("flaky")).toBeLessThan(0.5);
    expect(reputation.score("flaky")).toBeGreaterThan(0.4);
    reputation.record("flaky", { kind: "completed" });
    expect(reputation.standing("flaky")).toMatchObject({ failures: 5, stalls: 1, completed: 1 });
  });
});

describe("reputation decay", () => {
  it("drifts back toward neutral with the half-life", async () => {
    const { time, reputation } = setup({ halfLifeMs: 7 * DAY });
    reputation.record("cheater", fail);
    const after = reputation.score("cheater");
    expect(after).toBeCloseTo(0.25, 6);
    await time.advance(7 * DAY);
    expect(reputation.score("cheater")).toBeCloseTo(0.5 - (0.5 - after) / 2, 6);
    await time.advance(70 * DAY);
    expect(reputation.score("cheater")).toBeCloseTo(0.5, 3);
  });

  it("moves a distrusted peer out of distrust as its bad news fades, but keeps its earnings held", async () => {
    const { time, reputation } = setup({ halfLifeMs: DAY });
    for (let i = 0; i < 12; i++) reputation.record("p", pass);
    reputation.record("p", fail);
    reputation.record("p", fail);
    expect(reputation.tier("p")).toBe("distrusted");
    await time.advance(3 * DAY);
    expect(reputation.tier("p")).toBe("probation");
    expect(reputation.holdPolicy("p")).toBe("held");
  });

  it("decays good standing too: trust must be kept up by passing checks", async () => {
    const { time, reputation } = setup({ halfLifeMs: DAY });
    for (let i = 0; i < 30; i++) reputation.record("p", pass);
    expect(reputation.tier("p")).toBe("trusted");
    await time.advance(5 * DAY);
    expect(reputation.tier("p")).toBe("probation");
  });
});

describe("reputation bounds, history and persistence", () => {
  it("keeps at most maxPeers, dropping the least recently seen", () => {
    const { reputation } = setup({ maxPeers: 3 });
    for (const peer of ["a", "b", "c"]) reputation.record(peer, fail);
    reputation.record("a", pass); // a is now the most recent
    reputation.record("d", fail);
    expect(reputation.knownPeers()).toBe(3);
    expect(reputation.score("b")).toBe(0.5); // forgotten
    expect(reputation.score("a")).not.toBe(0.5);
  });

  it("keeps a bounded history shaped for the dashboard, newest first", () => {
    const { reputation } = setup({ historyPerPeer: 5 });
    for (let i = 0; i < 8; i++) reputation.record("p", { kind: "verification", verdict: "pass", detail: `job ${i}` });
    reputation.record("p", { kind: "stall" });
    reputation.record("p", { kind: "completed" });
    const view = reputation.view("p");
    expect(reputationViewSchema.parse(view)).toEqual(view);
    expect(view.history).toHaveLength(5);
    expect(view.history[0]).toMatchObject({ kind: "stall", verdict: "fail" });
    expect(view.history[1]).toMatchObject({ kind: "verification", verdict: "pass", detail: "job 7" });
  });

  it("saves a snapshot and loads it back (decay continues from the saved times)", async () => {
    let stored: unknown;
    const store: ReputationStore = { read: async () => stored, write: async (value) => void (stored = JSON.parse(JSON.stringify(value))) };
    const first = setup({ store });
    first.reputation.record("p", fail);
    for (let i = 0; i < 3; i++) first.reputation.record("q", pass);
    await first.reputation.save();

    const second = createReputation({ clock: first.time.clock, store });
    await second.load();
    expect(second.score("p")).toBeCloseTo(first.reputation.score("p"), 9);
    expect(second.standing("q").passes).toBe(3);
    expect(second.view("p").history).toHaveLength(1);
  });

  it("refuses a corrupt snapshot with a clear error and starts empty without one", async () => {
    const empty = createReputation({ clock: createFakeTime().clock, store: { read: async () => undefined, write: async () => undefined } });
    await empty.load();
    expect(empty.knownPeers()).toBe(0);
    const corrupt = createReputation({ clock: createFakeTime().clock, store: { read: async () => ({ version: 9 }), write: async () => undefined } });
    await expect(corrupt.load()).rejects.toMatchObject({ code: "TRUST_STORE_CORRUPT" });
  });

  it("tells subscribers about every event with the new standing", () => {
    const { reputation } = setup();
    const seen: string[] = [];
    const off = reputation.subscribe((peerId, event, standing) => seen.push(`${peerId}:${event.kind}:${standing.tier}`));
    reputation.record("p", fail);
    off();
    reputation.record("p", pass);
    expect(seen).toEqual(["p:verification:distrusted"]);
  });
});
