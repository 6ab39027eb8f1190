import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { createDashboardServer, loadOrCreateDashboardToken, type DashboardServer } from "../api/index.js";
import type { Logger } from "../common/index.js";
import { PRESET_NAMES } from "../models/index.js";
import {
  createDashboardService,
  parseNodeConfig,
  readNodeConfigFile,
  startNode,
  startNodeApi,
  type DashboardService,
  type NodeApi,
  type NodeConfig,
  type NodeEvent,
  type NodePaths,
  type RunningNode,
} from "../node/index.js";
import { parseSwarmKey } from "../swarm/index.js";
import { CliError, describeHome, EXIT, homeOption, nodePathsFor, type CliContext } from "./cli-context.js";
import { processIsAlive, readNodeRuntime, removeNodeRuntime, writeNodeRuntime } from "./node-runtime-file.js";
import { collect, finiteNumber, fraction, multiaddrs, nonNegativeNumber, port, positiveInt } from "./option-parsers.js";

/** The flags `node` and `gateway` share: config file, home, network, local servers, trust. */
export interface NetworkOptions {
  config?: string;
  home?: string;
  listen: string[];
  bootstrap: string[];
  mdns: boolean;
  swarmKey?: string;
  readyJson?: boolean;
  dashboard: boolean;
  dashboardPort?: number;
  apiPort?: number;
  verifyFraction?: number;
  challengeMinutes?: number;
  printConfig?: boolean;
}

export interface NodeCommandOptions extends NetworkOptions {
  model: string[];
  quantization?: string;
  price?: number;
  maxJobs?: number;
  threads?: number;
  mode?: string;
  hardware: boolean;
  replayGpu?: string;
  api: boolean;
  apiModel: string[];
}

/** Adds the shared flags to a command (one definition, so `node` and `gateway` cannot drift apart). */
export function addNetworkOptions(command: Command): Command {
  return command
    .option("-c, --config <file>", "node config (JSON); default: node.json in the platform's config directory (under --home if given)")
    .addOption(homeOption())
    .option("--listen <multiaddr>", "listen address (repeatable), e.g. /ip4/0.0.0.0/tcp/4001", multiaddrs("--listen"), [])
    .option("--bootstrap <multiaddr>", "peer to join through, with /p2p/<id> (repeatable)", multiaddrs("--bootstrap", { peerId: true }), [])
    .option("--no-mdns", "no LAN discovery (multicast)")
    .option("--swarm-key <file>", "join a private swarm with this pre-shared key file (`inferswarm keygen` makes one)")
    .option("--ready-json", "print one JSON line with peer id, addresses and URLs once started (for scripts)")
    .option("--print-config", "print the config file's path and the settings it gives with these flags, then exit without starting")
    .option("--dashboard-port <port>", "serve the dashboard on 127.0.0.1:<port> (0: any free port; default 7480)", port("--dashboard-port"))
    .option("--no-dashboard", "do not serve the dashboard (`inferswarm status` then cannot reach this node)")
    .option("--api-port <port>", "serve the OpenAI-compatible API on 127.0.0.1:<port> (0: any free port; default 7481)", port("--api-port"))
    .option("--verify-fraction <0..1>", "fraction of this node's requests whose answers a validator re-checks (default 0.1)", fraction("--verify-fraction"))
    .option("--challenge-minutes <n>", "mean minutes between hidden challenges sent to other workers (0: none; default 10)", nonNegativeNumber("--challenge-minutes"));
}

export function registerNodeCommand(program: Command, context: CliContext): void {
  const command = program
    .command("node")
    .summary("run a node: serve models to the swarm, route jobs, dashboard and API on 127.0.0.1")
    .description("Run a headless node: serve models to the swarm when the policy allows, route jobs, and serve the dashboard and the OpenAI-compatible API on 127.0.0.1. Stops cleanly on Ctrl-C.")
    .option("-m, --model <preset|file.gguf>", `serve this model (repeatable): a GGUF file or a generated preset (${PRESET_NAMES.join(", ")})`, collect, [])
    .option("--quantization <q>", "for presets: F32, F16 or Q8_0")
    .option("--price <credits>", "price per 1k tokens", finiteNumber("--price"))
    .option("--max-jobs <n>", "jobs at once per model", positiveInt("--max-jobs"))
    .option("--threads <n>", "CPU threads (default: measured)", positiveInt("--threads"))
    .option("--mode <mode>", "contribution mode: always, when-idle, schedule, paused")
    .option("--no-hardware", "skip GPU telemetry and game detection")
    .option("--replay-gpu <name>", "no GPU here: replay a recorded nvidia-smi capture (rtx4080super, rtx4090, 2x-rtx5090) for telemetry")
    .option("--no-api", "do not serve the OpenAI-compatible API")
    .option("--api-model <file.gguf>", "a GGUF the API may serve besides the node's own models (repeatable)", collect, []);
  addNetworkOptions(command).action(async (options: NodeCommandOptions) => {
    context.exitCode = await runNodeCommand(options, context);
  });
}

/** `inferswarm node`: flags over node.json, then run until Ctrl-C/SIGTERM, printing what the node does. */
export async function runNodeCommand(options: NodeCommandOptions, context: CliContext): Promise<number> {
  const paths = nodePathsFor(options.home);
  const { file, fileConfig } = await readConfigFile(options, paths);
  const fileServe = Array.isArray(fileConfig.serve) ? (fileConfig.serve as unknown[]) : [];
  const config = parseNodeConfig(
    {
      ...fileConfig,
      ...networkOverlay(fileConfig, options),
      ...(options.threads && { threads: options.threads }),
      ...(!options.hardware && { hardware: false }),
      ...(options.replayGpu && { replayGpu: options.replayGpu }),
      ...overlaySection(fileConfig, "policy", { mode: options.mode || undefined }),
      ...overlaySection(fileConfig, "api", {
        enabled: options.api ? undefined : false,
        port: options.apiPort,
        models: options.apiModel.length ? options.apiModel : undefined,
      }),
      serve: options.model.length
        ? options.model.map((model) => ({
            ...(model.endsWith(".gguf") ? { path: model } : { preset: model }),
            ...(options.quantization && { quantization: options.quantization }),
            ...(options.price !== undefined && { pricePer1kTokens: options.price }),
            ...(options.maxJobs && { maxActiveJobs: options.maxJobs }),
          }))
        : fileServe,
    },
    `${file} with the command-line flags`,
  );
  if (options.printConfig) return printConfig(file, config, context);
  return runNetworkNode("node", config, paths, describeHome(options.home, paths), options.readyJson ?? false, context);
}

export async function readConfigFile(options: Pick<NetworkOptions, "config">, paths: NodePaths): Promise<{ file: string; fileConfig: Record<string, unknown> }> {
  const file = options.config ?? path.join(paths.configDir, "node.json");
  const read = await readNodeConfigFile(file, { optional: options.config === undefined });
  if (read === null || typeof read !== "object" || Array.isArray(read)) {
    throw new CliError("CLI_CONFIG_INVALID", `${file} must hold a JSON object (see src-main/cli/README.md for its fields).`);
  }
  return { file, fileConfig: read as Record<string, unknown> };
}

/** `--print-config`: where the file is looked for, and what the node would run with. */
export function printConfig(file: string, config: NodeConfig, context: CliContext): number {
  context.err(`config file: ${file}${existsSync(file) ? "" : " (not there: defaults and flags only)"}`);
  context.out(JSON.stringify(config, null, 2));
  return EXIT.ok;
}

/** The shared flags over the file's values (a flag not given leaves the file's value). */
export function networkOverlay(fileConfig: Record<string, unknown>, options: NetworkOptions): Record<string, unknown> {
  return {
    ...(options.listen.length && { listen: options.listen }),
    ...(options.bootstrap.length && { bootstrap: options.bootstrap }),
    ...(!options.mdns && { mdns: false }),
    ...(options.swarmKey && { swarmKeyFile: path.resolve(options.swarmKey) }),
    ...overlaySection(fileConfig, "dashboard", { enabled: options.dashboard ? undefined : false, port: options.dashboardPort }),
    ...overlaySection(fileConfig, "trust", { verifyFraction: options.verifyFraction, challengeEveryMinutes: options.challengeMinutes }),
  };
}

/** `{[name]: file's section with the given flags over it}`, or nothing when no flag was given. */
export function overlaySection(fileConfig: Record<string, unknown>, name: string, flags: Record<string, unknown>): Record<string, unknown> {
  const given = Object.fromEntries(Object.entries(flags).filter(([, value]) => value !== undefined));
  if (Object.keys(given).length === 0) return {};
  return { [name]: { ...(fileConfig[name] as object | undefined), ...given } };
}

/**
 * Starts a node (or a gateway: a node serving no model), its API and dashboard, records where they listen
 * for `inferswarm status`, then waits for Ctrl-C/SIGTERM (or the test's stop signal) and stops it all.
 */
export async function runNetworkNode(role: "node" | "gateway", config: NodeConfig, paths: NodePaths, home: string, readyJson: boolean, context: CliContext): Promise<number> {
  await checkSwarmKey(config.swarmKeyFile);
  const already = await readNodeRuntime(paths.dataDir);
  if (already && already.pid !== process.pid && processIsAlive(already.pid)) {
    throw new CliError(
      "CLI_NODE_ALREADY_RUNNING",
      `A ${already.role} (pid ${already.pid}, peer ${already.peerId}) is already running under ${home}; two nodes cannot share one identity and ledger. Stop it, or give this one another --home.`,
    );
  }
  const logger = context.logger();
  const interruption = context.interruption();
  try {
    const node = await startNode(config, { paths, logger, ...context.deps.startNodeDeps });
    let dashboard: { service: DashboardService; server: DashboardServer } | undefined;
    let api: NodeApi | undefined;
    try {
      api = config.api.enabled ? await startNodeApi(node, config, paths, logger) : undefined;
      dashboard = config.dashboard.enabled ? await startDashboard(node, config, paths, logger, api) : undefined;
      await writeNodeRuntime(paths.dataDir, {
        version: 1,
        role,
        pid: process.pid,
        peerId: node.peerId,
        startedAt: node.startedAt,
        dashboardOrigin: dashboard ? new URL(dashboard.server.url).origin : null,
        apiUrl: api?.gateway.baseUrl ?? null,
      });
    } catch (error) {
      await dashboard?.server.close();
      dashboard?.service.close();
      await api?.close();
      await node.stop();
      throw error;
    }
    printStartup(role, node, context.out, readyJson, dashboard?.server.url, api);
    const stopListening = node.onEvent((event) => context.out(describeEvent(event)));

    const { signal } = interruption;
    await new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      signal.addEventListener("abort", () => resolve(), { once: true });
    });
    context.out(`${role}: ${describeStop(signal.reason)}: stopping (running jobs are told to fail over)…`);
    stopListening();
    dashboard?.service.close();
    await dashboard?.server.close();
    await api?.close();
    await node.stop();
    await removeNodeRuntime(paths.dataDir, process.pid);
    context.out(`${role}: stopped`);
    return EXIT.ok;
  } finally {
    interruption.dispose();
  }
}

function describeStop(reason: unknown): string {
  const message = reason instanceof Error ? reason.message : "";
  return message.startsWith("SIGTERM") ? "SIGTERM" : message.startsWith("SIGINT") ? "SIGINT" : "stop requested";
}

/** A missing or malformed key file is the owner's to fix: say so before libp2p starts. */
export async function checkSwarmKey(file: string | undefined): Promise<void> {
  if (!file) return;
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new CliError("CLI_SWARM_KEY_UNREADABLE", `Cannot read the swarm key ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); check the path, or make one with \`inferswarm keygen\`.`, EXIT.usage, { cause: error });
  }
  parseSwarmKey(text);
}

/** The built renderer, when `npm run build:renderer` has run; the server explains how to build it otherwise. */
const RENDERER_DIR = path.resolve(import.meta.dirname, "../../out/renderer");

async function startDashboard(node: RunningNode, config: NodeConfig, paths: NodePaths, logger: Logger, api: NodeApi | undefined) {
  const service = await createDashboardService({
    node,
    config,
    identityStorage: { kind: "plaintext-file", note: `A headless node keeps its key in ${path.join(paths.dataDir, "identity.key")}, readable only by you (mode 0600).` },
    ownerSettingsFile: path.join(paths.dataDir, "owner-settings.json"),
    ...(api && { api: { url: api.gateway.baseUrl, key: api.key } }),
    logger,
  });
  try {
    const token = await loadOrCreateDashboardToken(path.join(paths.dataDir, "dashboard.token"));
    const server = await createDashboardServer({ handlers: service.handlers, subscribe: service.subscribe, token, port: config.dashboard.port, staticDir: RENDERER_DIR, logger });
    return { service, server };
  } catch (error) {
    service.close();
    throw error;
  }
}

function printStartup(role: "node" | "gateway", node: RunningNode, out: (line: string) => void, readyJson: boolean, dashboardUrl: string | undefined, api: NodeApi | undefined) {
  const status = node.status();
  if (readyJson) {
    out(
      JSON.stringify({
        event: "ready",
        role,
        peerId: status.peerId,
        addresses: status.addresses,
        models: status.models.map((m) => m.sha256),
        dashboardUrl: dashboardUrl ?? null,
        apiUrl: api?.gateway.baseUrl ?? null,
        apiKey: api?.key ?? null,
      }),
    );
  }
  out(`${role}: peer id ${status.peerId}`);
  for (const address of status.addresses) out(`${role}: listening on ${address}`);
  if (status.models.length === 0) out(`${role}: serving no models (requester only)`);
  for (const m of status.models) out(`${role}: serving ${m.name} ${m.quantization} sha256 ${m.sha256.slice(0, 12)}, ${m.threads} threads, ${m.tokensPerSecond.toFixed(0)} tok/s measured`);
  if (node.inventory) {
    const gpus = node.inventory.cpuOnly ? "no GPU (CPU inference)" : node.inventory.gpus.map((g) => `${g.vendor} ${g.model}`).join(", ");
    out(`${role}: hardware: ${gpus}`);
  }
  if (status.decision) out(`${role}: policy: ${status.decision.reason}`);
  if (dashboardUrl) out(`${role}: dashboard ${dashboardUrl}`);
  if (api) out(`${role}: OpenAI-compatible API ${api.gateway.baseUrl} key ${api.key} (kept in ${api.keyFile}; also in the dashboard's Settings)`);
  out(`${role}: ledger ${node.earnings.ledger.path} (chain head ${node.earnings.ledger.head().seq})`);
}

function describeEvent(event: NodeEvent): string {
  switch (event.type) {
    case "job": {
      const o = event.outcome;
      return `job ${o.jobId} from ${o.peerId.slice(-8)}: ${o.outcome}${o.code ? ` ${o.code}` : ""}, ${o.generatedTokens} tokens in ${o.durationMs.toFixed(0)} ms`;
    }
    case "job-started":
      return `job ${event.jobId} from ${event.peerId.slice(-8)}: started`;
    case "decision":
      return `policy: ${event.decision.reason}`;
    case "peer":
      return `peer ${event.peerId.slice(-8)} ${event.connected ? "connected" : "disconnected"}`;
    case "speculation": {
      const st = event.stats;
      return event.draftPeerId
        ? `speculation: draft ${event.draftPeerId.slice(-8)} proposed ${st.draftedTokens} tokens, ${st.acceptedTokens} accepted in ${st.rounds} rounds`
        : `speculation: no draft near enough; decoded alone`;
    }
    case "model-download": {
      const d = event.download;
      const done = d.totalBytes > 0 ? ` ${((100 * d.receivedBytes) / d.totalBytes).toFixed(0)}%` : "";
      return `model ${d.name}: ${d.state}${done}${d.error ? ` (${d.error})` : ""}`;
    }
  }
}

