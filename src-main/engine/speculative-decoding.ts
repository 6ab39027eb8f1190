import type { ControlledEvaluateInputItem, LlamaContextSequence, LlamaModel } from "node-llama-cpp";
import type { Logger } from "../common/index.js";
import { AnswerTextAssembler, type GeneratedToken } from "./answer-text-assembler.js";
import { abortError, EngineError } from "./engine-errors.js";
import type { FinishReason, GenerationPlan, GenerationResult, GenerationStream } from "./generation.js";
import { asToken, asTokens } from "./llama-tokens.js";
import type { DraftLengthController, DraftLengthState } from "./speculative-draft-length.js";

/** What the verifier needs from a draft, local or across the swarm. */
export interface DraftProposer {
  /**
   * Up to `k` tokens the draft expects after `context` (prompt + answer so far, exactly as the verifier
   * holds it). Rejects when the draft is gone, late or confused; the verifier then decodes plainly.
   */
  propose(context: readonly number[], k: number, options?: { signal?: AbortSignal }): Promise<DraftProposal>;
  /**
   * Optional pipelining: a hint that the next `propose` will most likely ask for this context. A remote
   * draft sends the request at once, so its round trip overlaps the verify pass instead of following it.
   */
  prefetch?(context: readonly number[], k: number): void;
  /**
   * Optional: the verifier's context while it decodes without the draft, sent now and then so the draft
   * evaluates those tokens in the background and a later proposal does not start by catching up.
   */
  sync?(context: readonly number[]): void;
}

export interface DraftProposal {
  tokens: number[];
  /** The draft's guess for the token after `tokens` (the verifier's own token when all are accepted). */
  nextGuess?: number;
  /** The draft's own compute time for this answer (transport excluded), if it reports one. */
  draftComputeMs?: number;
}

export interface SpeculationStats {
  /** Rounds in which a draft was asked for and verified. */
  rounds: number;
  draftedTokens: number;
  acceptedTokens: number;
  /** Steps decoded without a draft (one token each). */
  plainSteps: number;
  /** accepted / drafted (0 when nothing was drafted). */
  acceptanceRate: number;
  /** Mean draft length over speculative rounds. */
  meanDraftLength: number;
  /** Draft requests that failed (gone, late, bad answer); after the first the job goes on without a draft. */
  draftFailures: number;
  /** Why the draft was dropped, if it was. */
  draftDroppedReason: string | undefined;
  /** Time spent waiting for the draft's proposals, and in verify passes of speculative rounds. */
  draftWaitMs: number;
  /** Of the wait, what the draft reported as its own compute time. */
  draftComputeMs: number;
  verifyMs: number;
  /** The draft-length controller's estimates at the end (acceptance, costs, last k chosen). */
  draftLength: DraftLengthState;
}

export interface SpeculativeGenerationStream extends GenerationStream {
  stats(): SpeculationStats;
}

export interface SpeculativeRun {
  draft: DraftProposer | undefined;
  controller: DraftLengthController;
  /** Proposed tokens at or above this id are a broken draft. */
  vocabularySize: number;
  logger: Logger;
}

const greedyNext = { generateNext: { token: true, options: { temperature: 0 } } } as const;
/** Plain steps between two syncs of an idle draft: one batched catch-up per this many tokens. */
const SYNC_EVERY_PLAIN_STEPS = 16;

/**
 * Greedy speculative decoding over one sequence. Each round the verifier feeds its pending token plus the
 * draft's k tokens as ONE batch (teacher forcing: every position yields the verifier's own greedy next
 * token), keeps the longest prefix where the draft matches, adds its own token after it, and erases the
 * rejected tail from the KV cache. With no draft, or k = 0, a round is a plain one-token step.
 *
 * The answer equals the verifier's own greedy answer up to batched-numerics differences (argmax flips
 * at near-ties, see ../shared/facts/node-llama-cpp.md); on peaky models it is identical.
 */
export function streamSpeculativeGeneration(
  model: LlamaModel,
  sequence: LlamaContextSequence,
  plan: GenerationPlan,
  run: SpeculativeRun,
  release: () => void,
): SpeculativeGenerationStream {
  let settle!: { resolve: (r: GenerationResult) => void; reject: (e: unknown) => void };
  const result = new Promise<GenerationResult>((resolve, reject) => (settle = { resolve, reject }));
  result.catch(() => undefined);
  let started = false;
  let settled = false;
  const stats: Omit<SpeculationStats, "acceptanceRate" | "meanDraftLength" | "draftLength"> = {
    rounds: 0,
    draftedTokens: 0,
    acceptedTokens: 0,
    plainSteps: 0,
    draftFailures: 0,
    draftDroppedReason: undefined,
    draftWaitMs: 0,
    draftComputeMs: 0,
    verifyMs: 0,
  };
  let draft = run.draft;
  const { controller, logger } = run;

  async function evaluateBatch(items: ControlledEvaluateInputItem[], what: string): Promise<number[]> {
    const output = await sequence.controlledEvaluate(items);
    const next: number[] = [];
    for (let i = 0; i < items.length; i++) {
      if (Array.isArray(items[i])) {
        const token = output[i]?.next?.token;
        if (token === undefined || token === null) throw new Error(`llama.cpp returned no next token for ${what} at batch position ${i}`);
        next.push(token);
      }
    }
    return next;
  }

  async function askDraft(context: readonly number[], k: number, signal: AbortSignal | undefined): Promise<{ tokens: number[]; waitMs: number; computeMs?: number; nextGuess?: number }> {
    if (!draft || k <= 0) return { tokens: [], waitMs: 0 };
    const startedAt = performance.now();
    try {
      const proposal = await draft.propose(context, k, { signal });
      const vocabulary = run.vocabularySize;
      const tokens = proposal.tokens.slice(0, k);
      if (tokens.some((t) => !Number.isInteger(t) || t < 0 || t >= vocabulary)) throw new Error("the draft proposed a token outside the vocabulary");
      return { tokens, waitMs: performance.now() - startedAt, computeMs: proposal.draftComputeMs, nextGuess: tokens.length === k ? proposal.nextGuess : undefined };
    } catch (error) {
      if (signal?.aborted) throw abortError(signal);
      stats.draftFailures++;
      stats.draftDroppedReason = error instanceof Error ? error.message : String(error);
      // A draft that failed once is out of step or gone: the rest of the answer is decoded plainly.
      logger.warn({ err: error }, "draft failed; continuing without it");
      draft = undefined;
      return { tokens: [], waitMs: 0 };
    }
  }

  async function* generate(): AsyncGenerator<GeneratedToken> {
    const startedAt = performance.now();
    const { promptTokens, resumeTokens, stop, signal } = plan;
    const detokenize = (tokens: readonly number[], preceding: readonly number[]) => model.detokenize(asTokens(tokens), false, asTokens(preceding));
    const resumeText = resumeTokens.length > 0 ? detokenize(resumeTokens, promptTokens.slice(-8)) : "";
    const assembler = new AnswerTextAssembler(detokenize, stop, [...promptTokens, ...resumeTokens], resumeText);
    const kept = [...resumeTokens];
    const context = [...promptTokens, ...resumeTokens];
    let answerLength = resumeTokens.length;
    let text = resumeText;
    let generated = 0;
    let firstTokenAt: number | undefined;
    let finishReason: FinishReason = "length";
    let finished = answerLength >= plan.maxTokens;
    let plainStepsSinceSync = 0;

    // Takes one verifier-approved token; returns the tokens to yield. Sets `finished` when the answer ends.
    const take = (token: number): GeneratedToken[] => {
      generated++;
      firstTokenAt ??= performance.now();
      if (model.isEogToken(asToken(token))) {
        finishReason = "eos";
        finished = true;
        return [];
      }
      answerLength++;
      context.push(token);
      const released = assembler.push(token);
      for (const item of released) {
        text += item.text;
        kept.push(item.tokenId);
      }
      if (assembler.stopped) {
        finishReason = "stop";
        finished = true;
      } else if (answerLength >= plan.maxTokens || context.length >= sequence.contextSize) {
        finished = true;
      }
      return released;
    };

    try {
      await sequence.clearHistory();
      if (!finished) {
        // The draft evaluates the prompt while the verifier does: the first proposal then starts at once.
        draft?.sync?.(context);
        // The prompt minus its last token goes in without outputs; the last one is the first "pending" token.
        const head = context.slice(0, -1).map((t) => asToken(t));
        let pending = (await evaluateBatch([...head, [asToken(context.at(-1)!), greedyNext]], "the prompt"))[0]!;
        for (;;) {
          if (signal?.aborted) throw abortError(signal);
          for (const item of take(pending)) yield item;
          if (finished) break;
          // `pending` is now the last context token and not yet in the KV cache.
          const room = Math.min(plan.maxTokens - answerLength, sequence.contextSize - context.length - 1);
          const k = Math.max(0, Math.min(controller.next(), room));
          const proposal = await askDraft(context, k, signal);
          if (signal?.aborted) throw abortError(signal);
          if (proposal.nextGuess !== undefined && draft?.prefetch) {
            // Bet that every drafted token and the draft's guess after them are right: the next request
            // travels while this batch is verified. A lost bet costs the draft a little wasted work.
            draft.prefetch([...context, ...proposal.tokens, proposal.nextGuess], k);
          }
          const position = sequence.nextTokenIndex;
          const batch: ControlledEvaluateInputItem[] = [pending, ...proposal.tokens].map((t) => [asToken(t), greedyNext]);
          const verifyStartedAt = performance.now();
          const verifierNext = await evaluateBatch(batch, "the draft");
          const verifyMs = performance.now() - verifyStartedAt;
          let accepted = 0;
          while (accepted < proposal.tokens.length && verifierNext[accepted] === proposal.tokens[accepted]) accepted++;
          if (accepted < proposal.tokens.length) {
            // The rejected tail leaves the KV cache, so the next round continues from the accepted prefix.
            await sequence.eraseContextTokenRanges([{ start: position + 1 + accepted, end: position + 1 + proposal.tokens.length }]);
          }
          if (proposal.tokens.length === 0) {
            stats.plainSteps++;
            controller.recordPlainStep(verifyMs);
            if (draft?.sync && ++plainStepsSinceSync >= SYNC_EVERY_PLAIN_STEPS) {
              plainStepsSinceSync = 0;
              draft.sync([...context, verifierNext[0]!]);
            }
          } else {
            plainStepsSinceSync = 0;
            stats.rounds++;
            stats.draftedTokens += proposal.tokens.length;
            stats.acceptedTokens += accepted;
            stats.draftWaitMs += proposal.waitMs;
            stats.draftComputeMs += proposal.computeMs ?? 0;
            stats.verifyMs += verifyMs;
            controller.recordRound({ drafted: proposal.tokens.length, accepted, draftWaitMs: proposal.waitMs, draftComputeMs: proposal.computeMs, verifyMs });
          }
          for (let i = 0; i < accepted && !finished; i++) for (const item of take(proposal.tokens[i]!)) yield item;
          if (finished) break;
          pending = verifierNext[accepted]!;
        }
      }
      signal?.throwIfAborted();
      for (const item of assembler.flush()) {
        text += item.text;
        kept.push(item.tokenId);
        yield item;
      }
      settled = true;
      settle.resolve({
        finishReason,
        tokens: kept,
        text,
        promptTokenCount: promptTokens.length,
        generatedTokenCount: generated,
        seed: undefined,
        timeToFirstTokenMs: firstTokenAt === undefined ? undefined : firstTokenAt - startedAt,
        durationMs: performance.now() - startedAt,
      });
    } catch (error) {
      const reported = signal?.aborted ? abortError(signal) : error;
      settled = true;
      settle.reject(reported);
      throw reported;
    } finally {
      if (!settled) settle.reject(new EngineError("ENGINE_ABORTED", "The consumer stopped reading the token stream."));
      release();
    }
  }

  return {
    result,
    stats: () => ({
      ...stats,
      acceptanceRate: stats.draftedTokens === 0 ? 0 : stats.acceptedTokens / stats.draftedTokens,
      meanDraftLength: stats.rounds === 0 ? 0 : stats.draftedTokens / stats.rounds,
      draftLength: controller.state(),
    }),
    [Symbol.asyncIterator]() {
      if (started) throw new Error("A generation stream can be iterated only once.");
      started = true;
      return generate();
    },
  };
}
