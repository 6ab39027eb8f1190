import { createStore, type StoreApi } from "zustand/vanilla";
import type { DashboardApi, SettingsUpdate, SettingsView } from "../../src-contract/index.js";
import { fieldErrorsFrom, toCallError, type CallErrorView } from "./call-error.js";
import { createLoader, initialLoadState, type LoadState } from "./loader.js";

export interface SettingsState extends LoadState {
  settings: SettingsView | null;
  saving: boolean;
  saveError: CallErrorView | null;
  /** Keyed by path under `policy` ("limits.maxTemperatureC", "idleAfterSeconds") or a top-level field ("startAtLogin"). */
  fieldErrors: Record<string, string>;
  /** Epoch ms of the last successful save, for the "Saved" note. */
  savedAt: number | null;
  load(): Promise<void>;
  /** Sends the change; true when the node accepted it (the store then holds the node's new settings). */
  save(update: SettingsUpdate): Promise<boolean>;
  /** Forgets the last refusal (the owner discarded the draft it was about). */
  clearSaveError(): void;
}

export function createSettingsStore(api: DashboardApi, now: () => number = Date.now): StoreApi<SettingsState> {
  const store: StoreApi<SettingsState> = createStore<SettingsState>()((set) => ({
    ...initialLoadState,
    settings: null,
    saving: false,
    saveError: null,
    fieldErrors: {},
    savedAt: null,
    load: () => load(),
    clearSaveError: () => set({ saveError: null, fieldErrors: {} }),
    async save(update) {
      set({ saving: true, saveError: null, fieldErrors: {} });
      try {
        const settings = await api.updateSettings(update);
        set({ settings, saving: false, loaded: true, savedAt: now() });
        return true;
      } catch (error) {
        const view = toCallError(error);
        set({ saving: false, saveError: view, fieldErrors: fieldErrorsFrom(view) });
        return false;
      }
    },
  }));
  const load: () => Promise<void> = createLoader<SettingsState, SettingsView>(store, () => api.getSettings({}), (settings, current, atStart) => (current.settings === atStart.settings ? { settings } : {}));
  return store;
}
