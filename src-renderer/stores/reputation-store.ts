import { createStore, type StoreApi } from "zustand/vanilla";
import type { DashboardApi, ReputationView } from "../../src-contract/index.js";
import { createLoader, initialLoadState, type LoadState } from "./loader.js";

export interface ReputationState extends LoadState {
  reputation: ReputationView | null;
  load(): Promise<void>;
}

export function createReputationStore(api: DashboardApi): StoreApi<ReputationState> {
  const store: StoreApi<ReputationState> = createStore<ReputationState>()(() => ({ ...initialLoadState, reputation: null, load: () => load() }));
  const load: () => Promise<void> = createLoader<ReputationState, ReputationView>(store, () => api.getReputation({}), (reputation) => ({ reputation }));
  return store;
}
