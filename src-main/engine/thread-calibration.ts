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
 * the model and the machine, so measure: greedy-decode a few tokens at each candidate count, in
 * interleaved rounds. On shared vCPUs extra threads wait at barriers and a step can take 30x longer
 * whenever a sibling core is busy (a short lucky run once showed 2 threads at 376 tok/s on a model that
 * then decoded at 80 with them and 320 with 1), so each count is judged by its worst round, and more
 * threads must beat fewer by a clear margin.
 */
export async function calibrateThreads(
  model: LlamaModel,
  options: { candidates?: number[]; decodeTokens?: number; rounds?: number; maxMillisPerRun?: number; signal?: AbortSignal } = {},
): Promise<ThreadCalibration> {
  const candidates = options.candidates ?? threadCandidates();
  const decodeTokens = options.decodeTokens ?? 32;
  const rounds = options.rounds ?? 3;
  const maxMillisPerRun = options.maxMillisPerRun ?? 300;
  const worst = new Map<number, number>();
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
        worst.set(threads, Math.min(worst.get(threads) ?? Infinity, tokensPerSecond));
      } finally {
        await context.dispose();
      }
    }
  }
  const measurements = candidates.map((threads) => ({ threads, tokensPerSecond: worst.get(threads) ?? 0 }));
  return { threads: chooseThreads(measurements), measurements };
}

/** More threads must be at least `margin` faster than the best smaller count to be chosen. */
export function chooseThreads(measurements: readonly ThreadMeasurement[], margin = 1.1): number {
  const sorted = [...measurements].sort((a, b) => a.threads - b.threads);
  let chosen = sorted[0];
  if (!chosen) throw new Error("thread calibration measured nothing");
  for (const candidate of sorted.slice(1)) {
    if (candidate.tokensPerSecond > chosen.tokensPerSecond * margin) chosen = candidate;
  }
  return chosen.threads;
}
