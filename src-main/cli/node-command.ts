import path from "node:path";
import { createLogger } from "../common/index.js";
import { defaultNodePaths, parseNodeConfig, readNodeConfigFile, startNode, type NodeEvent, type RunningNode } from "../node/index.js";

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
}

/** `inferswarm node`: runs a headless node until SIGINT/SIGTERM, printing what it does. */
export async function runNodeCommand(options: NodeCommandOptions): Promise<number> {
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
      ...(options.mode && { policy: { ...(fileConfig.policy as object | undefined), mode: options.mode } }),
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
  const node = await startNode(config, { paths, logger });
  printStartup(node, out, options.readyJson ?? false);
  node.onEvent((event) => out(describeEvent(event)));

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      out(`node: ${signal}: stopping (running jobs are told to fail over)…`);
      resolve();
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
  await node.stop();
  out("node: stopped");
  return 0;
}

function printStartup(node: RunningNode, out: (line: string) => void, readyJson: boolean) {
  const status = node.status();
  if (readyJson) out(JSON.stringify({ event: "ready", peerId: status.peerId, addresses: status.addresses, models: status.models.map((m) => m.sha256) }));
  out(`node: peer id ${status.peerId}`);
  for (const address of status.addresses) out(`node: listening on ${address}`);
  if (status.models.length === 0) out("node: serving no models (requester only)");
  for (const m of status.models) out(`node: serving ${m.name} ${m.quantization} sha256 ${m.sha256.slice(0, 12)}, ${m.threads} threads, ${m.tokensPerSecond.toFixed(0)} tok/s measured`);
  if (node.inventory) {
    const gpus = node.inventory.cpuOnly ? "no GPU (CPU inference)" : node.inventory.gpus.map((g) => `${g.vendor} ${g.model}`).join(", ");
    out(`node: hardware: ${gpus}`);
  }
  if (status.decision) out(`node: policy: ${status.decision.reason}`);
}

function describeEvent(event: NodeEvent): string {
  switch (event.type) {
    case "job": {
      const o = event.outcome;
      return `job ${o.jobId} from ${o.peerId.slice(-8)}: ${o.outcome}${o.code ? ` ${o.code}` : ""}, ${o.generatedTokens} tokens in ${o.durationMs.toFixed(0)} ms`;
    }
    case "decision":
      return `policy: ${event.decision.reason}`;
    case "peer":
      return `peer ${event.peerId.slice(-8)} ${event.connected ? "connected" : "disconnected"}`;
  }
}
