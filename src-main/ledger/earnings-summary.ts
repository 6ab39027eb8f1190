import type { DatabaseSync } from "node:sqlite";
import { microToCredits } from "./credits.js";
import type { EarningState } from "./ledger-entries.js";
import { lastLocalDays } from "./local-days.js";

/** Credits per earnings state (converted from exact micro-credit sums). */
export interface EarningAmounts {
  pending: number;
  held: number;
  payable: number;
  forfeited: number;
}

/**
 * This node's earnings as the dashboard's `EarningsSummary` wants them (src-contract/dashboard-api.ts):
 * same field names and units, so the dashboard adds `available: true` and model names and is done.
 * Receipts count on the local day they were stored, in their current state.
 */
export interface LedgerEarningsSummary {
  unit: "credits";
  totals: { today: EarningAmounts; last7Days: EarningAmounts; last30Days: EarningAmounts };
  /** Oldest first; only days with at least one earned receipt, within the last `days` days. */
  perDay: Array<EarningAmounts & { day: string; tokens: number }>;
  /** Models by sha256 (the dashboard maps them to names), largest earnings first, at most 64; within `days`. */
  perModel: Array<EarningAmounts & { model: string; tokens: number; jobs: number }>;
  /** What this node paid as a requester (credits, and jobs). */
  spent: { today: number; last7Days: number; last30Days: number; jobsLast30Days: number };
}

export const SUMMARY_LIMITS = { maxModels: 64, maxDays: 366 } as const;

const STATES: readonly EarningState[] = ["pending", "held", "payable", "forfeited"];

function toCredits(micro: Record<EarningState, number>): EarningAmounts {
  return { pending: microToCredits(micro.pending), held: microToCredits(micro.held), payable: microToCredits(micro.payable), forfeited: microToCredits(micro.forfeited) };
}

const zeroMicro = (): Record<EarningState, number> => ({ pending: 0, held: 0, payable: 0, forfeited: 0 });

export function summarizeEarnings(db: DatabaseSync, options: { now: number; days: number; timeZone: string }): LedgerEarningsSummary {
  const days = Math.max(1, Math.min(SUMMARY_LIMITS.maxDays, Math.floor(options.days)));
  // Totals need 30 days whatever the chart shows.
  const span = lastLocalDays(options.now, Math.max(days, 30), options.timeZone);
  const spanJson = JSON.stringify(span.map((d) => [d.day, d.startMs, d.endMs]));
  const perDayRows = db
    .prepare(
      `WITH days(day, start_ms, end_ms) AS (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]') FROM json_each(?))
       SELECT d.day AS day, r.role AS role, r.state AS state, SUM(r.amount_micro) AS amount, SUM(r.output_tokens) AS tokens, COUNT(*) AS jobs
       FROM days d JOIN receipts r ON r.recorded_at >= d.start_ms AND r.recorded_at < d.end_ms
       GROUP BY d.day, r.role, r.state`,
    )
    .all(spanJson);

  const earnedByDay = new Map<string, { micro: Record<EarningState, number>; tokens: number }>();
  const spentByDay = new Map<string, { micro: number; jobs: number }>();
  for (const row of perDayRows) {
    const day = row.day as string;
    if (row.role === "spent") {
      const spent = spentByDay.get(day) ?? { micro: 0, jobs: 0 };
      spent.micro += Number(row.amount);
      spent.jobs += Number(row.jobs);
      spentByDay.set(day, spent);
      continue;
    }
    const entry = earnedByDay.get(day) ?? { micro: zeroMicro(), tokens: 0 };
    entry.micro[row.state as EarningState] += Number(row.amount);
    entry.tokens += Number(row.tokens);
    earnedByDay.set(day, entry);
  }

  const total = (lastDays: number) => {
    const micro = zeroMicro();
    let spent = 0;
    let spentJobs = 0;
    for (const d of span.slice(-lastDays)) {
      const earned = earnedByDay.get(d.day);
      if (earned) for (const state of STATES) micro[state] += earned.micro[state];
      spent += spentByDay.get(d.day)?.micro ?? 0;
      spentJobs += spentByDay.get(d.day)?.jobs ?? 0;
    }
    return { amounts: toCredits(micro), spent: microToCredits(spent), spentJobs };
  };
  const today = total(1);
  const week = total(7);
  const month = total(30);

  const window = span.slice(-days);
  const perDay = window.flatMap((d) => {
    const earned = earnedByDay.get(d.day);
    return earned ? [{ day: d.day, ...toCredits(earned.micro), tokens: earned.tokens }] : [];
  });

  const modelRows = db
    .prepare(
      `SELECT model_sha256 AS model, state, SUM(amount_micro) AS amount, SUM(output_tokens) AS tokens, COUNT(*) AS jobs
       FROM receipts WHERE role = 'earned' AND recorded_at >= ? AND recorded_at < ? GROUP BY model_sha256, state`,
    )
    .all(window[0]!.startMs, window.at(-1)!.endMs);
  const byModel = new Map<string, { micro: Record<EarningState, number>; tokens: number; jobs: number }>();
  for (const row of modelRows) {
    const entry = byModel.get(row.model as string) ?? { micro: zeroMicro(), tokens: 0, jobs: 0 };
    entry.micro[row.state as EarningState] += Number(row.amount);
    entry.tokens += Number(row.tokens);
    entry.jobs += Number(row.jobs);
    byModel.set(row.model as string, entry);
  }
  const perModel = [...byModel]
    .sort(([, a], [, b]) => sumMicro(b.micro) - sumMicro(a.micro) || b.jobs - a.jobs)
    .slice(0, SUMMARY_LIMITS.maxModels)
    .map(([model, entry]) => ({ model, ...toCredits(entry.micro), tokens: entry.tokens, jobs: entry.jobs }));

  return {
    unit: "credits",
    totals: { today: today.amounts, last7Days: week.amounts, last30Days: month.amounts },
    perDay,
    perModel,
    spent: { today: today.spent, last7Days: week.spent, last30Days: month.spent, jobsLast30Days: month.spentJobs },
  };
}

function sumMicro(micro: Record<EarningState, number>): number {
  return micro.pending + micro.held + micro.payable + micro.forfeited;
}
