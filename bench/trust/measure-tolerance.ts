/**
 * bench/trust/measure-tolerance: where honest answers' scores sit and where cheats' scores sit, so the
 * validator's tolerance (toleranceFor in src-main/trust/tolerance.ts) comes from measurements.
 *
 * Honest answers are generated in child processes (1 or 2 threads; alone, beside a second concurrent
 * sequence, or resumed from a prefix; greedy and sampled) and scored by a validator in this process (its
 * own runtime, one thread, one sequence). Cheats are made here: word salad, another seed's model, F16 and
 * Q8_0 weights claiming to be the F32, answers cut short (claimed "eos" or "length"), and another
 * prompt's answer replayed. Peaky models (clear argmax) and one non-peaky model (near-ties everywhere).
 *
 *   tsx bench/trust/measure-tolerance.ts [--prompts 30] [--tokens 48]   (~12 min on 2 busy cores; 2 threads decode slowly there)
 *
 * Last line: one JSON object with the figures.
 */
import { parseArgs } from "node:util";
import { createEngine, type LoadedModel } from "../../src-main/engine/index.js";
import { ensureSyntheticModel, wrongModelSpec, type PresetName, type SyntheticQuantization } from "../../src-main/models/index.js";
import { buildChallengePrompts, judgeAnswer, seededRandom, toleranceFor, type JudgedSampling, type Tolerance } from "../../src-main/trust/index.js";
import { round } from "../lib/stats.js";
import { emittableTokens, generateInChild, quantile, runGenerator, validate, type Answer, type GeneratorConfig, type Judged } from "./trust-bench-lib.js";

const { values: args } = parseArgs({
  options: {
    role: { type: "string", default: "measure" },
    config: { type: "string" },
    prompts: { type: "string", default: "30" },
    tokens: { type: "string", default: "48" },
  },
});

const PROMPT_SEED = 7;

if (args.role === "generate") {
  const config = JSON.parse(args.config!) as GeneratorConfig;
  const engine = await createEngine({ gpu: false });
  const model = await engine.loadModel(config.modelPath, { threads: config.threads, maxActiveJobs: config.mode === "concurrent" ? 2 : 1 });
  await runGenerator(model, config, buildChallengePrompts({ seed: config.promptSeed, count: config.prompts }));
  await engine.close();
  process.exit(0);
}

const promptCount = Number(args.prompts);
const maxTokens = Number(args.tokens);
const log = (line: string) => console.log(line);
const script = import.meta.filename;
const prompts = buildChallengePrompts({ seed: PROMPT_SEED, count: promptCount });
const engine = await createEngine({ gpu: false });
const greedy: JudgedSampling = { temperature: 0 };
const sampled: JudgedSampling = { temperature: 0.8, topK: 40 };

interface Group {
  name: string;
  honest: boolean;
  /** The weights the validator (and an honest worker) serve: it picks the tolerance. */
  quantization: SyntheticQuantization;
  judged: Judged[];
}
const groups: Group[] = [];

async function load(preset: PresetName, seed: number, quantization: SyntheticQuantization, peaky: boolean): Promise<{ model: LoadedModel; path: string }> {
  const made = await ensureSyntheticModel({ preset, seed, quantization, peaky });
  return { model: await engine.loadModel(made.path, { threads: 1 }), path: made.path };
}

/** Greedy or sampled answers from a model loaded in this process (cheaters run their own weights). */
async function generateHere(model: LoadedModel, sampling: JudgedSampling): Promise<Answer[]> {
  const answers: Answer[] = [];
  for (let i = 0; i < prompts.length; i++) {
    const promptTokens = model.tokenizePrompt(prompts[i]!);
    const started = performance.now();
    const result = await model.generateText({ prompt: { tokens: promptTokens }, maxTokens, sampling: sampling.temperature > 0 ? { ...sampling, seed: 5000 + i } : sampling });
    answers.push({ prompt: i, promptTokens, tokens: result.tokens, finishReason: result.finishReason, maxTokens, sampling, generationMs: performance.now() - started });
  }
  return answers;
}

interface MeasureOptions {
  preset: PresetName;
  seed: number;
  peaky: boolean;
  /** What the honest workers and the validator serve. */
  quantization: SyntheticQuantization;
  cheats: boolean;
  sampledJobs: boolean;
}

async function measureModel(options: MeasureOptions) {
  const { preset, seed, peaky, quantization } = options;
  const label = `${preset}/${seed} ${peaky ? "peaky" : "flat"} ${quantization}`;
  const validator = await load(preset, seed, quantization, peaky);
  const tolerance = toleranceFor(quantization);
  const judgeAll = async (name: string, honest: boolean, answers: Answer[], claim?: (a: Answer) => Parameters<typeof validate>[3]) => {
    const judged: Judged[] = [];
    for (const answer of answers) judged.push(await validate(validator.model, answer, tolerance, claim?.(answer)));
    groups.push({ name: `${label} ${name}`, honest, quantization, judged });
    log(`  ${label} ${name}: ${judged.length} answers judged`);
  };

  const child = (threads: number, mode: GeneratorConfig["mode"]) =>
    generateInChild(script, { modelPath: validator.path, threads, mode, promptSeed: PROMPT_SEED, prompts: promptCount, maxTokens });
  const alone = await child(1, "alone");
  await judgeAll("honest greedy t1 alone", true, alone);
  await judgeAll("honest greedy t2 alone", true, await child(2, "alone"));
  await judgeAll("honest greedy t1 concurrent", true, await child(1, "concurrent"));
  await judgeAll("honest greedy t1 resumed", true, await child(1, "resumed"));
  const honestSampled = options.sampledJobs ? await child(1, "sampled") : [];
  if (options.sampledJobs) await judgeAll("honest sampled t1", true, honestSampled);

  if (options.cheats) {
    const vocab = emittableTokens(validator.model.info.vocabularySize);
    const random = seededRandom(seed * 1000 + 17);
    const salad = alone.map((a) => ({ ...a, tokens: Array.from({ length: maxTokens }, () => vocab[Math.floor(random() * vocab.length)]!), finishReason: "length" as const }));
    await judgeAll("cheat random tokens", false, salad);
    const wrong = await load(preset, wrongModelSpec({ preset, seed, quantization }).seed, quantization, peaky);
    await judgeAll("cheat wrong model (seed+1)", false, await generateHere(wrong.model, greedy));
    if (quantization === "F32") {
      for (const cheaper of ["F16", "Q8_0"] as const) {
        const cheap = await load(preset, seed, cheaper, peaky);
        await judgeAll(`cheat ${cheaper} as F32`, false, await generateHere(cheap.model, greedy));
        await cheap.model.close();
      }
    }
    // Cut at a random point and labelled finished (eos) or full (length).
    const cut = alone.map((a) => ({ ...a, tokens: a.tokens.slice(0, Math.floor(random() * a.tokens.length)) }));
    await judgeAll("cheat truncated, claims eos", false, cut.map((a) => ({ ...a, finishReason: "eos" as const })));
    await judgeAll("cheat truncated, claims length", false, cut.map((a) => ({ ...a, finishReason: "length" as const })));
    await judgeAll("cheat replay of another prompt's answer", false, alone, (a) => ({ promptTokens: alone[(a.prompt + 1) % alone.length]!.promptTokens }));
    if (options.sampledJobs) {
      await judgeAll("cheat sampled random tokens", false, salad.map((a) => ({ ...a, sampling: sampled })));
      await judgeAll("cheat sampled wrong model", false, await generateHere(wrong.model, sampled));
      await judgeAll("cheat sampled replay", false, honestSampled, (a) => ({ promptTokens: honestSampled[(a.prompt + 1) % honestSampled.length]!.promptTokens }));
    }
    await wrong.model.close();
  }
  await validator.model.close();
}

const started = performance.now();
log(`measure-tolerance: ${promptCount} prompts per configuration, ${maxTokens} tokens, validator 1 thread in this process`);
await measureModel({ preset: "tiny", seed: 1, peaky: true, quantization: "F32", cheats: true, sampledJobs: true });
await measureModel({ preset: "small", seed: 3, peaky: true, quantization: "F32", cheats: true, sampledJobs: true });
await measureModel({ preset: "tiny", seed: 1, peaky: false, quantization: "F32", cheats: true, sampledJobs: true });
// Honest nodes serving quantized weights: batched vs one-token numerics drift most there.
await measureModel({ preset: "tiny", seed: 1, peaky: false, quantization: "F16", cheats: false, sampledJobs: false });
await measureModel({ preset: "tiny", seed: 1, peaky: false, quantization: "Q8_0", cheats: false, sampledJobs: true });
await measureModel({ preset: "small", seed: 3, peaky: true, quantization: "Q8_0", cheats: false, sampledJobs: false });
await engine.close();

// ---- report --------------------------------------------------------------------------------------
const fmt = (x: number) => (Number.isNaN(x) ? "-" : x < 0.01 && x > 0 ? x.toExponential(1) : x.toFixed(3));
const isSampled = (g: Group) => g.judged[0]!.answer.sampling.temperature > 0;
const failsAt = (j: Judged, tolerance: Tolerance) => judgeAnswer(j.scores, j.claim, j.answer.sampling, tolerance).verdict === "fail";

log("\nPer answer: the largest logit margin (best − claimed) among its positions, and the fraction of positions failing the default tolerance.");
log("group | n | max margin p50 / p90 / p99 / max | mean margin p50 / max | failing positions (fraction) min / p50 | verdict fail rate (default tolerance)");
for (const group of groups) {
  const maxMargins = group.judged.map((j) => j.judgement.stats.maxMargin);
  const failingFraction = group.judged.map((j) => (j.judgement.stats.count === 0 ? 0 : j.judgement.stats.failing / j.judgement.stats.count));
  const meanMargins = group.judged.map((j) => j.judgement.stats.meanMargin);
  const failRate = group.judged.filter((j) => j.judgement.verdict === "fail").length / group.judged.length;
  log(
    `${group.name} | ${group.judged.length} | ${[0.5, 0.9, 0.99, 1].map((q) => fmt(quantile(maxMargins, q))).join(" / ")} | ${fmt(quantile(meanMargins, 0.5))} / ${fmt(quantile(meanMargins, 1))} | ${fmt(quantile(failingFraction, 0))} / ${fmt(quantile(failingFraction, 0.5))} | ${fmt(failRate)}`,
  );
}

const epsilons = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2];
log("\nGreedy jobs: answers failing as ε (max margin per position) varies; failing-position allowance as in the tolerance for the served weights.");
log(`group | ${epsilons.map((e) => `ε=${e}`).join(" | ")}`);
for (const group of groups.filter((g) => !isSampled(g))) {
  const base = toleranceFor(group.quantization);
  const rates = epsilons.map((maxMargin) => group.judged.filter((j) => failsAt(j, { ...base, greedy: { ...base.greedy, maxMargin } })).length / group.judged.length);
  log(`${group.name} | ${rates.map(fmt).join(" | ")}`);
}
const floors = [1e-2, 1e-3, 1e-4, 1e-6];
log("\nSampled jobs (T 0.8, top-k 40): answers failing as the relative-probability floor varies (default failing allowance).");
log(`group | ${floors.map((f) => `floor=${f}`).join(" | ")}`);
for (const group of groups.filter(isSampled)) {
  const base = toleranceFor(group.quantization);
  const rates = floors.map((minRelativeProbability) => group.judged.filter((j) => failsAt(j, { ...base, sampled: { ...base.sampled, minRelativeProbability } })).length / group.judged.length);
  log(`${group.name} | ${rates.map(fmt).join(" | ")}`);
}

const honest = groups.filter((g) => g.honest).flatMap((g) => g.judged);
// Cost against plain 1-thread greedy generation: 2-thread, concurrent and resumed runs are slower on purpose.
const plain = groups.filter((g) => g.honest && g.name.endsWith("t1 alone")).flatMap((g) => g.judged);
const scoringMs = plain.reduce((s, j) => s + j.scoringMs, 0);
const generationMs = plain.reduce((s, j) => s + j.answer.generationMs, 0);
const honestGreedyMax = Math.max(...groups.filter((g) => g.honest && !isSampled(g)).flatMap((g) => g.judged.map((j) => j.judgement.stats.maxMargin)));
const detection = Object.fromEntries(groups.filter((g) => !g.honest).map((g) => [g.name, round(g.judged.filter((j) => j.judgement.verdict === "fail").length / g.judged.length)]));
log(`\nhonest answers: ${honest.length}, false positives at the default tolerance: ${honest.filter((j) => j.judgement.verdict === "fail").length}`);
log(`largest honest greedy margin: ${honestGreedyMax}`);
for (const quantization of ["F32", "F16", "Q8_0"] as const) {
  const margins = groups.filter((g) => g.honest && !isSampled(g) && g.quantization === quantization).flatMap((g) => g.judged.map((j) => j.judgement.stats.maxMargin));
  if (margins.length > 0) log(`  honest greedy, ${quantization} served: ${margins.length} answers, largest margin ${fmt(Math.max(...margins))}, answers with any margin > 0: ${margins.filter((m) => m > 0).length}`);
}
log(`scoring time / generation time (honest 1-thread greedy answers, validator 1 thread): ${fmt(scoringMs / generationMs)}`);
log(`wall time ${((performance.now() - started) / 1000).toFixed(0)} s`);
log(
  JSON.stringify({
    bench: "trust-tolerance",
    tolerance: { F32: toleranceFor("F32"), F16: toleranceFor("F16"), Q8_0: toleranceFor("Q8_0") },
    honest_answers: honest.length,
    honest_false_positives: honest.filter((j) => j.judgement.verdict === "fail").length,
    honest_greedy_max_margin: honestGreedyMax,
    detection,
    verify_cost_fraction: round(scoringMs / generationMs),
  }),
);
