import { useId, useMemo, useState, type ReactNode } from "react";
import type { TelemetryHistory } from "../../../src-contract/index.js";
import { formatNumber, formatReading } from "../../components/format.js";
import { DomainPage } from "../../components/load-gate.js";
import { Notice } from "../../components/notice.js";
import { useDomain } from "../../stores/stores-context.js";
import { TelemetryChart, type ChartLimit } from "./telemetry-chart.js";
import { gpusIn, limitsFor, seriesFor } from "./thermal-series.js";

const SOURCE_TEXT: Record<TelemetryHistory["source"], { label: string; detail: string }> = {
  live: { label: "Live readings", detail: "Read from this machine's GPU driver every few seconds." },
  fixture: { label: "Recorded fixture", detail: "A recorded nvidia-smi capture replayed on a machine without a GPU: the parser, limits and charts are real, the GPU is not this machine's." },
  none: { label: "No GPU", detail: "No GPU tooling was found (nvidia-smi or amdgpu), so there is nothing to plot. Inference runs on the CPU." },
};

const LIMIT_RED = "#f7768e";
const RESUME_AMBER = "#e0af68";

export function ThermalsPage() {
  return (
    <DomainPage domain="telemetry" title="Thermals" what="telemetry">
      {() => <ThermalsContent />}
    </DomainPage>
  );
}

function ThermalsContent() {
  const source = useDomain("telemetry", (s) => s.source);
  const samples = useDomain("telemetry", (s) => s.samples);
  const limits = useDomain("telemetry", (s) => s.limits);
  const intervalMs = useDomain("telemetry", (s) => s.intervalMs);
  const gpus = useMemo(() => gpusIn(samples), [samples]);
  const [chosen, setChosen] = useState<string | null>(null);
  const gpuId = gpus.some((g) => g.id === chosen) ? chosen! : (gpus[0]?.id ?? null);
  const pickerId = useId();
  if (!source || !limits) return null;
  const text = SOURCE_TEXT[source];
  const latestErrors = samples.at(-1)?.errors ?? [];
  return (
    <>
      <p className="source-line">
        Source: <strong className={`source source--${source}`}>{text.label}</strong> <span className="muted">{text.detail}</span>
        {intervalMs ? <span className="muted"> One sample every {formatNumber(intervalMs / 1000, 1)} s.</span> : null}
      </p>
      {latestErrors.length > 0 ? (
        <Notice title="The last reading had problems">
          <ul className="plain-list">
            {latestErrors.map((message) => (
              <li key={message}>{message}</li>
            ))}
          </ul>
        </Notice>
      ) : null}
      {gpuId === null ? (
        source === "none" ? null : <p className="muted">No GPU readings yet; they appear here as the node samples them.</p>
      ) : (
        <>
          {gpus.length > 1 ? (
            <div className="field field--inline">
              <label htmlFor={pickerId}>GPU</label>
              <select id={pickerId} value={gpuId} onChange={(event) => setChosen(event.target.value)}>
                {gpus.map((gpu) => (
                  <option key={gpu.id} value={gpu.id}>
                    {gpu.name} ({gpu.id})
                  </option>
                ))}
              </select>
            </div>
          ) : null}
          <GpuCharts gpuId={gpuId} name={gpus.find((g) => g.id === gpuId)!.name} />
        </>
      )}
    </>
  );
}

function GpuCharts({ gpuId, name }: { gpuId: string; name: string }) {
  const samples = useDomain("telemetry", (s) => s.samples);
  const policyLimits = useDomain("telemetry", (s) => s.limits)!;
  const series = useMemo(() => seriesFor(samples, gpuId), [samples, gpuId]);
  const limits = useMemo(() => limitsFor(policyLimits, samples, gpuId), [policyLimits, samples, gpuId]);
  const latest = series.at(-1);
  const temperatureLimits: ChartLimit[] = [
    { value: limits.maxTemperatureC, label: `Stop at ${limits.maxTemperatureC} °C`, color: LIMIT_RED },
    { value: limits.resumeTemperatureC, label: `Resume below ${limits.resumeTemperatureC} °C`, color: RESUME_AMBER, dashed: true },
  ];
  const powerLimits: ChartLimit[] = limits.powerLimitW === null ? [] : [{ value: limits.powerLimitW, label: `Limit ${formatNumber(limits.powerLimitW)} W`, color: LIMIT_RED }];
  const vramLimits: ChartLimit[] = limits.vramLimitGiB === null ? [] : [{ value: limits.vramLimitGiB, label: `Share ${formatNumber(limits.vramLimitGiB, 1)} GiB`, color: LIMIT_RED }];
  return (
    <section aria-labelledby="thermals-gpu">
      <h2 id="thermals-gpu">{name}</h2>
      <dl className="facts facts--row">
        <dt>Temperature</dt>
        <dd>{formatReading(latest?.temperatureC ?? null, "°C")}</dd>
        <dt>Utilization</dt>
        <dd>{formatReading(latest?.utilizationPercent ?? null, "%")}</dd>
        <dt>Power</dt>
        <dd>{formatReading(latest?.powerW ?? null, "W")}</dd>
        <dt>VRAM</dt>
        <dd>
          {formatReading(latest?.vramUsedGiB ?? null, "GiB", 1)}
          {limits.vramTotalGiB !== null ? ` of ${formatNumber(limits.vramTotalGiB, 1)} GiB` : ""}
        </dd>
      </dl>
      <div className="chart-grid">
        <ChartCard title="Temperature (°C)">
          <TelemetryChart data={series} dataKey="temperatureC" unit="°C" color="#ff9e64" limits={temperatureLimits} />
        </ChartCard>
        <ChartCard title="Utilization (%)">
          <TelemetryChart data={series} dataKey="utilizationPercent" unit="%" color="#7aa2f7" limits={[]} domain={[0, 100]} />
        </ChartCard>
        <ChartCard title="Power (W)">
          <TelemetryChart data={series} dataKey="powerW" unit="W" color="#bb9af7" limits={powerLimits} />
        </ChartCard>
        <ChartCard title="VRAM used (GiB)">
          <TelemetryChart data={series} dataKey="vramUsedGiB" unit="GiB" color="#9ece6a" limits={vramLimits} digits={1} />
        </ChartCard>
      </div>
    </section>
  );
}

function ChartCard({ title, children }: { title: string; children: ReactNode }) {
  const captionId = useId();
  return (
    <figure className="card chart" aria-labelledby={captionId}>
      <figcaption id={captionId}>{title}</figcaption>
      {children}
    </figure>
  );
}
