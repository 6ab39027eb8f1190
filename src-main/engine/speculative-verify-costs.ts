import type { ControlledEvaluateInputItem, LlamaContextSequence } from "node-llama-cpp";
import { asToken } from "./llama-tokens.js";

const greedyNext = { generateNext: { token: true, options: { temperature: 0 } } } as const;

/**
 * The verify pass's cost by batch size over a one-token step, measured on this model and machine
 * (index = batch size, [1] = 1). On CPU a batch of 2 costs ~1.7x one token and each further token ~0.25x
 * (medium F32 here), a shape a single per-token figure cannot follow. Batch sizes are interleaved over a
 * few repeats and the fastest kept, so a busy moment does not skew one size. Leaves the sequence empty.
 */
export async function measureVerifyCostRatios(sequence: LlamaContextSequence, options: { maxBatch: number; vocabularySize: number; repeats?: number }): Promise<number[]> {
  const token = (i: number) => asToken(3 + ((7 * i + 11) % Math.max(1, options.vocabularySize - 3)));
  await sequence.clearHistory();
  await sequence.evaluateWithoutGeneratingNewTokens(Array.from({ length: 16 }, (_, i) => token(i)));
  const base = sequence.nextTokenIndex;
  const fastest: number[] = [];
  for (let repeat = 0; repeat < (options.repeats ?? 3); repeat++) {
    for (let batch = 1; batch <= options.maxBatch; batch++) {
      const items: ControlledEvaluateInputItem[] = Array.from({ length: batch }, (_, i) => [token(100 + repeat * 31 + i), greedyNext]);
      const startedAt = performance.now();
      await sequence.controlledEvaluate(items);
      const ms = performance.now() - startedAt;
      fastest[batch] = Math.min(fastest[batch] ?? Infinity, ms);
      await sequence.eraseContextTokenRanges([{ start: base, end: sequence.nextTokenIndex }]);
    }
  }
  await sequence.clearHistory();
  return fastest.map((ms) => ms / fastest[1]!);
}
