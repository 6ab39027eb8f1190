/**
 * bench/speculative: speculative decoding across two processes (a draft node and a verifier node) with
 * network latency between them, against the verifier decoding alone, in one run.
 *
 * - It re-runs itself inside a fresh network namespace (`unshare --net`, loopback only), so nothing else
 *   shares the link; latency comes from a userspace delay relay between the two nodes (the kernel has no
 *   netem; see README.md).
 * - Pairings: `q8` (default target F32, draft Q8_0 of the same weights) and `wrong` (a Q8_0 draft of
 *   another seed: always wrong, so speculation must fall back to plain speed).
 * - Per pairing and round trip: tok/s plain vs speculative (median of per-round ratios, alternating order),
 *   acceptance (accepted / drafted), mean and last chosen k, and whether the answers were identical.
 * Last line: one JSON object; `speedup`, `acceptance`, `k` are the q8 pairing at `--headline-rtt` (5 ms).
 *
 * One more row runs the q8 pairing at the headline round trip with k fixed (`--compare-fixed-k`, 8): what
 * the adaptive choice is measured against.
 * Usage: npm run bench:speculative -- [--preset medium] [--tokens 256] [--rounds 7] [--rtts 0,5,20]
 *        [--pairings q8,wrong] [--fixed-k N] [--compare-fixed-k 8] [--diagnose] [--no-netns]
 */
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { parseArgs } from "node:util";
import { ensureSyntheticModel, PRESET_NAMES, type PresetName } from "../../src-main/models/index.js";
import { round } from "../lib/stats.js";
import { startDelayRelay } from "./delay-relay.js";

const NETNS_MARK = "INFERSWARM_SPECULATIVE_NETNS";
const { values: args } = parseArgs({
  options: {
    preset: { type: "string", default: "medium" },
    tokens: { type: "string", default: "256" },
    rounds: { type: "string", default: "7" },
    rtts: { type: "string", default: "0,5,20" },
    pairings: { type: "string", default: "q8,wrong" },
    "headline-rtt": { type: "string", default: "5" },
    "fixed-k": { type: "string" },
    // One more q8 row at the headline round trip with this k held fixed (0: none): what adaptation chose against.
    "compare-fixed-k": { type: "string", default: "8" },
    "no-netns": { type: "boolean", default: false },
    diagnose: { type: "boolean", default: false },
  },
});

const log = (line: string) => console.log(line);

if (!args["no-netns"] && process.env[NETNS_MARK] !== "1") {
  // Re-run this very command inside a new network namespace with its loopback up.
  const command = [process.execPath, ...process.execArgv, process.argv[1]!, ...process.argv.slice(2)];
  const child = spawn("unshare", ["--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", ...command], {
    stdio: "inherit",
    env: { ...process.env, [NETNS_MARK]: "1" },
  });
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) log(`bench/speculative: the run inside \`unshare --net\` exited with ${code} (creating the namespace needs root or user namespaces; --no-netns runs on the host loopback).`);
  process.exit(code ?? 1);
}

const preset = args.preset as PresetName;
if (!PRESET_NAMES.includes(preset)) throw new Error(`--preset must be one of ${PRESET_NAMES.join(", ")}`);
const maxTokens = Number(args.tokens);
const rounds = Number(args.rounds);
const rtts = args.rtts.split(",").map(Number);
const pairings = args.pairings.split(",");
const headlineRtt = Number(args["headline-rtt"]);
const fixedDraftTokens = args["fixed-k"] === undefined ? undefined : Number(args["fixed-k"]);
const compareFixedK = Number(args["compare-fixed-k"]);
const prompts = [
  "The swarm answers questions about the weather and the network",
  "A node that drafts tokens for another node",
  "Tell me how the verifier checks the draft",
];
const here = import.meta.dirname;

interface ChildNode {
  child: ChildProcessByStdio<Writable, Readable, null>;
  lines: AsyncIterator<string>;
}

function startChild(script: string, childArgs: string[]): ChildNode {
  const child = spawn(process.execPath, [...process.execArgv, path.join(here, script), ...childArgs], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return { child, lines };
}

async function nextJson<T>(node: ChildNode): Promise<T> {
  for (;;) {
    const line = await node.lines.next();
    if (line.done) throw new Error("a bench process exited early (see its stderr above)");
    if (line.value.startsWith("{")) return JSON.parse(line.value) as T;
  }
}

async function stopChild(node: ChildNode, goodbye?: string) {
  if (goodbye) node.child.stdin.write(goodbye);
  node.child.stdin.end();
  const timer = setTimeout(() => node.child.kill("SIGKILL"), 10_000);
  if (node.child.exitCode === null) await once(node.child, "exit");
  clearTimeout(timer);
}

const target = await ensureSyntheticModel({ preset, seed: 1, quantization: "F32", peaky: true });
const drafts: Record<string, Awaited<ReturnType<typeof ensureSyntheticModel>>> = {
  q8: await ensureSyntheticModel({ preset, seed: 1, quantization: "Q8_0", peaky: true }),
};
if (pairings.includes("wrong")) drafts.wrong = await ensureSyntheticModel({ preset, seed: 2, quantization: "Q8_0", peaky: true });
log(`bench/speculative: ${preset} F32 verifier, ${maxTokens} tokens, ${rounds} rounds, round trips ${rtts.join("/")} ms, pairings ${pairings.join(", ")}, network namespace: ${process.env[NETNS_MARK] === "1" ? "yes" : "no"}`);

const verifier = startChild("verifier-process.ts", ["--model", target.path]);
await nextJson(verifier);
const results: Record<string, unknown>[] = [];
try {
  const settings = pairings.flatMap((pairing) => rtts.map((rtt) => ({ pairing, rtt, fixed: fixedDraftTokens, label: pairing })));
  if (compareFixedK > 0 && fixedDraftTokens === undefined && pairings.includes("q8")) settings.push({ pairing: "q8", rtt: headlineRtt, fixed: compareFixedK, label: `q8-k${compareFixedK}` });
  for (const { pairing, rtt, fixed, label } of settings) {
    const draftFile = drafts[pairing];
    if (!draftFile) throw new Error(`unknown pairing ${pairing}: use q8 or wrong`);
    // A fresh draft node per round trip: once the verifier knows a draft's direct address (identify
    // tells it), a dropped relay connection could be redialled around the relay.
    const draft = startChild("draft-process.ts", ["--model", draftFile.path]);
    try {
      const draftInfo = await nextJson<{ peerId: string; port: number; sha256: string }>(draft);
      const relay = await startDelayRelay({ targetPort: draftInfo.port, oneWayMs: rtt / 2 });
      try {
        verifier.child.stdin.write(
          `${JSON.stringify({
            cmd: "measure",
            draft: { peerId: draftInfo.peerId, address: `/ip4/127.0.0.1/tcp/${relay.port}/p2p/${draftInfo.peerId}`, sha256: draftInfo.sha256 },
            prompts,
            maxTokens,
            rounds,
            fixedDraftTokens: fixed,
            diagnose: args.diagnose,
          })}\n`,
        );
        const measured = await nextJson<Record<string, unknown> & { type: string; message?: string }>(verifier);
        if (measured.type !== "result") throw new Error(`verifier failed: ${measured.message}`);
        // The latency is only real if the draft was reached through the relay, never directly.
        const connections = measured.connections as string[];
        if (!connections.every((address) => address.includes(`/tcp/${relay.port}/`))) throw new Error(`the verifier reached the draft around the relay: ${connections.join(", ")}`);
        const row = { pairing: label, rtt_ms: rtt, ...measured };
        delete (row as Record<string, unknown>).type;
        results.push(row);
        const r = row as unknown as { pingMs: number; plainTokS: number; specTokS: number; speedup: number; acceptance: number; meanK: number; lastK: number; sameOutput: number; draftFailures: number };
        log(
          `${label.padEnd(6)} rtt ${String(rtt).padStart(2)} ms (ping ${r.pingMs.toFixed(1)} ms): plain ${r.plainTokS.toFixed(1)} tok/s, speculative ${r.specTokS.toFixed(1)} tok/s, ` +
            `speedup ${r.speedup.toFixed(2)}, acceptance ${r.acceptance.toFixed(2)}, mean k ${r.meanK.toFixed(1)}, last k ${r.lastK}, same answers ${(r.sameOutput * 100).toFixed(0)}%, draft failures ${r.draftFailures}`,
        );
      } finally {
        await relay.close();
      }
    } finally {
      await stopChild(draft);
    }
  }
} finally {
  await stopChild(verifier, `${JSON.stringify({ cmd: "exit" })}\n`);
}

const headline = results.find((r) => r.pairing === "q8" && r.rtt_ms === headlineRtt) ?? results[0];
const pick = (row: Record<string, unknown> | undefined, key: string) => (typeof row?.[key] === "number" ? round(row[key], 3) : null);
console.log(
  JSON.stringify({
    bench: "speculative",
    speedup: pick(headline, "speedup"),
    acceptance: pick(headline, "acceptance"),
    k: pick(headline, "meanK"),
    rtt_ms: headline?.rtt_ms ?? null,
    speedup_fixed_k: pick(results.find((r) => r.pairing === `q8-k${compareFixedK}`), "speedup"),
    fixed_k: compareFixedK > 0 ? compareFixedK : null,
    preset,
    tokens: maxTokens,
    netns: process.env[NETNS_MARK] === "1",
    results: results.map((r) => ({
      pairing: r.pairing,
      rtt_ms: r.rtt_ms,
      ping_ms: pick(r, "pingMs"),
      plain_tok_s: pick(r, "plainTokS"),
      speculative_tok_s: pick(r, "specTokS"),
      speedup: pick(r, "speedup"),
      acceptance: pick(r, "acceptance"),
      mean_k: pick(r, "meanK"),
      last_k: r.lastK,
      same_answers: pick(r, "sameOutput"),
      draft_failures: r.draftFailures,
      draft_wait_ms_per_round: pick(r, "draftWaitMsPerRound"),
      verify_ms_per_round: pick(r, "verifyMsPerRound"),
      ...(args.diagnose && { loop_without_draft_ratio: pick(r, "loopWithoutDraftRatio") }),
    })),
  }),
);
