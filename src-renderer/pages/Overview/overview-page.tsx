import { useId } from "react";
import type { ContributionMode } from "../../../src-contract/index.js";
import { CallErrorNotice } from "../../components/call-error-notice.js";
import { formatDuration, formatNumber } from "../../components/format.js";
import { MODE_LABELS, MODES, TRAY_LABELS } from "../../components/labels.js";
import { DomainPage } from "../../components/load-gate.js";
import { ToggleSwitch } from "../../components/toggle-switch.js";
import { useDomain } from "../../stores/stores-context.js";
import { AddressList } from "../../components/address-list.js";

export function OverviewPage({ now = Date.now }: { now?: () => number }) {
  return (
    <DomainPage domain="status" title="Overview" what="the node's status">
      {() => <OverviewContent now={now} />}
    </DomainPage>
  );
}

function OverviewContent({ now }: { now: () => number }) {
  const status = useDomain("status", (s) => s.status);
  const updating = useDomain("status", (s) => s.updating);
  const actionError = useDomain("status", (s) => s.actionError);
  const setPaused = useDomain("status", (s) => s.setPaused);
  const setMode = useDomain("status", (s) => s.setMode);
  const modeId = useId();
  if (!status) return null;
  return (
    <>
      <section className="card" aria-labelledby="overview-state">
        <h2 id="overview-state">Contribution</h2>
        <p className={`tray-state tray-state--${status.tray}`}>{TRAY_LABELS[status.tray]}</p>
        <p className="reason">{status.decision?.reason ?? "The node has not decided yet: its policy runs once models are loaded."}</p>
        <div className="controls">
          <ToggleSwitch
            label="Pause contributing"
            checked={status.mode === "paused"}
            busy={updating}
            onChange={(paused) => void setPaused(paused)}
            description={status.mode === "paused" ? `Resuming goes back to "${MODE_LABELS[status.resumeMode]}".` : undefined}
          />
          <div className="field field--inline">
            <label htmlFor={modeId}>Mode</label>
            <select id={modeId} value={status.mode} disabled={updating} onChange={(event) => void setMode(event.target.value as ContributionMode)}>
              {MODES.map((mode) => (
                <option key={mode} value={mode}>
                  {MODE_LABELS[mode]}
                </option>
              ))}
            </select>
          </div>
        </div>
        {actionError ? <CallErrorNotice error={actionError} context="The node did not accept the change" /> : null}
      </section>

      <div className="grid">
        <section className="card" aria-labelledby="overview-node">
          <h2 id="overview-node">This node</h2>
          <dl className="facts">
            <dt>Peer id</dt>
            <dd>
              <code className="break">{status.peerId}</code>
            </dd>
            <dt>Peers connected</dt>
            <dd>{formatNumber(status.peers)}</dd>
            <dt>Workers seen</dt>
            <dd>{formatNumber(status.workersSeen)}</dd>
            <dt>Running for</dt>
            <dd>{formatDuration(now() - status.startedAt)}</dd>
          </dl>
          {status.addresses.length > 0 ? (
            <details>
              <summary>Listening addresses ({status.addresses.length})</summary>
              <AddressList addresses={status.addresses} />
            </details>
          ) : null}
        </section>

        <section className="card" aria-labelledby="overview-jobs">
          <h2 id="overview-jobs">Jobs served</h2>
          <dl className="facts">
            <dt>Answered</dt>
            <dd>{formatNumber(status.jobs.answered)}</dd>
            <dt>Failed</dt>
            <dd>{formatNumber(status.jobs.failed)}</dd>
            <dt>Requester gone</dt>
            <dd>{formatNumber(status.jobs.gone)}</dd>
            <dt>Tokens generated</dt>
            <dd>{formatNumber(status.jobs.tokensGenerated)}</dd>
          </dl>
        </section>
      </div>

      <section className="card" aria-labelledby="overview-models">
        <h2 id="overview-models">Served models</h2>
        {status.models.length === 0 ? (
          <p className="muted">This node serves no model: start it with a model (--model) to contribute.</p>
        ) : (
          <div className="table-scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  <th scope="col">Quantization</th>
                  <th scope="col" className="num">Threads</th>
                  <th scope="col" className="num">Tokens/s</th>
                  <th scope="col" className="num">Running</th>
                  <th scope="col" className="num">Queued</th>
                </tr>
              </thead>
              <tbody>
                {status.models.map((model) => (
                  <tr key={model.sha256}>
                    <th scope="row">{model.name}</th>
                    <td>{model.quantization}</td>
                    <td className="num">{model.threads}</td>
                    <td className="num">{formatNumber(model.tokensPerSecond, 1)}</td>
                    <td className="num">{model.active}</td>
                    <td className="num">{model.queued}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}
