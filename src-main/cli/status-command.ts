import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { dashboardBridgeClient } from "../node/index.js";
import { CliError, describeHome, EXIT, homeOption, nodePathsFor, type CliContext } from "./cli-context.js";
import { processIsAlive, readNodeRuntime } from "./node-runtime-file.js";
import { positiveInt } from "./option-parsers.js";

export interface StatusCommandOptions {
  home?: string;
  json?: boolean;
  timeout: number;
}

/** Each bridge call is bounded: a frozen node must not hang `status`. */
const DEFAULT_TIMEOUT_MS = 5000;

export function registerStatusCommand(program: Command, context: CliContext): void {
  program
    .command("status")
    .summary("peers, models, mode, earnings and reputation of the running node")
    .description(
      "Ask the node running under --home (through its dashboard bridge on 127.0.0.1) for its peers, models, mode, earnings and reputation. " +
        "Exits 1 when no node runs there.",
    )
    .addOption(homeOption())
    .option("--json", "print one JSON object: {runtime, status, earnings, reputation}")
    .option("--timeout <ms>", "how long each question to the node may take", positiveInt("--timeout"), DEFAULT_TIMEOUT_MS)
    .action(async (options: StatusCommandOptions) => {
      context.exitCode = await runStatus(options, context);
    });
}

export async function runStatus(options: StatusCommandOptions, context: CliContext): Promise<number> {
  const paths = nodePathsFor(options.home);
  const home = describeHome(options.home, paths);
  const runtime = await readNodeRuntime(paths.dataDir);
  if (!runtime || !processIsAlive(runtime.pid)) {
    throw new CliError("CLI_NO_NODE_RUNNING", `no node is running under ${home}; start one with \`inferswarm node${options.home ? ` --home ${options.home}` : ""}\`.`, EXIT.failure);
  }
  if (!runtime.dashboardOrigin) {
    throw new CliError(
      "CLI_NODE_WITHOUT_DASHBOARD",
      `The ${runtime.role} under ${home} (pid ${runtime.pid}) runs without its dashboard, which status asks through; restart it without --no-dashboard.`,
      EXIT.failure,
    );
  }
  const tokenFile = path.join(paths.dataDir, "dashboard.token");
  let token: string;
  try {
    token = (await readFile(tokenFile, "utf8")).trim();
  } catch (error) {
    throw new CliError("CLI_NO_DASHBOARD_TOKEN", `Cannot read the dashboard token ${tokenFile} (${(error as NodeJS.ErrnoException).code ?? "unreadable"}); run status as the user who runs the node.`, EXIT.failure, { cause: error });
  }
  // The same client the browser dashboard and the demo use; the token goes in the URL's fragment, as the node prints it.
  const api = dashboardBridgeClient(`${runtime.dashboardOrigin}/#token=${token}`, { timeoutMs: options.timeout });
  let answers;
  try {
    const [status, earnings, reputation] = await Promise.all([api.getStatus({}), api.getEarnings({}), api.getReputation({})]);
    answers = { status, earnings, reputation };
  } catch (error) {
    throw new CliError(
      "CLI_NODE_UNREACHABLE",
      `The ${runtime.role} under ${home} (pid ${runtime.pid}) did not answer at ${runtime.dashboardOrigin}: ${(error as Error).message}. It may be starting, stopping or stuck; try again, or look at its output.`,
      EXIT.failure,
      { cause: error },
    );
  }
  if (options.json) {
    context.out(JSON.stringify({ runtime, ...answers }));
    return EXIT.ok;
  }
  const { status, earnings, reputation } = answers;
  const out = context.out;
  out(`${runtime.role} ${status.peerId} (pid ${runtime.pid}), up ${formatDuration(Date.now() - status.startedAt)}`);
  out(`  mode: ${status.mode} (${status.tray})${status.decision ? `: ${status.decision.reason}` : ""}`);
  out(`  peers: ${status.peers} connected, ${status.workersSeen} workers seen`);
  if (status.models.length === 0) out("  models: none served (requester only)");
  for (const m of status.models) out(`  model: ${m.name} ${m.quantization} ${m.sha256.slice(0, 12)}, ${m.tokensPerSecond.toFixed(0)} tok/s, ${m.active} running, ${m.queued} queued`);
  out(`  jobs: ${status.jobs.answered} answered, ${status.jobs.failed} failed, ${status.jobs.gone} requester gone, ${status.jobs.tokensGenerated} tokens`);
  const month = earnings.totals.last30Days;
  out(`  earnings (30 days, ${earnings.unit}): payable ${month.payable}, pending ${month.pending}, held ${month.held}, forfeited ${month.forfeited}`);
  out(`  reputation: ${reputation.available && reputation.score !== null ? `${reputation.score.toFixed(2)} (${reputation.tier ?? "unknown tier"})` : "not judged yet"}`);
  if (runtime.apiUrl) out(`  OpenAI-compatible API: ${runtime.apiUrl}`);
  out(`  dashboard: ${runtime.dashboardOrigin}/#token=… (the full URL is printed by the node)`);
  return EXIT.ok;
}

function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
