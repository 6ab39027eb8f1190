import type { CallErrorView } from "../stores/call-error.js";

/** A failed call: the node's sentence, its code, and a way to try again. */
export function CallErrorNotice({ error, onRetry, context }: { error: CallErrorView; onRetry?: () => void; context?: string }) {
  return (
    <div className="notice notice--error" role="alert">
      <p>
        {context ? `${context}: ` : ""}
        {error.message} <span className="muted">({error.code})</span>
      </p>
      {onRetry ? (
        <button type="button" className="button" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}
