/**
 * bench/trust/run: the trust pipeline on a real swarm of worker processes on loopback (issue #5).
 *
 * Honest `inferswarm node` workers (1 or 2 threads, 1 or 2 jobs at a time) answer >= 500 jobs (greedy and
 * sampled, some resumed from a prefix of an earlier honest answer, some sent two at once to a worker that
 * batches them); cheating worker processes (random tokens, another seed's model, Q8_0 weights claiming the
 * F32 hash, answers cut short claimed as eos, another prompt's answer replayed) answer jobs too. Every answer
 * is judged by a requester's validation coordinator in this process, whose validators are the honest
 * workers themselves over /inferswarm/verify/1.0.0 (never the worker judged; a fail goes to a quorum of 3).
 * Jobs-until-caught replays the recorded per-job verdicts through the coordinator's own sampling.
 *
 *   tsx bench/trust/run.ts [--honest 500] [--alone-jobs 60] [--cheat-jobs 100] [--preset tiny] [--tokens 32]
 *                          [--budget-s 340] [--replays 2000]
 * (--alone-jobs: honest jobs sent one at a time, the cost figure's sample; --replays: jobs-until-caught draws)
 *
 * Last line: {"bench":"trust","detect_rate_min":…,"honest_false_positive":…,"verify_cost_fraction":…}
 */
import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { parseArgs } from "node:util";
import { createSilentLogger, systemClock } from "../../src-main/common/index.js";
import { ensureSyntheticModel, PRESET_NAMES, type PresetName } from "../../src-main/models/index.js";
import { requestVerification } from "../../src-main/swarm/index.js";
import { buildChallengePrompts, createReputation, createValidationCoordinator, seededRandom, type FinishedJob, type ValidationOutcome } from "../../src-main/trust/index.js";
import { median, round } from "../lib/stats.js";
import { startTrustSwarm, type CheaterSpec, type HonestWorker, type TrustSwarm, type WorkerAnswer } from "./trust-swarm.js";

const { values: args } = parseArgs({
  options: {
    honest: { type: "string", default: "500" },
    "cheat-jobs": { type: "string", default: "100" },
    "alone-jobs": { type: "string", default: "60" },
    preset: { type: "string", default: "tiny" },
    tokens: { type: "string", default: "32" },
    "budget-s": { type: "string", default: "340" },
    replays: { type: "string", default: "2000" },
  },
});
const preset = args.preset as PresetName;
if (!PRESET_NAMES.includes(preset)) throw new Error(`--preset must be one of ${PRESET_NAMES.join(", ")}`);
const honestTarget = Number(args.honest);
const cheatJobs = Number(args["cheat-jobs"]);
const aloneJobs = Math.min(Number(args["alone-jobs"]), honestTarget);
const maxTokens = Number(args.tokens);
const replays = Number(args.replays);
const started = performance.now();
const budgetEnd = started + Number(args["budget-s"]) * 1000;
const log = (line: string) => console.log(line);
const elapsedS = () => ((performance.now() - started) / 1000).toFixed(0);

// ---- the swarm ---------------------------------------------------------------------------------------
const honestModel = await ensureSyntheticModel({ preset, seed: 1, quantization: "F32", peaky: true });
const otherSeed = await ensureSyntheticModel({ preset, seed: 2, quantization: "F32", peaky: true });
const quantized = await ensureSyntheticModel({ preset, seed: 1, quantization: "Q8_0", peaky: true });
const cheaterSpecs: CheaterSpec[] = [
  { name: "random tokens", cheat: "random", model: preset },
  { name: "wrong model", cheat: "impostor", model: otherSeed.path, claimSha256: honestModel.sha256 },
  { name: "Q8_0 as F32", cheat: "impostor", model: quantized.path, claimSha256: honestModel.sha256 },
  { name: "truncated, claims eos", cheat: "truncate", model: preset },
  { name: "replay", cheat: "replay", model: preset },
];
/** Not a process cheat (the cheating node always claims eos): an honest worker's answer cut by the bench and labelled "length". */
const SIMULATED_LENGTH_CHEAT = "truncated, claims length (simulated)";

const swarm = await startTrustSwarm({
  preset,
  honest: [
    { threads: 1, maxJobs: 1 },
    { threads: 2, maxJobs: 2 },
    { threads: 1, maxJobs: 2 },
  ],
  cheaters: cheaterSpecs,
});
let exitCode = 0;
try {
  await runBench(swarm);
} catch (error) {
  console.error(error);
  exitCode = 1;
} finally {
  await swarm.stop();
}
process.exit(exitCode);

async function runBench(swarm: TrustSwarm): Promise<void> {
  log(`swarm up in ${elapsedS()} s: honest workers ${swarm.honest.map((w) => w.label).join(", ")}; cheaters ${[...swarm.cheaters.keys()].join(", ")}`);
  const libp2p = swarm.requester.swarm.libp2p;
  const honestIds = swarm.honest.map((w) => w.process.peerId);
  const prompts = buildChallengePrompts({ seed: 4242, count: honestTarget + 2 });
  const promptTokens = prompts.map((p) => swarm.promptTokens(p));
  const newJobId = (label: string) => `bench-${label}-${Math.random().toString(36).slice(2, 12)}`;

  // ---- the requester's coordinator, validators = honest workers, every round trip timed --------------
  const reputation = createReputation({ clock: systemClock });
  // Per job: each validator's round trip, and the part of it until the validator signed (its attestation's
  // `at`, same machine clock): the rest is the response's transfer and the requester's checks.
  const verifyTimes = new Map<string, Array<{ validator: string; ms: number; untilSignedMs?: number; ok: boolean }>>();
  const coordinator = createValidationCoordinator({
    random: seededRandom(20260),
    candidates: async () => honestIds,
    verify: async (peerId, request, { signal }) => {
      const t0 = performance.now();
      const sentAt = Date.now();
      let untilSignedMs: number | undefined;
      let ok = false;
      try {
        const answer = await requestVerification(libp2p, peerId, request, { signal });
        untilSignedMs = answer.attestation.body.at - sentAt;
        ok = true;
        return answer;
      } finally {
        const times = verifyTimes.get(request.jobId) ?? [];
        times.push({ validator: peerId, ms: performance.now() - t0, untilSignedMs, ok });
        verifyTimes.set(request.jobId, times);
      }
    },
    reputation,
    logger: createSilentLogger(),
    options: { quorum: 3 },
  });
  const finished = (jobId: string, workerPeerId: string, prompt: number[], sampling: FinishedJob["sampling"], answer: Pick<WorkerAnswer, "tokens" | "finishReason">): FinishedJob => ({
    jobId,
    modelSha256: swarm.modelSha256,
    promptTokens: prompt,
    tokens: answer.tokens,
    finishReason: answer.finishReason,
    maxTokens,
    sampling,
    stopRequested: false,
    workerPeerId,
  });

  // ---- honest jobs -------------------------------------------------------------------------------------
  type Kind = "greedy" | "sampled";
  interface HonestRecord {
    index: number;
    worker: HonestWorker;
    kind: Kind;
    resumedFrom?: number;
    batched: boolean;
    alone: boolean;
    /** The concurrent round it was sent in (undefined: one at a time). */
    round?: number;
    prompt: number;
    sampling: FinishedJob["sampling"];
    answer: WorkerAnswer;
    startedAt: number;
    endedAt: number;
    outcome?: ValidationOutcome;
    jobId: string;
  }
  const honestRecords: HonestRecord[] = [];
  // Resumed jobs continue an earlier honest answer on another worker, as after a failover.
  const resumable = () => honestRecords.filter((r) => r.resumedFrom === undefined && r.answer.tokens.length > 1);

  interface PlannedJob {
    index: number;
    prompt: number;
    sampling: FinishedJob["sampling"];
    kind: Kind;
    resumeTokens: number[];
    resumedFrom?: number;
  }
  function plan(index: number, worker: HonestWorker): PlannedJob {
    const sampling: FinishedJob["sampling"] = index % 10 < 3 ? { temperature: 0.8, seed: index } : { temperature: 0 };
    const kind: Kind = sampling.temperature > 0 ? "sampled" : "greedy";
    const sources = resumable().filter((r) => r.worker !== worker);
    if (index % 7 === 3 && sources.length > 0) {
      const source = sources[sources.length - 1 - (index % Math.min(5, sources.length))]!;
      const cut = 1 + (index % (source.answer.tokens.length - 1));
      return { index, prompt: source.prompt, sampling: source.sampling, kind: source.kind, resumeTokens: source.answer.tokens.slice(0, cut), resumedFrom: source.index };
    }
    return { index, prompt: index, sampling, kind, resumeTokens: [] };
  }
  async function runHonest(job: PlannedJob, worker: HonestWorker, flags: { batched: boolean; alone: boolean; round?: number }): Promise<HonestRecord> {
    const jobId = newJobId(`h${job.index}`);
    const startedAt = performance.now();
    const answer = await swarm.ask(worker.process.peerId, { jobId, prompt: { tokens: promptTokens[job.prompt]! }, sampling: job.sampling, maxTokens, resumeTokens: job.resumeTokens });
    const record: HonestRecord = { index: job.index, worker, kind: job.kind, resumedFrom: job.resumedFrom, ...flags, prompt: job.prompt, sampling: job.sampling, answer, startedAt, endedAt: performance.now(), jobId };
    honestRecords.push(record);
    return record;
  }
  const validateHonest = async (record: HonestRecord) => {
    record.outcome = await coordinator.validate(finished(record.jobId, record.worker.process.peerId, promptTokens[record.prompt]!, record.sampling, record.answer));
  };

  // (a) One job at a time, then its verification alone: the cost figure comes from these.
  const honestDeadline = started + (budgetEnd - started) * 0.6;
  let next = 0;
  for (; next < aloneJobs && performance.now() < honestDeadline; next++) {
    const worker = swarm.honest[next % swarm.honest.length]!;
    await validateHonest(await runHonest(plan(next, worker), worker, { batched: false, alone: true }));
  }
  log(`honest (a) one at a time: ${next} jobs by ${elapsedS()} s`);
  // (b) Rounds under load: one job to each 1-job worker and two at once to each 2-job worker (batched in one
  // context), then all of the round's answers verified concurrently.
  let rounds = 0;
  while (next < honestTarget && performance.now() < honestDeadline) {
    const jobs: Array<Promise<HonestRecord>> = [];
    for (const worker of swarm.honest) {
      for (let slot = 0; slot < worker.maxJobs && next < honestTarget; slot++) jobs.push(runHonest(plan(next++, worker), worker, { batched: worker.maxJobs > 1, alone: false, round: rounds }));
    }
    const records = await Promise.all(jobs);
    await Promise.all(records.map(validateHonest));
    rounds++;
  }
  log(`honest (b) concurrent rounds: ${rounds} rounds, ${honestRecords.length} jobs in all by ${elapsedS()} s`);

  // ---- cheating jobs: every one verified; prompts are honest greedy jobs' prompts, whose answers we have --
  const honestGreedy = honestRecords.filter((r) => r.kind === "greedy" && r.resumedFrom === undefined && r.answer.tokens.length === maxTokens);
  if (honestGreedy.length === 0) throw new Error("no honest greedy answer to take cheat prompts from");
  // The replay cheater's first answer is honest by construction (it has nothing to replay yet): prime it.
  const replayer = swarm.cheaters.get("replay")!;
  await swarm.ask(replayer.peerId, { jobId: newJobId("prime"), prompt: { tokens: swarm.promptTokens("A priming prompt the bench does not judge") }, sampling: { temperature: 0 }, maxTokens, resumeTokens: [] });

  interface CheatRecord {
    verdict: ValidationOutcome["verdict"];
    identicalToHonest: boolean;
    failVotes: number;
    votes: number;
  }
  const cheatRecords = new Map<string, CheatRecord[]>();
  const cheatPeers = new Map<string, string>();
  for (const spec of cheaterSpecs) cheatPeers.set(spec.name, swarm.cheaters.get(spec.name)!.peerId);
  cheatPeers.set(SIMULATED_LENGTH_CHEAT, peerIdFromPrivateKey(await generateKeyPair("Ed25519")).toString());
  const cheatDeadline = budgetEnd - 10_000;

  async function cheatLane(name: string): Promise<void> {
    const records: CheatRecord[] = [];
    cheatRecords.set(name, records);
    const peerId = cheatPeers.get(name)!;
    for (let i = 0; i < cheatJobs && performance.now() < cheatDeadline; i++) {
      const source = honestGreedy[i % honestGreedy.length]!;
      const jobId = newJobId(`c${i}`);
      const sampling = { temperature: 0 };
      let answer: Pick<WorkerAnswer, "tokens" | "finishReason">;
      if (name === SIMULATED_LENGTH_CHEAT) answer = { tokens: source.answer.tokens.slice(0, 1 + (i % (maxTokens - 1))), finishReason: "length" };
      else answer = await swarm.ask(peerId, { jobId, prompt: { tokens: promptTokens[source.prompt]! }, sampling, maxTokens, resumeTokens: [] });
      const outcome = await coordinator.validate(finished(jobId, peerId, promptTokens[source.prompt]!, sampling, answer));
      records.push({
        verdict: outcome.verdict,
        identicalToHonest: answer.finishReason === source.answer.finishReason && answer.tokens.join() === source.answer.tokens.join(),
        failVotes: outcome.votes.filter((v) => v.verdict === "fail").length,
        votes: outcome.votes.filter((v) => v.verdict !== undefined).length,
      });
    }
  }
  // Two lanes at a time: each disputed answer takes all three validators.
  const lanes = [...cheatPeers.keys()];
  await Promise.all([0, 1].map(async (lane) => {
    for (let i = lane; i < lanes.length; i += 2) await cheatLane(lanes[i]!);
  }));
  log(`cheats: done by ${elapsedS()} s`);

  // ---- report -------------------------------------------------------------------------------------------
  const fails = (records: HonestRecord[]) => records.filter((r) => r.outcome?.verdict === "fail").length;
  const judged = honestRecords.filter((r) => r.outcome);
  const falsePositives = fails(judged);
  const honestInconclusive = judged.filter((r) => r.outcome!.verdict === "inconclusive").length;
  const groups: Array<[string, (r: HonestRecord) => boolean]> = [
    ...swarm.honest.map((w): [string, (r: HonestRecord) => boolean] => [`worker ${w.label}`, (r) => r.worker === w]),
    ["greedy", (r) => r.kind === "greedy"],
    ["sampled", (r) => r.kind === "sampled"],
    ["resumed", (r) => r.resumedFrom !== undefined],
    ["sent two at once to a 2-job worker", (r) => r.batched],
    ["one at a time", (r) => r.alone],
  ];
  log(`honest: ${judged.length} answers judged, ${falsePositives} false positives, ${honestInconclusive} inconclusive`);
  for (const [label, test] of groups) {
    const group = judged.filter(test);
    log(`  ${label}: ${group.length} answers, ${fails(group)} failed`);
  }
  // Two jobs on one worker overlapped in time: the worker had both sequences in its context at once.
  const pairs = new Map<string, HonestRecord[]>();
  for (const r of honestRecords.filter((r) => r.batched)) {
    const key = `${r.worker.label}:${r.round}`;
    pairs.set(key, [...(pairs.get(key) ?? []), r]);
  }
  const overlapping = [...pairs.values()].filter((p) => p.length === 2 && p[0]!.startedAt < p[1]!.endedAt && p[1]!.startedAt < p[0]!.endedAt).length;
  log(`  pairs sent at once to a 2-job worker that overlapped in time: ${overlapping} of ${[...pairs.values()].filter((p) => p.length === 2).length}`);
  const resumedGreedy = honestRecords.filter((r) => r.resumedFrom !== undefined && r.kind === "greedy");
  const sameAsOriginal = resumedGreedy.filter((r) => r.answer.tokens.join() === honestRecords.find((s) => s.index === r.resumedFrom)!.answer.tokens.join()).length;
  log(`  resumed greedy answers identical to the answer they resumed (made on another worker): ${sameAsOriginal} of ${resumedGreedy.length}`);
  for (const id of honestIds) log(`  ${swarm.honest.find((w) => w.process.peerId === id)!.label}: tier ${reputation.tier(id)}, score ${round(reputation.score(id))}`);

  // Cost: the first validator's round trip (queue + scoring + loopback) over the job's stream time.
  const costOf = (records: HonestRecord[]) => {
    const pairsOf = records.flatMap((r) => {
      const first = verifyTimes.get(r.jobId)?.find((t) => t.ok);
      return first ? [{ verify: first.ms, untilSigned: first.untilSignedMs ?? first.ms, generate: r.answer.streamMs }] : [];
    });
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    return {
      fraction: sum(pairsOf.map((p) => p.verify)) / Math.max(1, sum(pairsOf.map((p) => p.generate))),
      untilSignedFraction: sum(pairsOf.map((p) => p.untilSigned)) / Math.max(1, sum(pairsOf.map((p) => p.generate))),
      verifyMedianMs: median(pairsOf.map((p) => p.verify)),
      untilSignedMedianMs: median(pairsOf.map((p) => p.untilSigned)),
      generateMedianMs: median(pairsOf.map((p) => p.generate)),
      n: pairsOf.length,
    };
  };
  const alone = costOf(honestRecords.filter((r) => r.alone && r.resumedFrom === undefined));
  const underLoad = costOf(honestRecords.filter((r) => !r.alone && r.resumedFrom === undefined));
  log(`cost, one at a time (${alone.n} jobs, not resumed): verification round trip ${round(alone.fraction)} of the job's stream time (medians ${alone.verifyMedianMs.toFixed(0)} ms vs ${alone.generateMedianMs.toFixed(0)} ms); until the validator signed ${round(alone.untilSignedFraction)} (median ${alone.untilSignedMedianMs.toFixed(0)} ms)`);
  log(`cost, concurrent rounds (${underLoad.n} jobs): ${round(underLoad.fraction)} (medians ${underLoad.verifyMedianMs.toFixed(0)} ms vs ${underLoad.generateMedianMs.toFixed(0)} ms)`);

  // Jobs until caught: the recorded verdicts, with each job verified only when the coordinator's own
  // sampling (checkRate on a fresh requester's reputation, seeded draws) would have chosen it.
  const untilCaught = new Map<string, { mean: number | null; p95: number | null; neverCaught: number }>();
  for (const [name, records] of cheatRecords) {
    const peerId = cheatPeers.get(name)!;
    const caughtAt: number[] = [];
    let neverCaught = 0;
    for (let r = 0; r < replays; r++) {
      const replayReputation = createReputation({ clock: systemClock });
      const random = seededRandom(1000 + r);
      const sampler = createValidationCoordinator({ random, candidates: async () => [], verify: () => Promise.reject(new Error("replay only")), reputation: replayReputation, logger: createSilentLogger() });
      let caught: number | undefined;
      for (const [k, record] of records.entries()) {
        const job = finished(`replay-${k}`, peerId, [1], { temperature: 0 }, { tokens: [], finishReason: "length" });
        if (random() >= sampler.checkRate(job) || record.verdict === "inconclusive") continue;
        if (record.verdict === "fail") {
          caught = k + 1;
          break;
        }
        replayReputation.record(peerId, { kind: "verification", verdict: "pass", detail: "replay" });
      }
      if (caught === undefined) neverCaught++;
      else caughtAt.push(caught);
    }
    caughtAt.sort((a, b) => a - b);
    untilCaught.set(name, {
      mean: caughtAt.length ? caughtAt.reduce((a, b) => a + b, 0) / caughtAt.length : null,
      p95: caughtAt.length ? caughtAt[Math.min(caughtAt.length - 1, Math.floor(caughtAt.length * 0.95))]! : null,
      neverCaught,
    });
  }

  const rates: Record<string, number | null> = {};
  /** Among answers that differ from the honest worker's answer to the same prompt (something to detect). */
  const differentRates: Record<string, number | null> = {};
  for (const [name, records] of cheatRecords) {
    const caught = records.filter((r) => r.verdict === "fail").length;
    const inconclusive = records.filter((r) => r.verdict === "inconclusive").length;
    const identical = records.filter((r) => r.identicalToHonest).length;
    const identicalCaught = records.filter((r) => r.identicalToHonest && r.verdict === "fail").length;
    const different = records.filter((r) => !r.identicalToHonest);
    differentRates[name] = different.length ? different.filter((r) => r.verdict === "fail").length / different.length : null;
    rates[name] = records.length ? caught / records.length : null;
    const u = untilCaught.get(name)!;
    log(
      `cheat ${name}: ${records.length} jobs, all verified: caught ${caught} (${rates[name] === null ? "n/a" : round(rates[name])}), ${inconclusive} inconclusive; ` +
        `${identical} answers identical to the honest answer (${identicalCaught} of them failed), caught ${different.length - different.filter((r) => r.verdict !== "fail").length} of the ${different.length} that differ; ` +
        `jobs until caught at the coordinator's sampling: mean ${u.mean === null ? "never" : round(u.mean, 2)}, p95 ${u.p95 ?? "never"}, never caught in ${u.neverCaught} of ${replays} replays; ` +
        `tier ${reputation.tier(cheatPeers.get(name)!)}`,
    );
  }
  const measured = Object.values(rates).filter((r): r is number => r !== null);
  const distinguishable = Object.entries(rates).filter(([name, r]) => name !== "Q8_0 as F32" && r !== null).map(([, r]) => r!);
  log(`wall time ${elapsedS()} s`);
  log(
    JSON.stringify({
      bench: "trust",
      detect_rate_min: measured.length ? round(Math.min(...measured)) : null,
      detect_rate_min_excluding_q8: distinguishable.length ? round(Math.min(...distinguishable)) : null,
      detect_rate: Object.fromEntries(Object.entries(rates).map(([name, r]) => [name, r === null ? null : round(r)])),
      detect_rate_when_different: Object.fromEntries(Object.entries(differentRates).map(([name, r]) => [name, r === null ? null : round(r)])),
      cheat_jobs: Object.fromEntries([...cheatRecords].map(([name, records]) => [name, records.length])),
      honest_false_positive: round(falsePositives / Math.max(1, judged.length), 4),
      honest_answers: judged.length,
      honest_inconclusive: honestInconclusive,
      verify_cost_fraction: round(alone.fraction),
      verify_until_signed_fraction: round(alone.untilSignedFraction),
      verify_cost_fraction_concurrent: round(underLoad.fraction),
      jobs_until_caught: Object.fromEntries([...untilCaught].map(([name, u]) => [name, u.mean === null ? null : round(u.mean, 2)])),
      jobs_until_caught_p95: Object.fromEntries([...untilCaught].map(([name, u]) => [name, u.p95])),
    }),
  );
}
