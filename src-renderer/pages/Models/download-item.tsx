import type { ModelDownloadView } from "../../../src-contract/index.js";
import { formatBytes, formatDuration, formatNumber, shortHash } from "../../components/format.js";

const STATE_LABELS: Record<ModelDownloadView["state"], string> = { fetching: "Fetching", finished: "Finished", failed: "Failed" };

export function downloadPercent(download: ModelDownloadView): number {
  if (download.state === "finished") return 100;
  return download.totalBytes > 0 ? Math.min(100, (download.receivedBytes / download.totalBytes) * 100) : 0;
}

/** One download: its bar, bytes, sources, rate and time left; a failed one says why. */
export function DownloadItem({ download }: { download: ModelDownloadView }) {
  const percent = downloadPercent(download);
  const sizeKnown = download.totalBytes > 0;
  const fetching = download.state === "fetching";
  return (
    <li className="download">
      <div className="download__head">
        {/* Until the model is complete its name is the root's first characters: no need to show them twice. */}
        {download.name === download.root.slice(0, 12) ? null : <strong>{download.name}</strong>}
        <code className={download.name === download.root.slice(0, 12) ? undefined : "muted"} title={download.root}>
          {shortHash(download.root)}
        </code>
        <span className={download.state === "failed" ? "verdict--fail" : download.state === "finished" ? "verdict--pass" : undefined}>{STATE_LABELS[download.state]}</span>
      </div>
      <progress
        role="progressbar"
        max={100}
        value={percent}
        aria-label={`Download of ${download.name}`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(percent)}
        aria-valuetext={sizeKnown ? `${formatNumber(percent)}%` : "Looking for peers that hold it"}
      />
      <p className="muted download__figures">
        {sizeKnown ? `${formatBytes(download.receivedBytes)} of ${formatBytes(download.totalBytes)}` : "Size not known yet"}
        {fetching ? (
          <>
            {" · "}
            {formatBytes(download.bytesPerSecond)}/s from {download.peers} {download.peers === 1 ? "peer" : "peers"}
            {" · "}
            {download.etaSeconds === null ? "time left unknown" : `${formatDuration(download.etaSeconds * 1000)} left`}
          </>
        ) : null}
      </p>
      {download.state === "failed" && download.error ? (
        <p className="field-error">
          Failed: {download.error} Fetching it again resumes from the pieces already checked.
        </p>
      ) : null}
    </li>
  );
}
