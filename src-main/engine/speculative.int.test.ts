import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureSyntheticModel, type SyntheticModelSpec } from "../models/index.js";
import { createEngine, type Engine, type LoadedModel } from "./index.js";
import type { DraftProposer } from "./speculative-decoding.js";
import { loadSpeculativeModel, type SpeculativeModel } from "./speculative-model.js";

// Peaky models: their greedy path is stable, so batched and one-token decoding agree token for token.
const target: SyntheticModelSpec = { preset: "small", seed: 3, quantization: "F32", peaky: true };
const draftSpec: SyntheticModelSpec = { ...target, quantization: "Q8_0" };
const prompts = ["The swarm answers", "Weather on the network today", "A node that drafts"];
const maxTokens = 96;

let engine: Engine;
let plain: LoadedModel;
let verifier: SpeculativeModel;
let draftModel: SpeculativeModel;
const plainAnswers = new Map<string, number[]>();

beforeAll(async () => {
  const [targetFile, draftFile] = await Promise.all([ensureSyntheticModel(target), ensureSyntheticModel(draftSpec)]);
  engine = await createEngine({ gpu: false });
  plain = await engine.loadModel(targetFile.path, { threads: 1 });
  verifier = await loadSpeculativeModel(targetFile.path, { threads: 1, gpu: false });
  draftModel = await loadSpeculativeModel(draftFile.path, { threads: 1, gpu: false, sequences: 2 });
  for (const prompt of prompts) plainAnswers.set(prompt, (await plain.generateText({ prompt, maxTokens })).tokens);
});

afterAll(async () => {
  await verifier?.close();
  await draftModel?.close();
  await engine?.close();
});

async function speculate(prompt: string, draft: DraftProposer | undefined, fixedDraftTokens?: number) {
  const stream = verifier.generate({ prompt, maxTokens }, { draft, draftLength: { fixedDraftTokens } });
  const tokens: number[] = [];
  let text = "";
  for await (const token of stream) {
    tokens.push(token.tokenId);
    text += token.text;
  }
  return { tokens, text, result: await stream.result, stats: stream.stats() };
}

/** A draft that counts its calls and can be made to fail. */
function instrumented(inner: DraftProposer, failAfter = Infinity): DraftProposer & { calls: number } {
  const counter = {
    calls: 0,
    async propose(context: readonly number[], k: number) {
      counter.calls++;
      if (counter.calls > failAfter) throw new Error("draft node went away");
      return inner.propose(context, k);
    },
  };
  return counter;
}

describe("speculative decoding (real node-llama-cpp, peaky small model)", () => {
  it("decodes the verifier's own greedy answer without a draft", async () => {
    for (const prompt of prompts) {
      const { tokens, stats } = await speculate(prompt, undefined);
      expect(tokens).toEqual(plainAnswers.get(prompt));
      expect(stats.rounds).toBe(0);
    }
  });

  it("accepts several draft tokens per round from a Q8_0 draft and gives the verifier's answer", async () => {
    for (const prompt of prompts) {
      const session = await draftModel.openDraftSession();
      try {
        // A fixed k: whether speculation pays on this tiny model depends on timings; acceptance does not.
        const { tokens, result, stats } = await speculate(prompt, session, 4);
        expect(tokens).toEqual(plainAnswers.get(prompt));
        expect(result.tokens).toEqual(tokens);
        expect(stats.rounds).toBeGreaterThan(0);
        // More accepted tokens than rounds: some rounds accepted two or more draft tokens.
        expect(stats.acceptedTokens).toBeGreaterThan(stats.rounds);
        expect(stats.meanDraftLength).toBeGreaterThan(1);
      } finally {
        await session.close();
      }
    }
  });

  it("falls back to plain decoding when the draft is always wrong", async () => {
    const prompt = prompts[0]!;
    const answer = plainAnswers.get(prompt)!;
    // Proposes a token the verifier never chooses at that position.
    const promptLength = verifier.tokenizePrompt(prompt).length;
    const wrong = instrumented({
      async propose(context, k) {
        const position = context.length - promptLength;
        return { tokens: Array.from({ length: k }, (_, i) => (answer[position + i] === 5 ? 6 : 5)), draftComputeMs: 0 };
      },
    });
    const { tokens, stats } = await speculate(prompt, wrong);
    expect(tokens).toEqual(answer);
    expect(stats.acceptedTokens).toBe(0);
    // A handful of rounds to learn, then plain steps with a rare probe.
    expect(stats.rounds).toBeLessThanOrEqual(12);
    expect(stats.plainSteps).toBeGreaterThan(tokens.length - 24);
  });

  it("completes the answer when the draft disappears mid-answer", async () => {
    for (const prompt of prompts) {
      const session = await draftModel.openDraftSession();
      try {
        const dying = instrumented(session, 3);
        const { tokens, stats } = await speculate(prompt, dying, 4);
        expect(tokens).toEqual(plainAnswers.get(prompt));
        expect(stats.draftFailures).toBe(1);
        expect(stats.draftDroppedReason).toContain("went away");
        expect(dying.calls).toBe(4);
      } finally {
        await session.close();
      }
    }
  });

  it("a draft session proposes the draft model's own greedy continuation, also after the verifier diverges", async () => {
    const prompt = prompts[1]!;
    const reference: number[] = [];
    for await (const token of draftModel.generate({ prompt, maxTokens: 24 })) reference.push(token.tokenId);
    const context = draftModel.tokenizePrompt(prompt);
    const session = await draftModel.openDraftSession({ runAhead: 4 });
    try {
      const first = await session.propose(context, 6);
      expect(first.tokens).toEqual(reference.slice(0, 6));
      // The verifier accepted two and chose another token: the draft continues from there.
      const diverged = [...context, ...reference.slice(0, 2), 7];
      const second = await session.propose(diverged, 4);
      expect(second.tokens).toHaveLength(4);
      const fresh = await draftModel.openDraftSession({ runAhead: 0 });
      try {
        expect((await fresh.propose(diverged, 4)).tokens).toEqual(second.tokens);
      } finally {
        await fresh.close();
      }
      // Back on the draft's own path, with its run-ahead guesses reused.
      const onPath = [...context, ...reference.slice(0, 8)];
      const third = await session.propose(onPath, 5);
      expect(third.tokens).toEqual(reference.slice(8, 13));
    } finally {
      await session.close();
    }
  });
});
