import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";

const repoRoot = path.resolve(import.meta.dirname, "../..");

export interface NodeProcess {
  proc: ChildProcess;
  peerId: string;
  addresses: string[];
  /** Set when the node was started with --dashboard-port. */
  dashboardUrl: string | null;
  /** Set when the node was started with --api-port: the OpenAI-compatible base URL and its key. */
  apiUrl: string | null;
  apiKey: string | null;
  output: string[];
  /** Kills the process at once (SIGKILL): what a crash looks like to the swarm. */
  stop(): Promise<void>;
  /** Asks the node to stop (SIGTERM: it settles receipts and closes its ledger), then kills it after `timeoutMs`. */
  shutdown(timeoutMs?: number): Promise<void>;
}

/**
 * Starts `inferswarm node` as a separate process listening on 127.0.0.1 with its own home folder, and
 * waits (bounded) for its ready line. Local swarms (tests, benchmarks, the demo) are made of these, so a
 * worker can really be killed or frozen.
 */
export interface SpawnNodeOptions {
  readyTimeoutMs?: number;
  /** "cheating-node": a dishonest worker for trust tests (src-main/cli/cheating-node.test-child.ts), configured by `env`. */
  entry?: "inferswarm" | "cheating-node";
  env?: Record<string, string>;
  /** Keep the node's config, identity and ledger here (the demo reuses them across runs); default: a new temp folder. */
  home?: string;
}

const ENTRIES = {
  inferswarm: [path.join(repoRoot, "bin/inferswarm.js")],
  "cheating-node": ["--import", "tsx", path.join(repoRoot, "src-main/cli/cheating-node.test-child.ts")],
} as const;

export async function spawnNodeProcess(args: string[], options: SpawnNodeOptions = {}): Promise<NodeProcess> {
  const home = options.home ?? (await mkdtemp(path.join(os.tmpdir(), "inferswarm-worker-")));
  const proc = spawn(
    process.execPath,
    [...ENTRIES[options.entry ?? "inferswarm"], "node", "--home", home, "--listen", "/ip4/127.0.0.1/tcp/0", "--no-mdns", "--no-hardware", "--ready-json", ...(args.includes("--dashboard-port") ? [] : ["--no-dashboard"]),
      ...(args.includes("--api-port") ? [] : ["--no-api"]),
      // Local swarms are deterministic unless asked: no hidden challenges at random times.
      ...(args.includes("--challenge-minutes") ? [] : ["--challenge-minutes", "0"]),
      ...args,
    ],
    { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...options.env } },
  );
  const output: string[] = [];
  proc.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  const lines = createInterface({ input: proc.stdout! });
  const ready = await new Promise<{ peerId: string; addresses: string[]; dashboardUrl: string | null; apiUrl: string | null; apiKey: string | null }>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Never leave a half-started node behind: the caller gets no handle to stop it.
      proc.kill("SIGKILL");
      reject(new Error(`worker not ready within ${options.readyTimeoutMs ?? 90_000} ms:\n${output.join("")}`));
    }, options.readyTimeoutMs ?? 90_000);
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code} before it was ready:\n${output.join("")}`));
    });
    lines.on("line", (line) => {
      output.push(line);
      if (!line.startsWith('{"event":"ready"')) return;
      clearTimeout(timer);
      resolve(JSON.parse(line) as { peerId: string; addresses: string[]; dashboardUrl: string | null; apiUrl: string | null; apiKey: string | null });
    });
  });
  return {
    proc,
    ...ready,
    output,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGCONT");
      proc.kill("SIGKILL");
      await new Promise((resolve) => proc.once("exit", resolve));
    },
    async shutdown(timeoutMs = 20_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((resolve) => proc.once("exit", resolve));
      proc.kill("SIGCONT");
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
