import { createContext, useContext, type ReactNode } from "react";
import { useStore } from "zustand";
import type { StoreApi } from "zustand/vanilla";
import type { DashboardStores } from "./dashboard-stores.js";
import type { LoadState } from "./loader.js";

const StoresContext = createContext<DashboardStores | null>(null);

export function StoresProvider({ stores, children }: { stores: DashboardStores; children: ReactNode }) {
  return <StoresContext.Provider value={stores}>{children}</StoresContext.Provider>;
}

export function useStores(): DashboardStores {
  const stores = useContext(StoresContext);
  if (!stores) throw new Error("useStores() needs a <StoresProvider> above it.");
  return stores;
}

type Domain = Exclude<keyof DashboardStores, "start" | "dispatch">;
type StateOf<D extends Domain> = DashboardStores[D] extends StoreApi<infer S> ? S : never;

/** Reads one domain's store through a selector; select single fields or stable references (zustand 5 compares with Object.is). */
export function useDomain<D extends Domain, U>(domain: D, selector: (state: StateOf<D>) => U): U {
  const store: StoreApi<StateOf<D>> = useStores()[domain] as unknown as StoreApi<StateOf<D>>;
  return useStore<StoreApi<StateOf<D>>, U>(store, selector);
}

type LoadableDomain = { [D in Domain]: StateOf<D> extends LoadState & { load: () => Promise<void> } ? D : never }[Domain];

/** A domain's loading state and its `load()`, read field by field (each a stable value for zustand's Object.is). */
export function useDomainLoad(domain: LoadableDomain): { state: LoadState; load: () => Promise<void> } {
  const store = useStores()[domain] as unknown as StoreApi<LoadState & { load: () => Promise<void> }>;
  const loading = useStore(store, (s) => s.loading);
  const loaded = useStore(store, (s) => s.loaded);
  const error = useStore(store, (s) => s.error);
  const load = useStore(store, (s) => s.load);
  return { state: { loading, loaded, error }, load };
}
