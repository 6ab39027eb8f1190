import { existsSync } from "node:fs";
import { open } from "node:fs/promises";
import path from "node:path";
import { Option, type Command } from "commander";
import { isInferSwarmError, peerIdOfKey, type Logger } from "../common/index.js";
import { formatMicroCredits, openLedger, type EarningState, type Ledger, type ReceiptRecord } from "../ledger/index.js";
import { identityFromBytes, readIdentityFileBytes } from "../swarm/index.js";
import { CliError, describeHome, EXIT, homeOption, nodePathsFor, type CliContext } from "./cli-context.js";
import { dateOrTime } from "./option-parsers.js";

interface RangeOptions {
  home?: string;
  since?: number;
  until?: number;
}

export interface LedgerEarningsOptions extends RangeOptions {
  json?: boolean;
}

export interface LedgerExportOptions extends RangeOptions {
  csv?: string;
  role?: "earned" | "spent";
  force?: boolean;
}

export interface LedgerVerifyOptions {
  home?: string;
  json?: boolean;
}

const addRange = (command: Command) =>
  command
    .addOption(homeOption())
    .option("--since <day|time>", "from this local day (2026-11-01) or ISO time on", dateOrTime("--since"))
    .option("--until <day|time>", "up to, not including, this local day or ISO time", dateOrTime("--until"));

export function registerLedgerCommand(program: Command, context: CliContext): void {
  const ledger = program
    .command("ledger")
    .summary("earnings, CSV export and chain verification of the node's ledger")
    .description("Read this node's earnings ledger (signed receipts in a hash chain): totals, CSV export, chain verification. Safe while the node runs.");

  addRange(ledger.command("earnings").description("Earned credits per state (pending, held, payable, forfeited), per model, and what this node spent."))
    .option("--json", "print one JSON object (amounts as exact decimal strings)")
    .action(async (options: LedgerEarningsOptions) => {
      context.exitCode = await runLedgerEarnings(options, context);
    });

  addRange(ledger.command("export").description("Export receipts as RFC 4180 CSV (one row per receipt, amounts in credits, times in UTC)."))
    .option("--csv <file>", "write to this file instead of stdout")
    .addOption(new Option("--role <role>", "only receipts this node earned, or only those it spent").choices(["earned", "spent"]))
    .option("--force", "overwrite the --csv file if it exists")
    .action(async (options: LedgerExportOptions) => {
      context.exitCode = await runLedgerExport(options, context);
    });

  ledger
    .command("verify")
    .description("Re-check the whole ledger: hash chain, every signature and the state rules. Exits 1 naming the first bad entry if it does not verify.")
    .addOption(homeOption())
    .option("--json", "print one JSON object")
    .action(async (options: LedgerVerifyOptions) => {
      context.exitCode = await runLedgerVerify(options, context);
    });
}

/**
 * Opens the node's ledger as the node does: the same identity, file and head file; opening verifies the
 * whole chain, so a broken ledger fails here with LEDGER_TAMPERED (exit 1).
 */
async function openNodeLedger(home: string | undefined, logger: Logger): Promise<Ledger> {
  const paths = nodePathsFor(home);
  const where = describeHome(home, paths);
  const file = path.join(paths.dataDir, "ledger.sqlite");
  if (!existsSync(file)) {
    throw new CliError("CLI_NO_LEDGER", `There is no ledger under ${where} (${file}); a node creates it when it first starts (\`inferswarm node\`). Give --home if the node keeps its files elsewhere.`, EXIT.failure);
  }
  const identityFile = path.join(paths.dataDir, "identity.key");
  const bytes = await readIdentityFileBytes(identityFile);
  if (!bytes) {
    throw new CliError(
      "CLI_NO_IDENTITY",
      `The ledger belongs to the identity in ${identityFile}, which is missing; a desktop node keeps its key in the OS keyring, so read its earnings in the app's Earnings page instead.`,
      EXIT.failure,
    );
  }
  try {
    return await openLedger({ path: file, headFile: path.join(paths.dataDir, "ledger.head"), peerId: peerIdOfKey(identityFromBytes(bytes, identityFile)), logger });
  } catch (error) {
    if (isInferSwarmError(error, "LEDGER_TAMPERED")) throw new CliError(error.code, error.message, EXIT.failure, { cause: error });
    throw error;
  }
}

/** Every receipt stored in [since, until), newest first, read in pages. */
function receiptsIn(ledger: Ledger, options: RangeOptions): ReceiptRecord[] {
  const since = options.since ?? 0;
  const until = options.until ?? Number.MAX_SAFE_INTEGER;
  checkRange(since, until);
  const found: ReceiptRecord[] = [];
  let before: number | undefined;
  // Each page starts below the last seq seen, so the loop ends when the chain's start is reached.
  for (;;) {
    const page = ledger.listReceipts({ limit: 1000, ...(before !== undefined && { before }) });
    if (page.length === 0) break;
    for (const record of page) if (record.recordedAt >= since && record.recordedAt < until) found.push(record);
    before = page.at(-1)!.seq;
  }
  return found;
}

function checkRange(since: number, until: number): void {
  if (since >= until) throw new CliError("CLI_BAD_RANGE", `--since (${new Date(since).toISOString()}) must be before --until (${new Date(until).toISOString()}).`);
}

const STATES: readonly EarningState[] = ["payable", "pending", "held", "forfeited"];

export async function runLedgerEarnings(options: LedgerEarningsOptions, context: CliContext): Promise<number> {
  const ledger = await openNodeLedger(options.home, context.logger());
  try {
    const receipts = receiptsIn(ledger, options);
    const earned = receipts.filter((r) => r.role === "earned");
    const spent = receipts.filter((r) => r.role === "spent");
    const byState = (records: readonly ReceiptRecord[]) => Object.fromEntries(STATES.map((state) => [state, sumMicro(records.filter((r) => r.state === state))])) as Record<EarningState, number>;
    const models = [...new Set(earned.map((r) => r.modelSha256))]
      .map((sha256) => {
        const mine = earned.filter((r) => r.modelSha256 === sha256);
        return { model: sha256, jobs: mine.length, tokens: sum(mine.map((r) => r.outputTokens)), micro: byState(mine) };
      })
      .sort((a, b) => sum(Object.values(b.micro)) - sum(Object.values(a.micro)));
    const totals = byState(earned);
    const report = {
      peerId: ledger.peerId,
      from: options.since === undefined ? null : new Date(options.since).toISOString(),
      to: options.until === undefined ? null : new Date(options.until).toISOString(),
      unit: "credits",
      earned: { ...credits(totals), jobs: earned.length, tokens: sum(earned.map((r) => r.outputTokens)) },
      perModel: models.map((m) => ({ model: m.model, jobs: m.jobs, tokens: m.tokens, ...credits(m.micro) })),
      spent: { amount: formatMicroCredits(sumMicro(spent)), jobs: spent.length, tokens: sum(spent.map((r) => r.outputTokens)) },
      chainHead: ledger.head().seq,
    };
    if (options.json) {
      context.out(JSON.stringify(report));
      return EXIT.ok;
    }
    const range = `${report.from ?? "the start"} to ${report.to ?? "now"}`;
    context.out(`Earnings of ${ledger.peerId} (${ledger.path}), ${range}:`);
    for (const state of STATES) context.out(`  ${state.padEnd(10)}${formatMicroCredits(totals[state]).padStart(16)} credits`);
    context.out(`  earned on ${earned.length} job${earned.length === 1 ? "" : "s"}, ${report.earned.tokens} tokens`);
    for (const m of models) context.out(`  model ${m.model.slice(0, 12)}: ${m.jobs} jobs, ${m.tokens} tokens, payable ${formatMicroCredits(m.micro.payable)}, pending ${formatMicroCredits(m.micro.pending + m.micro.held)}`);
    context.out(`Spent ${report.spent.amount} credits on ${spent.length} job${spent.length === 1 ? "" : "s"} as a requester.`);
    context.out("Pending: not yet verified or disputed (payable after 24 h undisputed); held: a new node's verified work, released at 5 verified jobs.");
    return EXIT.ok;
  } finally {
    ledger.close();
  }
}

export async function runLedgerExport(options: LedgerExportOptions, context: CliContext): Promise<number> {
  const since = options.since ?? 0;
  const until = options.until ?? Date.now() + 1;
  checkRange(since, until);
  const ledger = await openNodeLedger(options.home, context.logger());
  let csv: string;
  try {
    csv = ledger.exportCsv({ from: since, to: until, ...(options.role && { role: options.role }) });
  } finally {
    ledger.close();
  }
  if (!options.csv) {
    context.io.stdout(csv);
    return EXIT.ok;
  }
  const file = path.resolve(options.csv);
  let handle;
  try {
    handle = await open(file, options.force ? "w" : "wx", 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") throw new CliError("CLI_FILE_EXISTS", `${file} already exists; pass --force to overwrite it, or choose another file.`);
    throw new CliError("CLI_FILE_UNWRITABLE", `Cannot write ${file} (${code ?? (error as Error).message}); choose another file.`, EXIT.usage, { cause: error });
  }
  try {
    await handle.writeFile(csv);
  } finally {
    await handle.close();
  }
  const rows = csv.split("\r\n").filter((line) => line.length > 0).length - 1;
  context.err(`Wrote ${rows} receipt${rows === 1 ? "" : "s"} to ${file}.`);
  return EXIT.ok;
}

export async function runLedgerVerify(options: LedgerVerifyOptions, context: CliContext): Promise<number> {
  let ledger: Ledger;
  try {
    ledger = await openNodeLedger(options.home, context.logger());
  } catch (error) {
    // Scripts get the verdict on stdout too; the error line still goes to stderr.
    if (options.json && error instanceof CliError && error.code === "LEDGER_TAMPERED") {
      context.out(JSON.stringify({ ok: false, code: error.code, seq: (error.cause as { seq?: number } | undefined)?.seq ?? null, message: error.message }));
    }
    throw error;
  }
  try {
    const report = await ledger.verify();
    if (options.json) {
      context.out(JSON.stringify({ ok: true, path: ledger.path, peerId: ledger.peerId, ...report }));
    } else {
      context.out(`Ledger ${ledger.path} verifies: ${report.entries} entries, ${report.receipts} receipts, ${report.attestations} attestations; head ${report.head.seq} ${report.head.hash.slice(0, 16)}…`);
    }
    return EXIT.ok;
  } catch (error) {
    if (isInferSwarmError(error, "LEDGER_TAMPERED")) throw new CliError(error.code, error.message, EXIT.failure, { cause: error });
    throw error;
  } finally {
    ledger.close();
  }
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
const sumMicro = (records: readonly ReceiptRecord[]) => sum(records.map((r) => r.amountMicro));
const credits = (micro: Record<EarningState, number>) => Object.fromEntries(STATES.map((state) => [state, formatMicroCredits(micro[state])])) as Record<EarningState, string>;
