import { z } from "zod";
import { PRESETS, PRESET_NAMES } from "./presets.js";
import type { ModelShape } from "./presets.js";
import { MAX_VOCAB_SIZE, MIN_VOCAB_SIZE } from "./vocabulary.js";

/** Bump whenever the bytes a spec produces change, so cached files are regenerated. */
export const SYNTHETIC_GENERATOR_VERSION = 2;

export const QUANTIZATIONS = ["F32", "F16", "Q8_0"] as const;
export type SyntheticQuantization = (typeof QUANTIZATIONS)[number];

export const syntheticModelSpecSchema = z.strictObject({
  preset: z.enum(PRESET_NAMES),
  seed: z.number().int().min(0).max(0xffff_ffff),
  quantization: z.enum(QUANTIZATIONS),
  /** Scales the output matrix so greedy decoding has clear winners (tests compare outputs). */
  peaky: z.boolean().default(true),
  name: z.string().min(1).max(200).optional(),
  vocabSize: z.number().int().min(MIN_VOCAB_SIZE).max(MAX_VOCAB_SIZE).optional(),
});

/** What callers pass (peaky, name and vocabSize may be left out). */
export type SyntheticModelSpec = z.input<typeof syntheticModelSpecSchema>;

/** Every field filled in: two specs that make the same file normalize to the same value. */
export interface NormalizedSyntheticModelSpec {
  readonly preset: SyntheticModelSpec["preset"];
  readonly seed: number;
  readonly quantization: SyntheticQuantization;
  readonly peaky: boolean;
  readonly name: string;
  readonly vocabSize: number;
}

export function normalizeSyntheticModelSpec(spec: SyntheticModelSpec): NormalizedSyntheticModelSpec {
  const parsed = syntheticModelSpecSchema.parse(spec);
  return {
    preset: parsed.preset,
    seed: parsed.seed,
    quantization: parsed.quantization,
    peaky: parsed.peaky,
    name: parsed.name ?? `inferswarm-synthetic-${parsed.preset}`,
    vocabSize: parsed.vocabSize ?? PRESETS[parsed.preset].vocabSize,
  };
}

export function shapeOf(spec: NormalizedSyntheticModelSpec): ModelShape {
  return { ...PRESETS[spec.preset], vocabSize: spec.vocabSize };
}

/**
 * The "wrong model" for a spec: same shape and settings, weights from the next seed (so the wrong model
 * of seed 1 is seed 2, which the test-model script pre-generates).
 */
export function wrongModelSpec<T extends SyntheticModelSpec>(spec: T): T {
  return { ...spec, seed: (spec.seed + 1) >>> 0 };
}
