import { formatDateTime, formatNumber } from "../../components/format.js";
import { DomainPage } from "../../components/load-gate.js";
import { Notice } from "../../components/notice.js";
import { useDomain } from "../../stores/stores-context.js";

const KIND_LABELS = { verification: "Verification", challenge: "Challenge", failure: "Failure", stall: "Stall" } as const;

export function ReputationPage() {
  return (
    <DomainPage domain="reputation" title="Reputation" what="reputation" loadOnMount>
      {() => <ReputationContent />}
    </DomainPage>
  );
}

function ReputationContent() {
  const reputation = useDomain("reputation", (s) => s.reputation);
  if (!reputation) return null;
  if (!reputation.available) {
    return (
      <Notice title="Reputation is not tracked on this node yet">
        <p>The trust module (validators, challenges and scores) is not running. Until it is, requesters treat this node as unrated, and nothing here would be a verdict.</p>
      </Notice>
    );
  }
  return (
    <>
      <section className="card" aria-labelledby="reputation-score">
        <h2 id="reputation-score">Standing</h2>
        <dl className="facts facts--row">
          <dt>Score</dt>
          <dd className="big-number">{reputation.score === null ? "Not scored yet" : formatNumber(reputation.score, 2)}</dd>
          <dt>Tier</dt>
          <dd className="big-number">{reputation.tier ?? "None yet"}</dd>
        </dl>
      </section>
      <section className="card" aria-labelledby="reputation-history">
        <h2 id="reputation-history">History</h2>
        {reputation.history.length === 0 ? (
          <p className="muted">No checks yet: validators and challenges are recorded here as they happen.</p>
        ) : (
          <div className="table-scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Verdict</th>
                  <th scope="col">Detail</th>
                </tr>
              </thead>
              <tbody>
                {reputation.history.map((entry, index) => (
                  <tr key={`${entry.at}-${index}`}>
                    <td>{formatDateTime(entry.at)}</td>
                    <td>{KIND_LABELS[entry.kind]}</td>
                    <td className={`verdict verdict--${entry.verdict}`}>{entry.verdict}</td>
                    <td>{entry.detail}</td>
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
