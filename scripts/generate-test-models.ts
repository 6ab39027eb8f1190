/**
 * Generates (or finds in the cache) the synthetic models the tests use, so a test run does not pay for
 * generation. `large` is left out: benchmarks generate it on demand.
 * Usage: tsx scripts/generate-test-models.ts   (cache: INFERSWARM_MODEL_CACHE or <repo>/.cache/models)
 */
import { ensureSyntheticModel, wrongModelSpec } from "../src-main/models/index.js";
import type { SyntheticModelSpec } from "../src-main/models/index.js";

const tiny: SyntheticModelSpec = { preset: "tiny", seed: 1, quantization: "F32", peaky: true };

const TEST_MODELS: readonly SyntheticModelSpec[] = [
  tiny,
  wrongModelSpec(tiny), // seed 2: the "wrong model"
  { ...tiny, quantization: "F16" },
  { preset: "small", seed: 1, quantization: "F32", peaky: true },
  { preset: "small", seed: 1, quantization: "F16", peaky: true },
  { preset: "small", seed: 1, quantization: "Q8_0", peaky: true },
];

for (const spec of TEST_MODELS) {
  const started = performance.now();
  const made = await ensureSyntheticModel(spec);
  const seconds = (performance.now() - started) / 1000;
  const { preset, quantization, seed } = made.spec;
  console.log(
    [
      preset.padEnd(6),
      quantization.padEnd(4),
      `seed ${seed}`.padEnd(7),
      `${(made.parameterCount / 1e6).toFixed(2)}M params`.padEnd(14),
      `${(made.fileSize / 1e6).toFixed(1)} MB`.padStart(8),
      `${seconds.toFixed(2)} s${made.fromCache ? " (cached)" : ""}`.padEnd(14),
      made.sha256.slice(0, 12),
      made.path,
    ].join("  "),
  );
}
