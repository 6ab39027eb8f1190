import { useId, useState } from "react";
import type { EarningsSummary } from "../../../src-contract/index.js";
import { CallErrorNotice } from "../../components/call-error-notice.js";
import { downloadTextFile } from "../../components/download-file.js";
import { formatAmount, formatNumber } from "../../components/format.js";
import { EARNING_STATE_LABELS, EARNING_STATES } from "../../components/labels.js";
import { DomainPage } from "../../components/load-gate.js";
import { Notice } from "../../components/notice.js";
import { useDomain } from "../../stores/stores-context.js";
import { EarningsChart } from "./earnings-chart.js";

const EXPORT_RANGES = [7, 30, 90, 365] as const;

export function EarningsPage({ download = downloadTextFile }: { download?: (fileName: string, text: string) => void }) {
  return (
    <DomainPage domain="earnings" title="Earnings" what="earnings" loadOnMount>
      {() => <EarningsContent download={download} />}
    </DomainPage>
  );
}

function EarningsContent({ download }: { download: (fileName: string, text: string) => void }) {
  const earnings = useDomain("earnings", (s) => s.earnings);
  if (!earnings) return null;
  if (!earnings.available) {
    return (
      <Notice title="The earnings ledger is not running on this node yet">
        <p>Receipts, holds and payouts arrive with the ledger and trust modules. Until then this node keeps no earnings, so there is nothing to total or export.</p>
      </Notice>
    );
  }
  return (
    <>
      <Totals earnings={earnings} />
      <section className="card" aria-labelledby="earnings-per-day">
        <h2 id="earnings-per-day">Per day ({earnings.unit})</h2>
        {earnings.perDay.length === 0 ? (
          <p className="muted">No receipts in the last 30 days.</p>
        ) : (
          <figure className="chart" aria-label={`Earnings per day over the last ${earnings.perDay.length} days with receipts, stacked by state`}>
            <EarningsChart perDay={earnings.perDay} unit={earnings.unit} />
          </figure>
        )}
      </section>
      <PerModel earnings={earnings} />
      <CsvExport download={download} />
    </>
  );
}

function Totals({ earnings }: { earnings: EarningsSummary }) {
  const rows = [
    ["Today", earnings.totals.today],
    ["Last 7 days", earnings.totals.last7Days],
    ["Last 30 days", earnings.totals.last30Days],
  ] as const;
  return (
    <section className="card" aria-labelledby="earnings-totals">
      <h2 id="earnings-totals">Totals ({earnings.unit})</h2>
      <div className="table-scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">Period</th>
              <StateHeaderCells />
            </tr>
          </thead>
          <tbody>
            {rows.map(([label, amounts]) => (
              <tr key={label}>
                <th scope="row">{label}</th>
                <StateAmountCells amounts={amounts} />
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function PerModel({ earnings }: { earnings: EarningsSummary }) {
  return (
    <section className="card" aria-labelledby="earnings-per-model">
      <h2 id="earnings-per-model">Per model ({earnings.unit}, last 30 days)</h2>
      {earnings.perModel.length === 0 ? (
        <p className="muted">No model has earned anything yet.</p>
      ) : (
        <div className="table-scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col" className="num">Jobs</th>
                <th scope="col" className="num">Tokens</th>
                <StateHeaderCells />
              </tr>
            </thead>
            <tbody>
              {earnings.perModel.map((row) => (
                <tr key={row.model}>
                  <th scope="row">{row.model}</th>
                  <td className="num">{formatNumber(row.jobs)}</td>
                  <td className="num">{formatNumber(row.tokens)}</td>
                  <StateAmountCells amounts={row} />
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function CsvExport({ download }: { download: (fileName: string, text: string) => void }) {
  const exporting = useDomain("earnings", (s) => s.exporting);
  const exportError = useDomain("earnings", (s) => s.exportError);
  const exportCsv = useDomain("earnings", (s) => s.exportCsv);
  const [days, setDays] = useState<number>(30);
  const [saved, setSaved] = useState<string | null>(null);
  const rangeId = useId();
  const onExport = async () => {
    setSaved(null);
    const file = await exportCsv(days);
    if (!file) return;
    download(file.fileName, file.csv);
    setSaved(file.fileName);
  };
  return (
    <section className="card" aria-labelledby="earnings-export">
      <h2 id="earnings-export">Export</h2>
      <div className="controls">
        <div className="field field--inline">
          <label htmlFor={rangeId}>Receipts from the last</label>
          <select id={rangeId} value={days} onChange={(event) => setDays(Number(event.target.value))}>
            {EXPORT_RANGES.map((range) => (
              <option key={range} value={range}>
                {range} days
              </option>
            ))}
          </select>
        </div>
        <button type="button" className="button button--primary" onClick={() => void onExport()} disabled={exporting}>
          {exporting ? "Exporting…" : "Export CSV"}
        </button>
      </div>
      <p role="status" className="muted">
        {saved ? `Saved ${saved}.` : ""}
      </p>
      {exportError ? <CallErrorNotice error={exportError} context="The export failed" /> : null}
    </section>
  );
}

/** One column per earning state, in the same order everywhere. */
function StateHeaderCells() {
  return EARNING_STATES.map((state) => (
    <th key={state} scope="col" className="num">
      {EARNING_STATE_LABELS[state]}
    </th>
  ));
}

function StateAmountCells({ amounts }: { amounts: Record<(typeof EARNING_STATES)[number], number> }) {
  return EARNING_STATES.map((state) => (
    <td key={state} className="num">
      {formatAmount(amounts[state])}
    </td>
  ));
}
