import type { LoadStats } from "./load-generator.js";

/** What the demo learns from one worker's dashboard bridge between progress lines. */
export interface WorkerProgress {
  name: string;
  /** False when its dashboard did not answer in time (the line says so instead of showing stale zeros). */
  reachable: boolean;
  /** Jobs with a receipt in its ledger (last 30 days). */
  jobs: number;
  /** Credits by earning state (last 30 days). */
  earnings: { pending: number; held: number; payable: number; forfeited: number };
  /** Validators' verdicts on its work, and hidden challenges. */
  verifiedPass: number;
  verifiedFail: number;
}

/** One progress line: what the clients saw, then what the workers' ledgers and validators say. */
export function describeProgress(stats: LoadStats, workers: readonly WorkerProgress[], seconds: number): string {
  const rate = seconds > 0 ? stats.completionTokens / seconds : 0;
  const clients = `${stats.completed} answered, ${stats.failed} failed${stats.throttled ? `, ${stats.throttled} throttled` : ""} · ${stats.completionTokens} tokens (${rate.toFixed(1)} tok/s)`;
  const reachable = workers.filter((w) => w.reachable);
  const sum = (pick: (w: WorkerProgress) => number) => reachable.reduce((total, w) => total + pick(w), 0);
  const earned = sum((w) => w.earnings.pending + w.earnings.held + w.earnings.payable);
  const perWorker = workers.map((w) => (w.reachable ? `${w.name} ${w.jobs}` : `${w.name} ?`)).join(" ");
  const ledger = `receipts ${sum((w) => w.jobs)} (${perWorker}) · earned ${formatCredits(earned)} cr: ${formatCredits(sum((w) => w.earnings.pending))} pending, ${formatCredits(sum((w) => w.earnings.held))} held, ${formatCredits(sum((w) => w.earnings.payable))} payable`;
  const verdicts = `verified ${sum((w) => w.verifiedPass)} pass / ${sum((w) => w.verifiedFail)} fail`;
  return `${clients} · ${ledger} · ${verdicts}`;
}

/** Small amounts keep 3 significant digits (a job earns fractions of a credit). */
export function formatCredits(credits: number): string {
  if (credits === 0) return "0";
  if (Math.abs(credits) >= 1) return credits.toFixed(3);
  return credits.toPrecision(3);
}
