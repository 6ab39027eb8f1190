import os from "node:os";
import type { LlamaModel } from "node-llama-cpp";

export interface ThreadMeasurement {
  threads: number;
  tokensPerSecond: number;
}

export interface ThreadCalibration {
  threads: number;
  measurements: ThreadMeasurement[];
}

/** 1, 2, 4, … up to the cores this process may use (and the core count itself). */
export function threadCandidates(cores = os.availableParallelism()): number[] {
  const candidates = new Set<number>();
  for (let n = 1; n <= cores; n *= 2) candidates.add(n);
  candidates.add(cores);
  return [...candidates].sort((a, b) => a - b);
}

/**
 * The library's default thread count can decode 100x slower on a small CPU, and the best count depends on
 * the model and the machine, so measure: greedy-decode a few tokens at each candidate count (twice,
 * interleaved, keeping each candidate's best run against noise) and keep the fastest.
 */
export async function calibrateThreads(
  model: LlamaModel,
  options: { candidates?: number[]; decodeTokens?: number; rounds?: number; maxMillisPerRun?: number; signal?: AbortSignal } = {},
): Promise<ThreadCalibration> {
  const candidates = options.candidates ?? threadCandidates();
  const decodeTokens = options.decodeTokens ?? 24;
  const rounds = options.rounds ?? 2;
  const maxMillisPerRun = options.maxMillisPerRun ?? 300;
  const best = new Map<number, number>();
  const prompt = model.tokenize("The swarm calibrates its threads", false, "trimLeadingSpace");
  if (model.tokens.bos !== null) prompt.unshift(model.tokens.bos);

  for (let round = 0; round < rounds; round++) {
    for (const threads of candidates) {
      options.signal?.throwIfAborted();
      const context = await model.createContext({ contextSize: 256, sequences: 1, threads, flashAttention: false });
      try {
        const sequence = context.getSequence();
        let produced = 0;
        let startedAt = 0;
        for await (const _token of sequence.evaluate(prompt, { temperature: 0, yieldEogToken: true })) {
          // Time decode steps only: the first token also pays for the prompt's batched evaluation.
          if (produced === 0) startedAt = performance.now();
          if (++produced > decodeTokens) break;
          // A hopeless thread count (2 threads on 2 busy cores can be 30x slower) must not stall startup.
          if (produced > 4 && performance.now() - startedAt > maxMillisPerRun) break;
        }
        const tokensPerSecond = ((produced - 1) * 1000) / (performance.now() - startedAt);
        best.set(threads, Math.max(best.get(threads) ?? 0, tokensPerSecond));
      } finally {
        await context.dispose();
      }
    }
  }
  const measurements = candidates.map((threads) => ({ threads, tokensPerSecond: best.get(threads) ?? 0 }));
  const fastest = measurements.reduce((a, b) => (b.tokensPerSecond > a.tokensPerSecond ? b : a));
  return { threads: fastest.threads, measurements };
}
