/**
 * bench/fetch: a generated model (~200 MB by default: preset large at F16) fetched on loopback from
 * `--peers` seeding processes vs from one local HTTP server process, alternately, `--rounds` times each.
 * The swarm fetch is the node's real path (DHT-free explicit peers, pieces verified on arrival, resumable
 * state, whole-file check, atomic rename into a fresh store). The baseline is what a node without the
 * swarm does: one HTTP GET streamed to disk with its sha256 checked, fsynced and renamed into place.
 * The last line is one JSON object. Smallest run: `npm run bench:fetch -- --preset tiny --quantization F32 --rounds 1 --warmup 0`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, open, rename, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { createSilentLogger } from "../../src-main/common/index.js";
import { createModelStore, ensureSyntheticModel, PRESET_NAMES, QUANTIZATIONS, type PresetName, type SyntheticQuantization } from "../../src-main/models/index.js";
import { startNodeModels } from "../../src-main/node/index.js";
import { createSwarmNode } from "../../src-main/swarm/index.js";
import { median, round } from "../lib/stats.js";

const { values: args } = parseArgs({
  options: {
    preset: { type: "string", default: "large" },
    quantization: { type: "string", default: "F16" },
    peers: { type: "string", default: "4" },
    rounds: { type: "string", default: "3" },
    warmup: { type: "string", default: "1" },
    "piece-kib": { type: "string", default: "1024" },
  },
});
const preset = args.preset as PresetName;
const quantization = args.quantization as SyntheticQuantization;
if (!PRESET_NAMES.includes(preset)) throw new Error(`--preset must be one of ${PRESET_NAMES.join(", ")}`);
if (!QUANTIZATIONS.includes(quantization)) throw new Error(`--quantization must be one of ${QUANTIZATIONS.join(", ")}`);
const peerCount = Number(args.peers);
const rounds = Number(args.rounds);
// Uncounted rounds first: JIT, the HTTP client's and the streams' first use are not what is measured.
const warmupRounds = Number(args.warmup);
const pieceSize = Number(args["piece-kib"]) * 1024;
const repoRoot = path.resolve(import.meta.dirname, "../..");
const logger = createSilentLogger();
const children: ChildProcess[] = [];

/** Starts a bench child (tsx) and reads the JSON line it prints once ready. */
async function startChild<T>(script: string, childArgs: string[]): Promise<T> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(repoRoot, "bench/fetch", script), ...childArgs], { cwd: repoRoot, stdio: ["pipe", "pipe", "inherit"] });
  children.push(child);
  const lines = createInterface({ input: child.stdout! });
  const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
  try {
    for await (const line of lines) return JSON.parse(line) as T;
  } finally {
    clearTimeout(timer);
  }
  throw new Error(`${script} exited before it was ready`);
}

async function httpBaseline(url: string, expectedSha256: string, dir: string): Promise<number> {
  const started = performance.now();
  const target = path.join(dir, "model.gguf");
  const temp = `${target}.partial`;
  const response = await fetch(url);
  if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
  const hash = createHash("sha256");
  const handle = await open(temp, "w");
  try {
    for await (const chunk of response.body) {
      hash.update(chunk);
      await handle.write(chunk);
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (hash.digest("hex") !== expectedSha256) throw new Error("the HTTP download does not match the model's sha256");
  await rename(temp, target);
  return (performance.now() - started) / 1000;
}

async function main() {
  const model = await ensureSyntheticModel({ preset, seed: 1, quantization });
  const workDir = await mkdtemp(path.join(os.tmpdir(), "bench-fetch-"));
  try {
    process.stderr.write(`model ${preset} ${quantization}: ${(model.fileSize / 1e6).toFixed(1)} MB; hashing pieces once for the seeders...\n`);
    const seedStore = path.join(workDir, "seed-store");
    const held = await createModelStore({ dir: seedStore }).addFiles([model.path], { pieceSize });
    const seeders = await Promise.all(Array.from({ length: peerCount }, () => startChild<{ peerId: string; addresses: string[] }>("seeder.ts", ["--store", seedStore])));
    const { url } = await startChild<{ url: string }>("http-server.ts", ["--file", model.path]);

    const swarm = await createSwarmNode({ privateKey: await generateKeyPair("Ed25519"), logger, listen: ["/ip4/127.0.0.1/tcp/0"], mdns: false, bootstrap: seeders.map((s) => s.addresses[0]!) });
    await swarm.start();
    const deadline = Date.now() + 30_000;
    while (seeders.some((s) => !swarm.libp2p.getPeers().some((peer) => peer.toString() === s.peerId))) {
      if (Date.now() > deadline) throw new Error("could not connect to every seeder");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const swarmSeconds: number[] = [];
    const httpSeconds: number[] = [];
    for (let roundIndex = -warmupRounds; roundIndex < rounds; roundIndex++) {
      const httpDir = await mkdtemp(path.join(workDir, "http-"));
      const httpTime = await httpBaseline(url, model.sha256, httpDir);
      await rm(httpDir, { recursive: true, force: true });

      const storeDir = await mkdtemp(path.join(workDir, "fetch-"));
      const models = await startNodeModels({ libp2p: swarm.libp2p, store: createModelStore({ dir: storeDir }), logger, provide: false });
      const started = performance.now();
      const fetched = await models.fetchModel(held.manifest.root, { peers: seeders.map((s) => s.peerId), maxPeers: peerCount }).result;
      const swarmTime = (performance.now() - started) / 1000;
      if (fetched.manifest.parts[0]!.sha256 !== model.sha256) throw new Error("the fetched model does not match");
      await models.stop();
      await rm(storeDir, { recursive: true, force: true });
      const label = roundIndex < 0 ? "warm-up" : `round ${roundIndex + 1}/${rounds}`;
      process.stderr.write(`${label}: http ${httpTime.toFixed(2)} s, swarm ${swarmTime.toFixed(2)} s\n`);
      if (roundIndex < 0) continue;
      httpSeconds.push(httpTime);
      swarmSeconds.push(swarmTime);
    }
    await swarm.stop();

    const megabytes = model.fileSize / 1e6;
    const swarmMedian = median(swarmSeconds);
    const httpMedian = median(httpSeconds);
    console.log(
      JSON.stringify({
        bench: "fetch",
        time_ratio_vs_http: round(swarmMedian / httpMedian),
        peers: peerCount,
        mb_per_s: round(megabytes / swarmMedian, 1),
        http_mb_per_s: round(megabytes / httpMedian, 1),
        model_mb: round(megabytes, 1),
        piece_kib: pieceSize / 1024,
        rounds,
        warmup_rounds: warmupRounds,
        swarm_s: swarmSeconds.map((s) => round(s)),
        http_s: httpSeconds.map((s) => round(s)),
      }),
    );
  } finally {
    for (const child of children) child.kill("SIGTERM");
    await Promise.all(children.map((child) => (child.exitCode === null ? once(child, "exit").catch(() => undefined) : undefined)));
    await rm(workDir, { recursive: true, force: true });
  }
}

await main();
