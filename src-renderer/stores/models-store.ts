import { createStore, type StoreApi } from "zustand/vanilla";
import type { DashboardApi, ModelsView } from "../../src-contract/index.js";
import { createLoader, initialLoadState, type LoadState } from "./loader.js";

export interface ModelsState extends LoadState {
  models: ModelsView | null;
  load(): Promise<void>;
}

export function createModelsStore(api: DashboardApi): StoreApi<ModelsState> {
  const store: StoreApi<ModelsState> = createStore<ModelsState>()(() => ({ ...initialLoadState, models: null, load: () => load() }));
  const load: () => Promise<void> = createLoader<ModelsState, ModelsView>(store, () => api.getModels({}), (models) => ({ models }));
  return store;
}
