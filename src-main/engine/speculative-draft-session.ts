import type { ControlledEvaluateInputItem, LlamaContextSequence, LlamaModel } from "node-llama-cpp";
import type { Logger } from "../common/index.js";
import { abortError, EngineError } from "./engine-errors.js";
import { asToken } from "./llama-tokens.js";
import type { DraftProposal, DraftProposer } from "./speculative-decoding.js";

/** The draft role: one sequence of a small model proposing greedy continuations of a verifier's context. */
export interface DraftSession extends DraftProposer {
  /** Catches up with the verifier's context in the background (no proposal wanted now). */
  sync(context: readonly number[]): void;
  /** Releases the sequence; proposals after this reject. */
  close(): Promise<void>;
}

export interface DraftSessionOptions {
  /** Tokens drafted beyond the last answer while the verifier checks it (0 turns running ahead off). */
  runAhead?: number;
  /** Fires when the node preempts its work (e.g. a game started): proposals then reject. */
  signal?: AbortSignal;
  logger: Logger;
}

const greedyNext = { generateNext: { token: true, options: { temperature: 0 } } } as const;

/**
 * Keeps the draft's KV cache in step with the verifier's context: a new context that extends the last
 * one only adds its new tokens; one that diverges (the verifier rejected part of the draft) erases from
 * the first difference. While the verifier checks a proposal, the draft keeps guessing ahead (assuming
 * every token is accepted and the verifier's own next token is the draft's), so when that bet holds the
 * next proposal is ready at once and drafting overlaps verification instead of adding to it.
 */
export function createDraftSession(model: LlamaModel, sequence: LlamaContextSequence, options: DraftSessionOptions, release: () => void): DraftSession {
  const runAhead = options.runAhead ?? 8;
  // chain = the context last seen + the draft's own guesses after it; the KV cache holds chain[0, kvLength).
  let chain: number[] = [];
  let kvLength = 0;
  let background: Promise<void> | undefined;
  let stopBackground = false;
  let closed = false;
  let broken: Error | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  const endsGeneration = (token: number) => model.isEogToken(asToken(token));

  /** Evaluates what the KV cache lacks and appends the draft's next greedy token to the chain. */
  async function step(): Promise<void> {
    const missing = chain.slice(kvLength);
    const items: ControlledEvaluateInputItem[] = missing.map((t, i) => (i === missing.length - 1 ? [asToken(t), greedyNext] : asToken(t)));
    const output = await sequence.controlledEvaluate(items);
    const token = output[items.length - 1]?.next?.token;
    if (token === undefined || token === null) throw new Error("llama.cpp returned no next token for the draft");
    kvLength = chain.length;
    chain.push(token);
  }

  const canGrow = () => chain.length < sequence.contextSize - 1 && !endsGeneration(chain.at(-1)!);

  async function guessAhead(target: number): Promise<void> {
    try {
      while (!stopBackground && chain.length < target && canGrow()) await step();
    } catch (error) {
      broken = error as Error;
      options.logger.warn({ err: error }, "draft run-ahead failed");
    }
  }

  async function alignTo(context: readonly number[]): Promise<void> {
    let common = 0;
    const limit = Math.min(chain.length, context.length);
    while (common < limit && chain[common] === context[common]) common++;
    if (common === context.length) return; // the context is a prefix of the chain: the guesses after it stand
    if (kvLength > common) {
      await sequence.eraseContextTokenRanges([{ start: common, end: kvLength }]);
      kvLength = common;
    }
    chain = [...context];
  }

  async function propose(context: readonly number[], k: number, signal?: AbortSignal): Promise<DraftProposal> {
    if (closed) throw new EngineError("ENGINE_CLOSED", "This draft session was closed; open a new one.");
    if (broken) throw new EngineError("ENGINE_BAD_REQUEST", `This draft session failed earlier (${broken.message}); open a new one.`);
    if (options.signal?.aborted) throw abortError(options.signal);
    if (context.length === 0) throw new EngineError("ENGINE_BAD_REQUEST", "A draft needs a context of at least one token.");
    if (context.length >= sequence.contextSize - 1) return { tokens: [], draftComputeMs: 0 };
    // The draft's time includes finishing a run-ahead step in flight: the verifier waits for it too.
    const startedAt = performance.now();
    stopBackground = true;
    await background;
    stopBackground = false;
    await alignTo(context);
    const wanted = context.length + k;
    // One more than asked: the last is the draft's guess for the verifier's own next token.
    while (chain.length < wanted + 1 && canGrow()) {
      if (signal?.aborted) throw abortError(signal);
      await step();
    }
    const tokens = chain.slice(context.length, wanted);
    const nextGuess = chain.length > wanted ? chain[wanted] : undefined;
    const draftComputeMs = performance.now() - startedAt;
    // Far enough that the verifier's next request (sent ahead: context + these k + the guess, k more) is
    // answered from the chain at once.
    if (runAhead > 0 && !closed) background = guessAhead(wanted + 1 + Math.max(runAhead, k + 1));
    return { tokens, nextGuess, draftComputeMs };
  }

  async function sync(context: readonly number[]): Promise<void> {
    if (closed || broken || context.length === 0 || context.length >= sequence.contextSize - 1) return;
    stopBackground = true;
    await background;
    stopBackground = false;
    await alignTo(context);
    // Evaluate what the verifier decoded alone, plus one guess: the next proposal starts from there.
    background = guessAhead(context.length + 1);
  }

  return {
    sync(context) {
      const next = queue.then(() => sync(context));
      queue = next.catch((error: unknown) => {
        broken = error as Error;
      });
    },
    propose(context, k, proposeOptions) {
      // One proposal at a time: each one moves the KV cache.
      const next = queue.then(() => propose(context, k, proposeOptions?.signal));
      queue = next.catch(() => undefined);
      return next;
    },
    async close() {
      if (closed) return;
      closed = true;
      stopBackground = true;
      await background;
      await queue;
      release();
    },
  };
}
