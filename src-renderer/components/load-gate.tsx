import { useEffect, type ReactNode } from "react";
import type { LoadState } from "../stores/loader.js";
import { useDomainLoad } from "../stores/stores-context.js";
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

/**
 * A page over one store: its heading, then the store's LoadGate. `loadOnMount` fetches when the page opens
 * (panels the event stream does not keep fresh); the others are loaded when the stores start.
 */
export function DomainPage({
  domain,
  title,
  what,
  loadOnMount = false,
  children,
}: {
  domain: Parameters<typeof useDomainLoad>[0];
  title: string;
  what: string;
  loadOnMount?: boolean;
  children: () => ReactNode;
}) {
  const { state, load } = useDomainLoad(domain);
  useEffect(() => {
    if (loadOnMount) void load();
  }, [load, loadOnMount]);
  return (
    <>
      <h1>{title}</h1>
      <LoadGate state={state} onRetry={() => void load()} what={what}>
        {children}
      </LoadGate>
    </>
  );
}
