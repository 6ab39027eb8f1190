import { Bar, BarChart, CartesianGrid, Legend, Tooltip, XAxis, YAxis } from "recharts";
import type { EarningsSummary } from "../../../src-contract/index.js";
import { formatAmount } from "../../components/format.js";
import { EARNING_STATE_COLORS, EARNING_STATE_LABELS, EARNING_STATES } from "../../components/labels.js";

/** Earnings per day, one bar per day stacked by state (pending, held, payable, forfeited). */
export function EarningsChart({ perDay, unit }: { perDay: EarningsSummary["perDay"]; unit: string }) {
  return (
    <BarChart responsive data={perDay} style={{ width: "100%", height: 260 }} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
      <CartesianGrid stroke="#2a3142" vertical={false} />
      <XAxis dataKey="day" stroke="#9aa5bd" tick={{ fontSize: 12 }} />
      <YAxis stroke="#9aa5bd" tick={{ fontSize: 12 }} width={64} tickFormatter={(value: number) => formatAmount(value)} />
      <Tooltip formatter={(value) => `${formatAmount(Number(value))} ${unit}`} contentStyle={{ background: "#161b26", border: "1px solid #2a3142" }} />
      <Legend />
      {EARNING_STATES.map((state) => (
        <Bar key={state} dataKey={state} name={EARNING_STATE_LABELS[state]} stackId="earnings" fill={EARNING_STATE_COLORS[state]} isAnimationActive={false} />
      ))}
    </BarChart>
  );
}
