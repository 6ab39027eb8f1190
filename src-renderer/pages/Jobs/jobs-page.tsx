import { formatClock, formatDuration, formatNumber } from "../../components/format.js";
import { DomainPage } from "../../components/load-gate.js";
import { useDomain } from "../../stores/stores-context.js";

const STATE_LABELS = { running: "running", answered: "answered", failed: "failed", "requester-gone": "requester gone" } as const;

export function JobsPage() {
  return (
    <DomainPage domain="jobs" title="Jobs" what="jobs">
      {() => <JobsTable />}
    </DomainPage>
  );
}

function JobsTable() {
  const jobs = useDomain("jobs", (s) => s.jobs);
  const capacity = useDomain("jobs", (s) => s.capacity);
  if (jobs.length === 0) return <p className="muted">No jobs yet. Jobs this node serves appear here as they start.</p>;
  return (
    <section className="card" aria-labelledby="jobs-live">
      <h2 id="jobs-live">Latest jobs</h2>
      <p className="muted">Updated live; the newest {capacity} are kept.</p>
      <div className="table-scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">Started</th>
              <th scope="col">Job</th>
              <th scope="col">Model</th>
              <th scope="col">Requester</th>
              <th scope="col">State</th>
              <th scope="col" className="num">Tokens</th>
              <th scope="col" className="num">Duration</th>
              <th scope="col">Detail</th>
            </tr>
          </thead>
          <tbody>
            {jobs.map((job) => (
              <tr key={job.jobId}>
                <td>{formatClock(job.startedAt)}</td>
                <td>
                  <code>{job.jobId}</code>
                </td>
                <td>{job.model}</td>
                <td>
                  <code>{job.requester}</code>
                </td>
                <td>
                  <span className={`job-state job-state--${job.state}`}>{STATE_LABELS[job.state]}</span>
                </td>
                <td className="num">{formatNumber(job.generatedTokens)}</td>
                <td className="num">{job.endedAt === null ? "—" : formatDuration(job.endedAt - job.startedAt)}</td>
                <td>{job.detail ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
