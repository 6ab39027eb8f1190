import path from "node:path";
import { createDashboardServer, loadOrCreateDashboardToken, type DashboardServer } from "../api/index.js";
import { createLogger, type Logger } from "../common/index.js";
import {
  createDashboardService,
  defaultNodePaths,
  parseNodeConfig,
  readNodeConfigFile,
  startNode,
  type DashboardService,
  type NodeConfig,
  type NodeEvent,
  type NodePaths,
  type RunningNode,
  type StartNodeDeps,
  startNodeApi,
  type NodeApi,
} from "../node/index.js";

export interface NodeCommandOptions {
  config?: string;
  listen?: string[];
  bootstrap?: string[];
  mdns: boolean;
  swarmKey?: string;
  model?: string[];
  quantization?: string;
  price?: number;
  maxJobs?: number;
  threads?: number;
  mode?: string;
  hardware: boolean;
  readyJson?: boolean;
  home?: string;
  dashboard: boolean;
  dashboardPort?: number;
  replayGpu?: string;
  api: boolean;
  apiPort?: number;
  apiModel?: string[];
  verifyFraction?: number;
  challengeMinutes?: number;
}

/** Parts of the node a caller may replace: only what tests and benchmarks need. */
export type NodeCommandDeps = Pick<StartNodeDeps, "serveModelAs">;

/** `inferswarm node`: runs a headless node until SIGINT/SIGTERM, printing what it does. */
export async function runNodeCommand(options: NodeCommandOptions, deps: NodeCommandDeps = {}): Promise<number> {
  if (options.home) process.env.INFERSWARM_HOME = options.home;
  const paths = defaultNodePaths();
  const configFile = options.config ?? path.join(paths.configDir, "node.json");
  const fileConfig = (await readNodeConfigFile(configFile, { optional: options.config === undefined })) as Record<string, unknown>;
  const fileServe = Array.isArray(fileConfig.serve) ? (fileConfig.serve as unknown[]) : [];
  const config = parseNodeConfig(
    {
      ...fileConfig,
      ...(options.listen?.length && { listen: options.listen }),
      ...(options.bootstrap?.length && { bootstrap: options.bootstrap }),
      ...(!options.mdns && { mdns: false }),
      ...(options.swarmKey && { swarmKeyFile: options.swarmKey }),
      ...(options.threads && { threads: options.threads }),
      ...(!options.hardware && { hardware: false }),
      ...(options.replayGpu && { replayGpu: options.replayGpu }),
      ...overlaySection(fileConfig, "dashboard", { enabled: options.dashboard ? undefined : false, port: options.dashboardPort }),
      ...overlaySection(fileConfig, "policy", { mode: options.mode || undefined }),
      ...overlaySection(fileConfig, "api", { enabled: options.api ? undefined : false, port: options.apiPort, models: options.apiModel?.length ? options.apiModel : undefined }),
      ...overlaySection(fileConfig, "trust", { verifyFraction: options.verifyFraction, challengeEveryMinutes: options.challengeMinutes }),
      serve: options.model?.length
        ? options.model.map((model) => ({
            ...(model.endsWith(".gguf") ? { path: model } : { preset: model }),
            ...(options.quantization && { quantization: options.quantization }),
            ...(options.price !== undefined && { pricePer1kTokens: options.price }),
            ...(options.maxJobs && { maxActiveJobs: options.maxJobs }),
          }))
        : fileServe,
    },
    `${configFile} with the command-line flags`,
  );

  const logger = createLogger({ level: process.env.INFERSWARM_LOG_LEVEL ?? "warn" });
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const node = await startNode(config, { paths, logger, ...deps });
  let dashboard: { service: DashboardService; server: DashboardServer } | undefined;
  let api: NodeApi | undefined;
  try {
    api = config.api.enabled ? await startNodeApi(node, config, paths, logger) : undefined;
    dashboard = config.dashboard.enabled ? await startDashboard(node, config, paths, logger, api) : undefined;
  } catch (error) {
    await api?.close();
    await node.stop();
    throw error;
  }
  printStartup(node, out, options.readyJson ?? false, dashboard?.server.url, api);
  node.onEvent((event) => out(describeEvent(event)));

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      out(`node: ${signal}: stopping (running jobs are told to fail over)…`);
      resolve();
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
  dashboard?.service.close();
  await dashboard?.server.close();
  await api?.close();
  await node.stop();
  out("node: stopped");
  return 0;
}

/** `{[name]: file's section with the given flags over it}`, or nothing when no flag was given. */
function overlaySection(fileConfig: Record<string, unknown>, name: string, flags: Record<string, unknown>): Record<string, unknown> {
  const given = Object.fromEntries(Object.entries(flags).filter(([, value]) => value !== undefined));
  if (Object.keys(given).length === 0) return {};
  return { [name]: { ...(fileConfig[name] as object | undefined), ...given } };
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

function printStartup(node: RunningNode, out: (line: string) => void, readyJson: boolean, dashboardUrl: string | undefined, api: NodeApi | undefined) {
  const status = node.status();
  if (readyJson) {
    out(
      JSON.stringify({
        event: "ready",
        peerId: status.peerId,
        addresses: status.addresses,
        models: status.models.map((m) => m.sha256),
        dashboardUrl: dashboardUrl ?? null,
        apiUrl: api?.gateway.baseUrl ?? null,
        apiKey: api?.key ?? null,
      }),
    );
  }
  out(`node: peer id ${status.peerId}`);
  for (const address of status.addresses) out(`node: listening on ${address}`);
  if (status.models.length === 0) out("node: serving no models (requester only)");
  for (const m of status.models) out(`node: serving ${m.name} ${m.quantization} sha256 ${m.sha256.slice(0, 12)}, ${m.threads} threads, ${m.tokensPerSecond.toFixed(0)} tok/s measured`);
  if (node.inventory) {
    const gpus = node.inventory.cpuOnly ? "no GPU (CPU inference)" : node.inventory.gpus.map((g) => `${g.vendor} ${g.model}`).join(", ");
    out(`node: hardware: ${gpus}`);
  }
  if (status.decision) out(`node: policy: ${status.decision.reason}`);
  if (dashboardUrl) out(`node: dashboard ${dashboardUrl}`);
  if (api) out(`node: OpenAI-compatible API ${api.gateway.baseUrl} key ${api.key} (kept in ${api.keyFile}; also in the dashboard's Settings)`);
  out(`node: ledger ${node.earnings.ledger.path} (chain head ${node.earnings.ledger.head().seq})`);
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
  }
}
