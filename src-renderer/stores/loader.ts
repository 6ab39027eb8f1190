import type { StoreApi } from "zustand/vanilla";
import { toCallError, type CallErrorView } from "./call-error.js";

/** Every store's loading and error state; `loaded` stays true after the first success, so a refresh keeps the old data on screen. */
export interface LoadState {
  loading: boolean;
  loaded: boolean;
  error: CallErrorView | null;
}

export const initialLoadState: LoadState = { loading: false, loaded: false, error: null };

/**
 * A `load()` action for a store: one request in flight at a time (a second call joins it), errors kept as
 * data. `apply` turns the answer into state; it is given the state as it was when the request started, so
 * events that arrived meanwhile (newer than the answer) can win over it.
 */
export function createLoader<S extends LoadState, T>(
  store: Pick<StoreApi<S>, "getState" | "setState">,
  fetch: () => Promise<T>,
  apply: (value: T, now: S, atStart: S) => Partial<S>,
): () => Promise<void> {
  let inFlight: Promise<void> | null = null;
  return () => {
    inFlight ??= (async () => {
      const atStart = store.getState();
      store.setState({ loading: true } as Partial<S>);
      try {
        const value = await fetch();
        store.setState((now) => ({ ...apply(value, now, atStart), loading: false, loaded: true, error: null }));
      } catch (error) {
        store.setState({ loading: false, error: toCallError(error) } as Partial<S>);
      } finally {
        inFlight = null;
      }
    })();
    return inFlight;
  };
}
