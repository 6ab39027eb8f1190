/**
 * What the swarm benches share: their flags, a one-worker local swarm (a worker process and an
 * in-process requester on 127.0.0.1), the scheduler request they time, and the alternating rounds
 * that compare a path under test with a baseline.
 */
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { PRESET_NAMES, type PresetName } from "../../src-main/models/index.js";
import { parseNodeConfig, spawnNodeProcess, startNode, type NodeProcess, type RunningNode } from "../../src-main/node/index.js";
import type { SchedulerJobRequest } from "../../src-main/scheduler/index.js";

export const BENCH_PROMPT = "The swarm answers questions about the weather and the network";

export interface SwarmBenchArgs {
  preset: PresetName;
  maxTokens: number;
  rounds: number;
}

/** `--preset` (default medium), `--tokens` (256) and `--rounds` (9). */
export function parseSwarmBenchArgs(): SwarmBenchArgs {
  const { values: args } = parseArgs({
    options: {
      preset: { type: "string", default: "medium" },
      tokens: { type: "string", default: "256" },
      rounds: { type: "string", default: "9" },
    },
  });
  const preset = args.preset as PresetName;
  if (!PRESET_NAMES.includes(preset)) throw new Error(`--preset must be one of ${PRESET_NAMES.join(", ")}`);
  return { preset, maxTokens: Number(args.tokens), rounds: Number(args.rounds) };
}

export interface LocalSwarm {
  /** Serves `preset` (F32, 1 thread, 1 job at a time) in its own process. */
  worker: NodeProcess;
  /** This process's node, bootstrapped to the worker and already holding its advert. */
  requester: RunningNode;
}

export async function startLocalSwarm(options: { preset: PresetName; requesterHomePrefix: string; advertTimeoutMs?: number }): Promise<LocalSwarm> {
  const worker = await spawnNodeProcess(["--model", options.preset, "--quantization", "F32", "--mode", "always", "--threads", "1", "--max-jobs", "1"]);
  const home = await mkdtemp(path.join(os.tmpdir(), options.requesterHomePrefix));
  const requester = await startNode(parseNodeConfig({ listen: ["/ip4/127.0.0.1/tcp/0"], bootstrap: [worker.addresses[0]!], mdns: false, hardware: false }), {
    paths: { configDir: home, dataDir: home },
  });
  // A job sent before the advert arrives would find no worker.
  const deadline = Date.now() + (options.advertTimeoutMs ?? 30_000);
  while (requester.adverts.freshAdverts().length === 0) {
    if (Date.now() > deadline) throw new Error("the worker's advert never arrived");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { worker, requester };
}

/** A greedy job for the scheduler, with a fresh id each time. */
export function greedyJob(modelSha256: string, promptTokens: number[], maxTokens: number): SchedulerJobRequest {
  return {
    type: "request",
    jobId: `bench-${Math.random().toString(36).slice(2, 12)}`,
    modelSha256,
    prompt: { tokens: promptTokens },
    sampling: { temperature: 0 },
    maxTokens,
    stop: [],
  };
}

export interface TimedSample {
  ttftMs: number;
  tokensPerSecond: number;
}

export interface AlternatingRounds {
  /** Per round: the tested path's decode rate over the baseline's. */
  ratios: number[];
  /** Per round: the tested path's time to first token minus the baseline's. */
  addedTtft: number[];
  testedTps: number[];
  baselineTps: number[];
  testedTtft: number[];
  baselineTtft: number[];
}

/** Runs both paths once a round, alternating which goes first so neither always gets a warm or cold start. */
export async function alternateRounds(rounds: number, tested: () => Promise<TimedSample>, baseline: () => Promise<TimedSample>): Promise<AlternatingRounds> {
  const result: AlternatingRounds = { ratios: [], addedTtft: [], testedTps: [], baselineTps: [], testedTtft: [], baselineTtft: [] };
  for (let r = 0; r < rounds; r++) {
    const testedFirst = r % 2 === 0;
    const first = testedFirst ? await tested() : await baseline();
    const second = testedFirst ? await baseline() : await tested();
    const [t, b] = testedFirst ? [first, second] : [second, first];
    result.ratios.push(t.tokensPerSecond / b.tokensPerSecond);
    result.addedTtft.push(t.ttftMs - b.ttftMs);
    result.testedTps.push(t.tokensPerSecond);
    result.baselineTps.push(b.tokensPerSecond);
    result.testedTtft.push(t.ttftMs);
    result.baselineTtft.push(b.ttftMs);
  }
  return result;
}
