import { CartesianGrid, Line, LineChart, ReferenceLine, Tooltip, XAxis, YAxis } from "recharts";
import { formatClock, formatNumber } from "../../components/format.js";
import type { GpuChartPoint } from "./thermal-series.js";

export interface ChartLimit {
  value: number;
  label: string;
  color: string;
  dashed?: boolean;
}

/** One reading over time as a line, with the owner's limits as horizontal reference lines. */
export function TelemetryChart({
  data,
  dataKey,
  unit,
  color,
  limits,
  domain,
  digits = 0,
}: {
  data: GpuChartPoint[];
  dataKey: Exclude<keyof GpuChartPoint, "at">;
  unit: string;
  color: string;
  limits: ChartLimit[];
  domain?: [number, number];
  digits?: number;
}) {
  return (
    <LineChart responsive data={data} style={{ width: "100%", height: 200 }} margin={{ top: 12, right: 16, bottom: 0, left: 0 }}>
      <CartesianGrid stroke="#2a3142" />
      <XAxis dataKey="at" type="number" scale="time" domain={["dataMin", "dataMax"]} tickFormatter={formatClock} stroke="#9aa5bd" tick={{ fontSize: 12 }} minTickGap={40} />
      <YAxis domain={domain ?? ["auto", "auto"]} stroke="#9aa5bd" tick={{ fontSize: 12 }} width={48} unit={unit === "%" ? "%" : undefined} />
      <Tooltip
        labelFormatter={(at) => formatClock(Number(at))}
        formatter={(value) => [value == null ? "—" : `${formatNumber(Number(value), digits)} ${unit}`, ""]}
        contentStyle={{ background: "#161b26", border: "1px solid #2a3142" }}
      />
      {limits.map((limit) => (
        <ReferenceLine
          key={limit.label}
          y={limit.value}
          stroke={limit.color}
          strokeDasharray={limit.dashed ? "4 4" : undefined}
          ifOverflow="extendDomain"
          label={{ value: limit.label, position: "insideTopRight", fill: limit.color, fontSize: 12 }}
        />
      ))}
      <Line type="monotone" dataKey={dataKey} stroke={color} dot={false} strokeWidth={2} isAnimationActive={false} connectNulls={false} />
    </LineChart>
  );
}
