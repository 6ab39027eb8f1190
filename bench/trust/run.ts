/**
 * bench/trust/run: the trust pipeline end to end on loopback. Three validator nodes serve the model over
 * /inferswarm/verify/1.0.0; a requester's validation coordinator judges (a) >= 500 honest answers (greedy
 * and sampled, some resumed mid-answer, made in-process with the engine for speed) and (b) the jobs of
 * cheating workers (word salad, another seed's model, Q8_0 weights claiming to be the F32, answers cut
 * short claimed as eos or length, another prompt's answer), each verified with the coordinator's own
 * sampling probability (a new worker is suspicious: 0.5), so jobs-until-caught is what a requester sees.
 *
 *   tsx bench/trust/run.ts [--honest 500] [--cheat-jobs 40] [--preset small] [--tokens 32]
 *
 * Last line: {"bench":"trust","detect_rate_min":…,"honest_false_positive":…,"verify_cost_fraction":…}
 */
import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { parseArgs } from "node:util";
import { createSilentLogger, systemClock } from "../../src-main/common/index.js";
import { createEngine, type LoadedModel } from "../../src-main/engine/index.js";
import { ensureSyntheticModel, PRESET_NAMES, wrongModelSpec, type PresetName } from "../../src-main/models/index.js";
import { createSwarmNode, registerVerifyHandler, requestVerification, type SwarmNode } from "../../src-main/swarm/index.js";
import { buildChallengePrompts, createReputation, createValidationCoordinator, seededRandom, type FinishedJob } from "../../src-main/trust/index.js";
import { round } from "../lib/stats.js";
import { emittableTokens } from "./trust-bench-lib.js";

const { values: args } = parseArgs({
  options: {
    honest: { type: "string", default: "500" },
    "cheat-jobs": { type: "string", default: "40" },
    preset: { type: "string", default: "small" },
    tokens: { type: "string", default: "32" },
  },
});
const preset = args.preset as PresetName;
if (!PRESET_NAMES.includes(preset)) throw new Error(`--preset must be one of ${PRESET_NAMES.join(", ")}`);
const honestJobs = Number(args.honest);
const cheatJobs = Number(args["cheat-jobs"]);
const maxTokens = Number(args.tokens);
const log = (line: string) => console.log(line);
const logger = createSilentLogger();
const started = performance.now();

const spec = { preset, seed: 1, quantization: "F32", peaky: true } as const;
const made = await ensureSyntheticModel(spec);
const engine = await createEngine({ gpu: false });
const served = await engine.loadModel(made.path, { threads: 1 });
const wrong = await engine.loadModel((await ensureSyntheticModel(wrongModelSpec(spec))).path, { threads: 1 });
const q8 = await engine.loadModel((await ensureSyntheticModel({ ...spec, quantization: "Q8_0" })).path, { threads: 1 });
const prompts = buildChallengePrompts({ seed: 4242, count: Math.max(honestJobs, cheatJobs) + 1 });

const nodes: SwarmNode[] = [];
for (let i = 0; i < 4; i++) {
  const node = await createSwarmNode({ privateKey: await generateKeyPair("Ed25519"), logger, listen: ["/ip4/127.0.0.1/tcp/0"], mdns: false });
  await node.start();
  nodes.push(node);
}
const [requester, ...validators] = nodes as [SwarmNode, ...SwarmNode[]];
// Validators' scoring time, to report verification cost without the network.
let scoringMs = 0;
for (const validator of validators) {
  await requester.libp2p.dial(validator.libp2p.getMultiaddrs()[0]!);
  const timed = {
    ...served,
    info: served.info,
    contextSize: served.contextSize,
    eosToken: served.eosToken,
    isEndOfGenerationToken: served.isEndOfGenerationToken,
    score: async (request: Parameters<LoadedModel["score"]>[0]) => {
      const t0 = performance.now();
      try {
        return await served.score(request);
      } finally {
        scoringMs += performance.now() - t0;
      }
    },
  };
  await registerVerifyHandler(validator.libp2p, { resolveModel: (sha) => (sha === made.sha256 ? timed : undefined), sign: (bytes) => validator.privateKey.sign(bytes), logger });
}

const reputation = createReputation({ clock: systemClock });
let judgedWorker = "";
const random = seededRandom(20260);
const coordinator = createValidationCoordinator({
  random,
  candidates: async () => [judgedWorker, ...validators.map((v) => v.peerId)],
  verify: (peerId, request, { signal }) => requestVerification(requester.libp2p, peerId, request, { signal }),
  reputation,
  logger,
  options: { quorum: 3 },
});

interface Produced {
  promptTokens: number[];
  tokens: number[];
  finishReason: FinishedJob["finishReason"];
  sampling: FinishedJob["sampling"];
  generationMs: number;
}

async function generate(model: LoadedModel, prompt: string, sampling: FinishedJob["sampling"], resumeAt?: number): Promise<Produced> {
  const promptTokens = served.tokenizePrompt(prompt);
  const t0 = performance.now();
  let resumeTokens: number[] = [];
  if (resumeAt !== undefined) resumeTokens = (await model.generateText({ prompt: { tokens: promptTokens }, maxTokens: resumeAt, sampling })).tokens;
  const result = await model.generateText({ prompt: { tokens: promptTokens }, resumeTokens, maxTokens, sampling });
  return { promptTokens, tokens: result.tokens, finishReason: result.finishReason, sampling, generationMs: performance.now() - t0 };
}

function job(worker: string, produced: Produced): FinishedJob {
  judgedWorker = worker;
  return {
    jobId: `bench-${Math.random().toString(36).slice(2, 12)}`,
    modelSha256: made.sha256,
    promptTokens: produced.promptTokens,
    tokens: produced.tokens,
    finishReason: produced.finishReason,
    maxTokens,
    sampling: produced.sampling,
    stopRequested: false,
    workerPeerId: worker,
  };
}

// ---- honest workers: every answer judged (a false positive is what we look for) -------------------
const honestPeer = peerIdFromPrivateKey(await generateKeyPair("Ed25519")).toString();
let falsePositives = 0;
let inconclusive = 0;
let generationMs = 0;
let validationMs = 0;
const scoringBefore = scoringMs;
for (let i = 0; i < honestJobs; i++) {
  const sampling = i % 10 < 3 ? { temperature: 0.8, seed: i } : { temperature: 0 };
  const produced = await generate(served, prompts[i]!, sampling, i % 7 === 0 ? 1 + (i % (maxTokens - 1)) : undefined);
  generationMs += produced.generationMs;
  const t0 = performance.now();
  const outcome = await coordinator.validate(job(honestPeer, produced));
  validationMs += performance.now() - t0;
  if (outcome.verdict === "fail") falsePositives++;
  if (outcome.verdict === "inconclusive") inconclusive++;
}
const honestScoringMs = scoringMs - scoringBefore;
log(`honest: ${honestJobs} answers judged, ${falsePositives} false positives, ${inconclusive} inconclusive; honest worker tier ${reputation.tier(honestPeer)}`);
log(`cost: validator scoring ${round(honestScoringMs / generationMs)} of generation time; whole verification round trip ${round(validationMs / generationMs)}`);

// ---- cheating workers: the coordinator's own sampling decides which jobs are verified ----------------
const words = emittableTokens(served.info.vocabularySize);
const cheatRandom = seededRandom(77);
const salad = (): number[] => Array.from({ length: maxTokens }, () => words[Math.floor(cheatRandom() * words.length)]!);
const cheats: Record<string, (prompt: string, i: number) => Promise<Produced>> = {
  "random tokens": async (prompt) => ({ ...(await generate(served, prompt, { temperature: 0 })), tokens: salad(), finishReason: "length" }),
  "wrong model": (prompt) => generate(wrong, prompt, { temperature: 0 }),
  "Q8_0 as F32": (prompt) => generate(q8, prompt, { temperature: 0 }),
  "truncated, claims eos": async (prompt, i) => {
    const full = await generate(served, prompt, { temperature: 0 });
    return { ...full, tokens: full.tokens.slice(0, 1 + (i % (maxTokens - 1))), finishReason: "eos" };
  },
  "truncated, claims length": async (prompt, i) => {
    const full = await generate(served, prompt, { temperature: 0 });
    return { ...full, tokens: full.tokens.slice(0, 1 + (i % (maxTokens - 1))) };
  },
  "replay": async (prompt, i) => ({ ...(await generate(served, prompts[(i + 1) % prompts.length]!, { temperature: 0 })), promptTokens: served.tokenizePrompt(prompt) }),
};

const perCheat: Record<string, { verified: number; caught: number; jobsUntilCaught: number | null; identicalToHonest: number }> = {};
for (const [name, cheat] of Object.entries(cheats)) {
  const peer = peerIdFromPrivateKey(await generateKeyPair("Ed25519")).toString();
  const stats = { verified: 0, caught: 0, jobsUntilCaught: null as number | null, identicalToHonest: 0 };
  for (let i = 0; i < cheatJobs; i++) {
    const produced = await cheat(prompts[i]!, i);
    if (name === "Q8_0 as F32") {
      const honest = await generate(served, prompts[i]!, { temperature: 0 });
      if (honest.tokens.join() === produced.tokens.join()) stats.identicalToHonest++;
    }
    const outcome = await coordinator.consider(job(peer, produced));
    if (!outcome || outcome.verdict === "inconclusive") continue;
    stats.verified++;
    if (outcome.verdict === "fail") {
      stats.caught++;
      stats.jobsUntilCaught ??= i + 1;
    }
  }
  perCheat[name] = stats;
  log(
    `cheat ${name}: ${stats.verified} of ${cheatJobs} jobs verified, caught ${stats.caught} (${round(stats.caught / Math.max(1, stats.verified))}), first caught at job ${stats.jobsUntilCaught ?? "never"}, tier ${reputation.tier(peer)}, score ${round(reputation.score(peer))}` +
      (name === "Q8_0 as F32" ? `; ${stats.identicalToHonest} of ${cheatJobs} answers identical to the F32 answer (nothing to detect)` : ""),
  );
}

for (const node of nodes) await node.stop();
await engine.close();
// A cheat none of whose jobs happened to be verified has no rate (not a rate of 0).
const rateOf = (s: { verified: number; caught: number }) => (s.verified === 0 ? undefined : s.caught / s.verified);
const rates = Object.values(perCheat).flatMap((s) => rateOf(s) ?? []);
const distinguishable = Object.entries(perCheat).filter(([name]) => name !== "Q8_0 as F32").flatMap(([, s]) => rateOf(s) ?? []);
log(`wall time ${((performance.now() - started) / 1000).toFixed(0)} s`);
log(
  JSON.stringify({
    bench: "trust",
    detect_rate_min: round(Math.min(...rates)),
    detect_rate_min_excluding_q8: round(Math.min(...distinguishable)),
    detect_rate: Object.fromEntries(Object.entries(perCheat).map(([name, s]) => [name, rateOf(s) === undefined ? null : round(rateOf(s)!)])),
    honest_false_positive: round(falsePositives / honestJobs, 4),
    honest_answers: honestJobs,
    verify_cost_fraction: round(honestScoringMs / generationMs),
    verify_round_trip_fraction: round(validationMs / generationMs),
    jobs_until_caught: Object.fromEntries(Object.entries(perCheat).map(([name, s]) => [name, s.jobsUntilCaught])),
  }),
);
