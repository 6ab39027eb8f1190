/** How far a validator's scores may stray from a claimed answer before it is judged foreign. */
export interface Tolerance {
  greedy: {
    /** Largest logit margin (best − claimed) a greedy token may have and still pass. */
    maxMargin: number;
    maxFailingPositions: number;
    maxFailingFraction: number;
  };
  sampled: {
    /** Smallest probability a sampled token may have relative to the best one, at the job's temperature. */
    minRelativeProbability: number;
    maxFailingPositions: number;
    maxFailingFraction: number;
  };
}

/** node-llama-cpp samples from the top 40 when a job sets no top-k (LlamaContext `_resolveSamplerConfig`). */
export const ENGINE_DEFAULT_SAMPLING_TOP_K = 40;

export type WeightsClass = "F32" | "F16" | "quantized";

/** The weight format decides how far two honest nodes' logits may drift (batched vs one-token numerics). */
export function weightsClassOf(quantization: string): WeightsClass {
  if (quantization === "F32") return "F32";
  if (quantization === "F16" || quantization === "BF16") return "F16";
  return "quantized";
}

/*
 * Measured by bench/trust/measure-tolerance.ts (30 prompts × 48 tokens per configuration; honest answers
 * generated in child processes with 1 or 2 threads, alone, beside a concurrent sequence, or resumed; the
 * validator one thread in another process; full output in bench/trust/README.md):
 *
 *   honest greedy, F32 served (tiny and small, peaky and flat): 360 answers, every margin exactly 0
 *   honest greedy, F16 served (tiny flat):                      120 answers, every margin exactly 0
 *   honest greedy, Q8_0 served (tiny flat, small peaky):        240 answers, 33 with a margin > 0, largest
 *       1.152 (one position of one prompt, in every configuration: batched and one-token Q8_0 kernels
 *       differ, and a peaky model's ×40 output gain magnifies it)
 *   cheats vs an F32 validator, per answer max margin p50: word salad 222–226 (flat model 5.5), another
 *       seed's model 214 (flat 5.4), another prompt's answer 76–117 (flat 1.9); F16 weights 0 (p99 0.075);
 *       Q8_0 weights 0.19–0.76 (flat 0.004)
 *
 * So: F32 and F16 take ε = 0.1 and no failing position (honest 0 everywhere measured; 0.1 leaves 25× the
 * 0.004 batched-vs-one-token drift documented for F32). Quantized weights take ε = 2 (1.7× the largest
 * honest margin) and one failing position per 50: every foreign answer fails far more (>= 6% of positions
 * for a replay, ~100% for salad or another model). Not measured here: GPU vs CPU pairs (flash attention is
 * off everywhere, but kernels differ); measure before trusting these numbers across hardware.
 */
const GREEDY: Readonly<Record<WeightsClass, Tolerance["greedy"]>> = {
  F32: { maxMargin: 0.1, maxFailingPositions: 0, maxFailingFraction: 0 },
  F16: { maxMargin: 0.1, maxFailingPositions: 0, maxFailingFraction: 0 },
  quantized: { maxMargin: 2, maxFailingPositions: 1, maxFailingFraction: 0.02 },
};

/*
 * Sampled jobs (T 0.8, top-k 40): honest answers' largest margin 2.5–3.1 (relative probability >= 0.02);
 * every floor from 1e-2 to 1e-6 gave 0 false positives and caught every salad, other-model and replay
 * answer, mostly through the top-k test. 1e-4 sits in the middle; one failing position per 50 is allowed
 * for the top-k edge.
 */
const SAMPLED: Tolerance["sampled"] = { minRelativeProbability: 1e-4, maxFailingPositions: 1, maxFailingFraction: 0.02 };

/** The tolerance for a model served with these weights (the quantization llama.cpp reports for the file). */
export function toleranceFor(quantization: string): Tolerance {
  return { greedy: { ...GREEDY[weightsClassOf(quantization)] }, sampled: { ...SAMPLED } };
}

export const DEFAULT_TOLERANCE: Tolerance = toleranceFor("F32");
