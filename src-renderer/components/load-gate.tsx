import type { ReactNode } from "react";
import type { LoadState } from "../stores/loader.js";
import { CallErrorNotice } from "./call-error-notice.js";

/**
 * A panel's loading and error states: "Loading…" before the first answer, the error (with a retry) when a
 * call failed; data already shown stays on screen under a failed refresh.
 */
export function LoadGate({ state, onRetry, what, children }: { state: LoadState; onRetry: () => void; what: string; children: () => ReactNode }) {
  return (
    <>
      {state.error ? <CallErrorNotice error={state.error} onRetry={onRetry} context={`Could not load ${what}`} /> : null}
      {state.loaded ? (
        children()
      ) : state.error ? null : (
        <p className="muted" role="status">
          Loading {what}…
        </p>
      )}
    </>
  );
}
