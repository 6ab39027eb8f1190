import { createStore, type StoreApi } from "zustand/vanilla";
import type { DashboardApi, EarningsSummary } from "../../src-contract/index.js";
import { toCallError, type CallErrorView } from "./call-error.js";
import { createLoader, initialLoadState, type LoadState } from "./loader.js";

export interface EarningsState extends LoadState {
  earnings: EarningsSummary | null;
  exporting: boolean;
  exportError: CallErrorView | null;
  load(): Promise<void>;
  /** The ledger's receipts of the last `days` days as CSV; null when the node refused (see exportError). */
  exportCsv(days: number): Promise<{ fileName: string; csv: string } | null>;
}

export function createEarningsStore(api: DashboardApi): StoreApi<EarningsState> {
  const store: StoreApi<EarningsState> = createStore<EarningsState>()((set) => ({
    ...initialLoadState,
    earnings: null,
    exporting: false,
    exportError: null,
    load: () => load(),
    async exportCsv(days) {
      set({ exporting: true, exportError: null });
      try {
        const file = await api.exportEarningsCsv({ days });
        set({ exporting: false });
        return file;
      } catch (error) {
        set({ exporting: false, exportError: toCallError(error) });
        return null;
      }
    },
  }));
  const load: () => Promise<void> = createLoader<EarningsState, EarningsSummary>(store, () => api.getEarnings({}), (earnings) => ({ earnings }));
  return store;
}
