import { mkdir } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { createSilentLogger, type Logger } from "../common/index.js";
import { formatMicroCredits, openLedger, verifyReceipt } from "../ledger/index.js";
import { ensureSyntheticModel, PRESET_NAMES } from "../models/index.js";
import { dashboardBridgeClient, defaultNodePaths, spawnNodeProcess, type NodeProcess } from "../node/index.js";
import { describeProgress, type WorkerProgress } from "./demo-progress.js";
import { startLoadGenerator, type LoadStats } from "./load-generator.js";

/** What `npm run demo` / `inferswarm demo` accepts; one schema, so the CLI and tests agree. */
export const demoOptionsSchema = z
  .object({
    workers: z.number().int().min(1).max(8).default(3),
    preset: z.enum(PRESET_NAMES).default("small"),
    /** Stop by itself after this long; default: run until Ctrl-C. */
    durationSeconds: z.number().positive().max(86_400).optional(),
    /** OpenAI clients sending at once; default: one per worker, so every worker has work. */
    concurrency: z.number().int().min(1).max(64).optional(),
    /** Where the demo's nodes keep identity and ledger, so a second run continues the first one's ledgers. */
    home: z.string().min(1).optional(),
    apiPort: z.number().int().min(0).max(65_535).default(0),
    dashboardPort: z.number().int().min(0).max(65_535).default(0),
    /** Seconds between progress lines. */
    progressSeconds: z.number().positive().max(3600).default(5),
    /** Also print machine-readable lines (`{"event":"demo-ready"…}`, `{"event":"demo-finished"…}`). */
    json: z.boolean().default(false),
  })
  .strict();
export type DemoOptions = z.input<typeof demoOptionsSchema>;

export interface DemoIo {
  out(line: string): void;
  logger?: Logger;
  /** Resolves when the owner asks to stop (Ctrl-C); default: SIGINT or SIGTERM to this process. */
  stopRequested?: Promise<string>;
}

export interface DemoWorkerLedger {
  name: string;
  peerId: string;
  ledgerPath: string;
  /** The chain verified on open (openLedger refuses a tampered one). */
  entries: number;
  receipts: number;
  /** Receipts carrying both the requester's and this worker's valid signature. */
  countersigned: number;
  earnedMicro: number;
  byState: Record<string, number>;
}

export interface DemoSummary {
  event: "demo-finished";
  seconds: number;
  requests: Omit<LoadStats, "firstTokenMs" | "lastError"> & { medianFirstTokenMs: number | null };
  workers: DemoWorkerLedger[];
  gateway: { peerId: string; ledgerPath: string; spentReceipts: number };
}

/**
 * The main job on a machine without Electron: a real swarm on loopback made of `inferswarm node`
 * processes — workers serving a generated model (each also validating the others' answers), a gateway
 * node with the OpenAI-compatible API and the dashboard — and OpenAI-style clients sending it work.
 * Returns the exit code; every node's ledger is kept under `home`.
 */
export async function runLocalSwarmDemo(input: DemoOptions, io: DemoIo): Promise<{ exitCode: number; summary: DemoSummary | null }> {
  const parsed = demoOptionsSchema.parse(input);
  const options = { ...parsed, concurrency: parsed.concurrency ?? parsed.workers };
  const logger = io.logger ?? createSilentLogger();
  const out = io.out;
  const home = path.resolve(options.home ?? path.join(defaultNodePaths().dataDir, "demo"));
  await mkdir(home, { recursive: true });
  const started = Date.now();
  const elapsed = () => formatElapsed(Date.now() - started);
  const stop = io.stopRequested ?? stopSignal();
  let stopReason: string | null = null;
  void stop.then((reason) => (stopReason = reason));

  const nodes: { name: string; node: NodeProcess }[] = [];
  // If this process dies some other way, its nodes must not outlive it.
  const killAll = () => nodes.forEach(({ node }) => node.proc.kill("SIGKILL"));
  process.once("exit", killAll);

  try {
    out(`demo: a local swarm on 127.0.0.1 — ${options.workers} workers, a gateway, ${options.concurrency} OpenAI clients; nodes keep their ledgers in ${home}`);
    out(`demo: model: preparing the generated "${options.preset}" model (F32)…`);
    const modelStarted = Date.now();
    const model = await ensureSyntheticModel({ preset: options.preset, seed: 1, quantization: "F32", peaky: true });
    out(`demo: model: ${path.basename(model.path)} ${(model.fileSize / 1e6).toFixed(1)} MB, sha256 ${model.sha256.slice(0, 12)}… (${model.fromCache ? "cached" : `generated in ${((Date.now() - modelStarted) / 1000).toFixed(1)} s`})`);

    const workerArgs = ["--model", options.preset, "--quantization", "F32", "--threads", "1", "--max-jobs", "1", "--mode", "always", "--dashboard-port", "0"];
    const startWorker = async (index: number, bootstrap: string[]) => {
      const name = `worker-${index}`;
      const node = await spawnNodeProcess([...workerArgs, ...bootstrap.flatMap((address) => ["--bootstrap", address])], { home: path.join(home, name) });
      nodes.push({ name, node });
      out(`demo: [${elapsed()}] ${name} joined: peer …${node.peerId.slice(-8)} on ${node.addresses[0]}, serving ${options.preset} with 1 thread; dashboard ${node.dashboardUrl}`);
      return node;
    };
    const first = await startWorker(1, []);
    if (stopReason) return { exitCode: 130, summary: null };
    const rest = await Promise.all(Array.from({ length: options.workers - 1 }, (_, i) => startWorker(i + 2, [first.addresses[0]!])));
    const workers = [first, ...rest];
    if (stopReason) return { exitCode: 130, summary: null };

    const gateway = await spawnNodeProcess(
      [
        "--api-port", String(options.apiPort),
        "--dashboard-port", String(options.dashboardPort),
        "--api-model", model.path,
        ...workers.flatMap((w) => ["--bootstrap", w.addresses[0]!]),
        // Validators are the workers: a quarter of the answers are re-checked, and hidden challenges
        // (prompts the requester knows the answer to) go out about once a minute.
        "--verify-fraction", "0.25",
        "--challenge-minutes", "1",
      ],
      { home: path.join(home, "gateway") },
    );
    nodes.push({ name: "gateway", node: gateway });
    out(`demo: [${elapsed()}] gateway joined: peer …${gateway.peerId.slice(-8)}; it routes API requests into the swarm and pays workers with signed receipts`);

    const modelId = await waitForModel(gateway.apiUrl!, gateway.apiKey!, stop);
    if (!modelId) return { exitCode: 130, summary: null };
    out("");
    out(`  Dashboard:  ${gateway.dashboardUrl}`);
    out(`  OpenAI API: ${gateway.apiUrl}   key ${gateway.apiKey}   model "${modelId}"`);
    out(`  Try:        curl -s ${gateway.apiUrl}/chat/completions -H 'authorization: Bearer ${gateway.apiKey}' -H 'content-type: application/json' -d '{"model":"${modelId}","messages":[{"role":"user","content":"Hello"}],"max_tokens":32}'`);
    out(`  Stop:       Ctrl-C (the ledgers stay in ${home})`);
    out("");
    if (options.json) out(JSON.stringify({ event: "demo-ready", dashboardUrl: gateway.dashboardUrl, apiUrl: gateway.apiUrl, apiKey: gateway.apiKey, model: modelId, home, gatewayPid: gateway.proc.pid, workers: workers.map((w) => ({ peerId: w.peerId, pid: w.proc.pid, dashboardUrl: w.dashboardUrl })) }));

    const load = startLoadGenerator({ apiUrl: gateway.apiUrl!, apiKey: gateway.apiKey!, model: modelId, concurrency: options.concurrency, thinkTimeMs: 200, maxTokens: { min: 24, max: 64 }, logger });
    const dashboards = workers.map((w, i) => ({ name: `worker-${i + 1}`, api: dashboardBridgeClient(w.dashboardUrl!, { timeoutMs: 3_000 }) }));
    const ticker = setInterval(() => {
      void pollWorkers(dashboards).then((progress) => out(`demo: [${elapsed()}] ${describeProgress(load.stats(), progress, (Date.now() - started) / 1000)}`));
    }, options.progressSeconds * 1000);
    const finished = options.durationSeconds === undefined ? stop : Promise.race([stop, sleep(options.durationSeconds * 1000).then(() => "time is up")]);
    const reason = await finished;
    clearInterval(ticker);

    out(`demo: [${elapsed()}] stopping (${reason}): letting answers in flight finish, then stopping the gateway and the workers…`);
    await load.stop(20_000);
    await gateway.shutdown();
    await Promise.all(workers.map((w) => w.shutdown()));
    const stats = load.stats();
    const workerLedgers = await Promise.all(workers.map((w, i) => readWorkerLedger(`worker-${i + 1}`, w.peerId, path.join(home, `worker-${i + 1}`, "data", "ledger.sqlite"))));
    const gatewayLedgerPath = path.join(home, "gateway", "data", "ledger.sqlite");
    const gatewayLedger = await openLedger({ path: gatewayLedgerPath, peerId: gateway.peerId, headFile: path.join(home, "gateway", "data", "ledger.head"), logger });
    const spentReceipts = gatewayLedger.listReceipts({ role: "spent", limit: 100_000 }).length;
    gatewayLedger.close();

    const summary: DemoSummary = {
      event: "demo-finished",
      seconds: Math.round((Date.now() - started) / 1000),
      requests: { sent: stats.sent, completed: stats.completed, failed: stats.failed, throttled: stats.throttled, completionTokens: stats.completionTokens, medianFirstTokenMs: median(stats.firstTokenMs) },
      workers: workerLedgers,
      gateway: { peerId: gateway.peerId, ledgerPath: gatewayLedgerPath, spentReceipts },
    };
    out(`demo: [${elapsed()}] ${stats.completed} requests answered, ${stats.failed} failed, ${stats.throttled} throttled (429), ${stats.completionTokens} tokens`);
    for (const w of workerLedgers) {
      const states = Object.entries(w.byState).map(([state, n]) => `${n} ${state}`).join(", ");
      out(`demo: ${w.name} ledger: ${w.receipts} receipts (${w.countersigned} signed by both sides; ${states || "none yet"}), earned ${formatMicroCredits(w.earnedMicro)} credits; chain of ${w.entries} entries verified — ${w.ledgerPath}`);
    }
    out(`demo: gateway ledger: ${spentReceipts} receipts paid — ${gatewayLedgerPath}`);
    out(`demo: check a ledger yourself: inferswarm ledger verify --home ${path.join(home, "worker-1")}`);
    if (options.json) out(JSON.stringify(summary));
    return { exitCode: stopReason ? 130 : 0, summary };
  } finally {
    // Whatever happened above, no node process is left behind; the ones already stopped return at once.
    await Promise.all(nodes.map(({ node }) => node.shutdown(10_000)));
    process.removeListener("exit", killAll);
  }
}

async function readWorkerLedger(name: string, peerId: string, ledgerPath: string): Promise<DemoWorkerLedger> {
  const ledger = await openLedger({ path: ledgerPath, peerId, headFile: ledgerPath.replace(/ledger\.sqlite$/, "ledger.head") });
  try {
    const report = await ledger.verify();
    const records = ledger.listReceipts({ role: "earned", limit: 100_000 });
    let countersigned = 0;
    for (const record of records) {
      const stored = ledger.getReceipt(record.receiptId);
      if (!stored) continue;
      try {
        await verifyReceipt(stored.receipt, { requireCountersign: true });
        countersigned += 1;
      } catch {
        // Counted as not countersigned: a receipt whose worker signature is missing or wrong.
      }
    }
    const byState: Record<string, number> = {};
    for (const record of records) byState[record.state] = (byState[record.state] ?? 0) + 1;
    const earnedMicro = records.filter((r) => r.state !== "forfeited").reduce((sum, r) => sum + r.amountMicro, 0);
    return { name, peerId, ledgerPath, entries: report.entries, receipts: records.length, countersigned, earnedMicro, byState };
  } finally {
    ledger.close();
  }
}

async function pollWorkers(dashboards: { name: string; api: ReturnType<typeof dashboardBridgeClient> }[]): Promise<WorkerProgress[]> {
  return Promise.all(
    dashboards.map(async ({ name, api }) => {
      try {
        const [earnings, reputation] = await Promise.all([api.getEarnings({}), api.getReputation({})]);
        const verdicts = reputation.history.filter((entry) => entry.kind === "verification" || entry.kind === "challenge");
        return {
          name,
          reachable: true,
          jobs: earnings.perModel.reduce((sum, m) => sum + m.jobs, 0),
          earnings: earnings.totals.last30Days,
          verifiedPass: verdicts.filter((v) => v.verdict === "pass").length,
          verifiedFail: verdicts.filter((v) => v.verdict === "fail").length,
        };
      } catch {
        return { name, reachable: false, jobs: 0, earnings: { pending: 0, held: 0, payable: 0, forfeited: 0 }, verifiedPass: 0, verifiedFail: 0 };
      }
    }),
  );
}

/** Polls the gateway's /v1/models until the workers' adverts have arrived (bounded); null if stopped first. */
async function waitForModel(apiUrl: string, apiKey: string, stop: Promise<string>): Promise<string | null> {
  let stopped = false;
  void stop.then(() => (stopped = true));
  const deadline = Date.now() + 60_000;
  while (!stopped) {
    try {
      const response = await fetch(`${apiUrl}/models`, { headers: { authorization: `Bearer ${apiKey}` }, signal: AbortSignal.timeout(5_000) });
      const body = (await response.json()) as { data?: { id: string }[] };
      if (body.data && body.data.length > 0) return body.data[0]!.id;
    } catch {
      // The gateway is still starting; try again.
    }
    if (Date.now() > deadline) throw new Error("The gateway saw no worker's advert within 60 s; the workers' output above says why they did not join.");
    await sleep(250);
  }
  return null;
}

function stopSignal(): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.removeListener("SIGINT", onSignal);
      process.removeListener("SIGTERM", onSignal);
      resolve(signal === "SIGINT" ? "Ctrl-C" : signal);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.floor(sorted.length / 2)]!);
}

function formatElapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
