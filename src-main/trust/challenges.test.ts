import { describe, expect, it } from "vitest";
import { createFakeTime, createSilentLogger } from "../common/index.js";
import type { GenerateRequest, GenerationResult, ScoreRequest, ScoreResult } from "../engine/index.js";
import { buildChallengePrompts } from "./challenge-prompts.js";
import { createChallenger, type ChallengeAnswer, type ChallengeJob, type ChallengeModel } from "./challenges.js";
import { createReputation } from "./reputation.js";

/** A toy model whose one answer follows from the whole context: enough to tell honest from foreign answers. */
const next = (context: readonly number[]) => 3 + (context.reduce((sum, token, i) => sum + token * (i + 1), 0) % 90);
const fakeModel: ChallengeModel = {
  info: { sha256: "b".repeat(64), quantization: "F32" },
  eosToken: 2,
  isEndOfGenerationToken: (token) => token === 2,
  tokenizePrompt: (text) => [1, ...[...text].slice(0, 20).map((c) => 3 + (c.charCodeAt(0) % 90))],
  async generateText(request: GenerateRequest): Promise<GenerationResult> {
    const prompt = typeof request.prompt === "string" ? [1] : [...request.prompt.tokens];
    const tokens: number[] = [];
    for (let i = 0; i < request.maxTokens; i++) tokens.push(next([...prompt, ...tokens]));
    return { finishReason: "length", tokens, text: "", promptTokenCount: prompt.length, generatedTokenCount: tokens.length, seed: undefined, timeToFirstTokenMs: 1, durationMs: 1 };
  },
  async score(request: ScoreRequest): Promise<ScoreResult> {
    const context = [...request.promptTokens];
    const positions = request.claimedTokens.map((token) => {
      const best = next(context);
      context.push(token);
      return token === best ? { token, rank: 0, logitMargin: 0, probability: 0.99, bestToken: best } : { token, rank: null, logitMargin: 25, probability: 0, bestToken: best };
    });
    return { positions, topK: request.topK ?? 8 };
  },
};

function setup(runJob: (peerId: string, job: ChallengeJob) => Promise<ChallengeAnswer>, randomValues?: () => number) {
  const time = createFakeTime();
  const reputation = createReputation({ clock: time.clock });
  const jobs: Array<{ peerId: string; job: ChallengeJob; at: number }> = [];
  const challenger = createChallenger({
    model: fakeModel,
    prompts: buildChallengePrompts({ seed: 3, count: 50 }),
    runJob: async (peerId, job) => {
      jobs.push({ peerId, job, at: time.clock.now() });
      return runJob(peerId, job);
    },
    targets: async () => ["w1", "w2"],
    reputation,
    random: randomValues ?? Math.random,
    timers: time.timers,
    clock: time.clock,
    logger: createSilentLogger(),
    options: { meanIntervalMs: 60_000 },
  });
  return { time, reputation, challenger, jobs };
}

const honestWorker = async (_peerId: string, job: ChallengeJob): Promise<ChallengeAnswer> => {
  const result = await fakeModel.generateText({ prompt: { tokens: job.prompt.tokens }, maxTokens: job.maxTokens });
  return { tokens: result.tokens, finishReason: "length" };
};

describe("hidden challenges", () => {
  it("sends an ordinary-looking job and passes an honest worker by scoring, not equality", async () => {
    const { challenger, reputation, jobs } = setup(honestWorker);
    const outcome = await challenger.challenge("w1");
    expect(outcome).toMatchObject({ verdict: "pass", matchesExpected: true });
    const { job } = jobs[0]!;
    expect(job.jobId).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(job.prompt.text.length).toBeGreaterThan(5);
    expect(job.stop).toEqual([]);
    expect(reputation.standing("w1")).toMatchObject({ passes: 1, fails: 0 });
    expect(reputation.view("w1").history[0]).toMatchObject({ kind: "challenge", verdict: "pass" });
  });

  it("fails word salad, a truncated answer claimed as finished and another prompt's answer", async () => {
    const cheats: Record<string, (peerId: string, job: ChallengeJob) => Promise<ChallengeAnswer>> = {
      salad: async (_p, job) => ({ tokens: Array.from({ length: job.maxTokens }, (_, i) => 3 + ((i * 37) % 90)), finishReason: "length" }),
      truncated: async (p, job) => ({ tokens: (await honestWorker(p, job)).tokens.slice(0, 5), finishReason: "eos" }),
      short: async (p, job) => ({ tokens: (await honestWorker(p, job)).tokens.slice(0, 5), finishReason: "length" }),
      replay: async (p, job) => honestWorker(p, { ...job, prompt: { ...job.prompt, tokens: [1, 50] } }),
    };
    for (const [name, cheat] of Object.entries(cheats)) {
      const { challenger, reputation } = setup(cheat);
      const outcome = await challenger.challenge("w1");
      expect(outcome.verdict, name).toBe("fail");
      expect(reputation.tier("w1"), name).toBe("distrusted");
    }
  });

  it("counts a stall against the worker but not a busy refusal", async () => {
    const stalled = setup(async () => {
      throw Object.assign(new Error("stalled"), { code: "SWARM_STALLED", retryable: true });
    });
    expect((await stalled.challenger.challenge("w1")).verdict).toBe("error");
    expect(stalled.reputation.standing("w1").stalls).toBe(1);
    const busy = setup(async () => {
      throw Object.assign(new Error("busy"), { code: "SWARM_WORKER_ERROR", retryable: true });
    });
    expect((await busy.challenger.challenge("w1")).verdict).toBe("error");
    expect(busy.reputation.knownPeers()).toBe(0);
  });

  it("challenges random targets at random times once started, and stops", async () => {
    const { challenger, time, jobs } = setup(honestWorker);
    challenger.start();
    await time.advance(30 * 60_000);
    await challenger.stop();
    const count = jobs.length;
    expect(count).toBeGreaterThan(5);
    const gaps = jobs.slice(1).map((entry, i) => entry.at - jobs[i]!.at);
    expect(new Set(gaps).size).toBeGreaterThan(1);
    await time.advance(30 * 60_000);
    expect(jobs.length).toBe(count);
  });

  it("builds a bank of varied, plausible prompts from a seed", () => {
    const bank = buildChallengePrompts({ seed: 11, count: 200 });
    expect(bank).toHaveLength(200);
    expect(new Set(bank).size).toBe(200);
    expect(buildChallengePrompts({ seed: 11, count: 200 })).toEqual(bank);
    expect(buildChallengePrompts({ seed: 12, count: 200 })).not.toEqual(bank);
    expect(bank.some((prompt) => prompt.includes("\n"))).toBe(true);
  });
});
