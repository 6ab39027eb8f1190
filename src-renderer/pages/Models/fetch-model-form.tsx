import { useId, useState, type FormEvent } from "react";
import { CallErrorNotice } from "../../components/call-error-notice.js";
import { useDomain } from "../../stores/stores-context.js";

/** Why a typed root is not one, in the owner's words; null when it is (after trimming and lowercasing). */
export function rootProblem(root: string): string | null {
  if (root.length === 0) return "Paste the model's root: 64 hexadecimal characters (0–9, a–f).";
  if (/[^0-9a-f]/.test(root)) return "A model's root has only the characters 0–9 and a–f.";
  if (root.length !== 64) return `A model's root is 64 characters long; this has ${root.length}.`;
  return null;
}

/** "Fetch a model by its root": checked here first, so only a well-formed root reaches the node. */
export function FetchModelForm() {
  const fetchModel = useDomain("models", (s) => s.fetchModel);
  const request = useDomain("models", (s) => s.fetchRequest);
  const [value, setValue] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const inputId = useId();
  const hintId = useId();
  const problemId = useId();

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    const root = value.trim().toLowerCase();
    const found = rootProblem(root);
    setProblem(found);
    if (found) return;
    if (await fetchModel(root)) setValue("");
  };

  return (
    <form aria-labelledby="models-fetch" onSubmit={(event) => void onSubmit(event)} noValidate>
      <h3 id="models-fetch">Fetch a model over the swarm</h3>
      <div className="field">
        <label htmlFor={inputId}>Fetch a model by its root</label>
        <div className="copy-field">
          <input
            id={inputId}
            type="text"
            value={value}
            spellCheck={false}
            autoComplete="off"
            placeholder="64 hexadecimal characters"
            aria-invalid={problem ? true : undefined}
            aria-describedby={[hintId, problem ? problemId : null].filter(Boolean).join(" ")}
            onChange={(event) => {
              setValue(event.target.value);
              setProblem(null);
            }}
          />
          <button type="submit" className="button button--primary" disabled={request?.pending === true}>
            {request?.pending ? "Starting…" : "Fetch"}
          </button>
        </div>
        <span id={hintId} className="muted hint">
          The root names a model's exact pieces; peers that hold it send them, each piece checked on arrival.
        </span>
        {problem ? (
          <span id={problemId} className="field-error" role="alert">
            {problem}
          </span>
        ) : null}
      </div>
      {request?.error ? <CallErrorNotice error={request.error} context={`Could not fetch ${request.root.slice(0, 12)}…`} /> : null}
    </form>
  );
}
