import { describe, expect, it } from "vitest";
import { createFakeTime, createSilentLogger } from "../common/index.js";
import type { AnswerScores, PositionStat } from "./answer-scores.js";
import type { SignedAttestation } from "./attestation.js";
import { createReputation } from "./reputation.js";
import { createValidationCoordinator, type FinishedJob, type VerificationAnswer, type VerificationRequest } from "./validation-coordinator.js";

const WORKER = "worker";
const good: PositionStat = [0, 0, 0.9];
const bad: PositionStat = [-1, 30, 0];

function job(overrides: Partial<FinishedJob> = {}): FinishedJob {
  return {
    jobId: "job-00000001",
    modelSha256: "a".repeat(64),
    promptTokens: [1, 5, 6],
    tokens: [10, 11, 12, 13],
    finishReason: "length",
    maxTokens: 4,
    sampling: { temperature: 0 },
    stopRequested: false,
    workerPeerId: WORKER,
    ...overrides,
  };
}

function answer(validatorPeerId: string, positions: PositionStat[], claimedVerdict: "pass" | "fail" = "pass"): VerificationAnswer {
  const scores: AnswerScores = { topK: 8, positions, end: null };
  const attestation = { body: { validatorPeerId, quantization: "F32", verdict: claimedVerdict }, signature: "x" } as unknown as SignedAttestation;
  return { attestation, scores };
}

type Behaviour = (request: VerificationRequest) => VerificationAnswer | Error;

function setup(validators: Record<string, Behaviour>, options: { random?: () => number; quorum?: number } = {}) {
  const time = createFakeTime();
  const reputation = createReputation({ clock: time.clock });
  const asked: string[] = [];
  const coordinator = createValidationCoordinator({
    random: options.random ?? (() => 0),
    candidates: async () => [WORKER, ...Object.keys(validators)],
    verify: async (peerId, request) => {
      asked.push(peerId);
      const result = validators[peerId]!(request);
      if (result instanceof Error) throw result;
      return result;
    },
    reputation,
    logger: createSilentLogger(),
    options: { quorum: options.quorum ?? 3 },
  });
  return { coordinator, reputation, asked };
}

const honest: Behaviour = (request) => answer("?", request.claimedTokens.map(() => good));
const foreign: Behaviour = (request) => answer("?", request.claimedTokens.map(() => bad), "fail");
const unreachable: Behaviour = () => Object.assign(new Error("no route"), { code: "SWARM_DIAL_FAILED" });

describe("validation coordinator", () => {
  it("asks one validator other than the worker and stops at a pass", async () => {
    const { coordinator, reputation, asked } = setup({ v1: honest, v2: honest, v3: honest });
    const outcome = await coordinator.validate(job());
    expect(outcome.verdict).toBe("pass");
    expect(asked).toHaveLength(1);
    expect(asked).not.toContain(WORKER);
    expect(reputation.standing(WORKER).passes).toBe(1);
  });

  it("picks the validator uniformly at random among the candidates", async () => {
    const picks = new Set<string>();
    for (const r of [0, 0.34, 0.67, 0.99]) {
      const { coordinator, asked } = setup({ v1: honest, v2: honest, v3: honest }, { random: () => r });
      await coordinator.validate(job());
      picks.add(asked[0]!);
    }
    expect(picks).toEqual(new Set(["v1", "v2", "v3"]));
  });

  it("sends a fail to a quorum whose majority stands, and blames the worker", async () => {
    const { coordinator, reputation, asked } = setup({ v1: foreign, v2: foreign, v3: honest });
    const outcome = await coordinator.validate(job());
    expect(asked).toHaveLength(3);
    expect(outcome.verdict).toBe("fail");
    expect(outcome.blamed).toEqual([WORKER]);
    expect(reputation.tier(WORKER)).toBe("distrusted");
    // The validator that passed a foreign answer against two others is marked down too.
    expect(reputation.standing("v3").fails).toBe(1);
  });

  it("lets an honest majority overrule one lying validator", async () => {
    const { coordinator, reputation } = setup({ v1: foreign, v2: honest, v3: honest });
    const outcome = await coordinator.validate(job());
    expect(outcome.verdict).toBe("pass");
    expect(reputation.standing(WORKER).fails).toBe(0);
    expect(reputation.standing("v1").fails).toBe(1);
  });

  it("re-judges the validator's scores instead of trusting its verdict string", async () => {
    // Claims "pass" but its own scores say the answer is foreign.
    const liar: Behaviour = (request) => answer("?", request.claimedTokens.map(() => bad), "pass");
    const { coordinator, asked } = setup({ v1: liar, v2: foreign, v3: foreign });
    const outcome = await coordinator.validate(job());
    expect(outcome.votes[0]!.verdict).toBe("fail");
    expect(asked).toHaveLength(3);
    expect(outcome.verdict).toBe("fail");
  });

  it("judges what only the requester knows: a stop finish without stop sequences fails", async () => {
    const { coordinator } = setup({ v1: honest });
    const outcome = await coordinator.validate(job({ finishReason: "stop", maxTokens: 10 }));
    expect(outcome.verdict).toBe("fail");
    expect(outcome.votes[0]!.judgement!.reasons).toContain("stop-without-stop-sequences");
  });

  it("replaces validators that give no vote while candidates remain", async () => {
    const { coordinator, asked } = setup({ v1: unreachable, v2: unreachable, v3: honest, v4: honest, v5: honest });
    const outcome = await coordinator.validate(job());
    expect(outcome.verdict).toBe("pass");
    expect(asked.length).toBeGreaterThanOrEqual(4);
    expect(outcome.votes.filter((vote) => vote.error)).toHaveLength(2);
  });

  it("is inconclusive without validators, and records nothing", async () => {
    const { coordinator, reputation } = setup({});
    const outcome = await coordinator.validate(job());
    expect(outcome.verdict).toBe("inconclusive");
    expect(reputation.knownPeers()).toBe(0);
  });

  it("blames the failover contributor whose part of the answer failed", async () => {
    const secondHalfBad: Behaviour = () => answer("?", [good, good, bad, bad], "fail");
    const { coordinator, reputation } = setup({ v1: secondHalfBad, v2: secondHalfBad, v3: secondHalfBad });
    const outcome = await coordinator.validate(job({ workerPeerId: "second", contributors: [{ peerId: "first", tokens: 2 }, { peerId: "second", tokens: 2 }] }));
    expect(outcome.blamed).toEqual(["second"]);
    expect(reputation.standing("first").fails).toBe(0);
  });

  it("checks suspicious peers more often: new ones, faster than advertised, aborting often", async () => {
    const time = createFakeTime();
    const reputation = createReputation({ clock: time.clock });
    const coordinator = createValidationCoordinator({
      random: () => 0.3,
      candidates: async () => [],
      verify: async () => {
        throw new Error("unused");
      },
      reputation,
      logger: createSilentLogger(),
      options: { sampleRate: 0.1, suspiciousSampleRate: 0.5 },
    });
    expect(coordinator.checkRate(job())).toBe(0.5); // new
    for (let i = 0; i < 20; i++) reputation.record(WORKER, { kind: "verification", verdict: "pass" });
    for (let i = 0; i < 20; i++) reputation.record(WORKER, { kind: "completed" });
    expect(coordinator.checkRate(job())).toBe(0.1);
    expect(coordinator.checkRate(job({ observedTokensPerSecond: 400, advertisedTokensPerSecond: 100 }))).toBe(0.5);
    expect(coordinator.checkRate(job({ observedTokensPerSecond: 120, advertisedTokensPerSecond: 100 }))).toBe(0.1);
    for (let i = 0; i < 8; i++) reputation.record(WORKER, { kind: "stall" });
    expect(coordinator.checkRate(job())).toBe(0.5);
    // consider() draws against the rate: 0.3 < 0.5 verifies (here: no validators, inconclusive).
    expect((await coordinator.consider(job()))?.verdict).toBe("inconclusive");
  });

  it("does not verify when the draw is above the rate", async () => {
    const { coordinator, asked } = setup({ v1: honest }, { random: () => 0.99 });
    expect(await coordinator.consider(job())).toBeUndefined();
    expect(asked).toHaveLength(0);
  });
});
