import { createContext, useContext, type ReactNode } from "react";
import { useStore } from "zustand";
import type { StoreApi } from "zustand/vanilla";
import type { DashboardStores } from "./dashboard-stores.js";

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
