import { createStore, type StoreApi } from "zustand/vanilla";
import type { DashboardApi, ModelDownloadView, ModelsView } from "../../src-contract/index.js";
import { toCallError, type CallErrorView } from "./call-error.js";
import { createLoader, initialLoadState, type LoadState } from "./loader.js";

/** The node keeps 8 running and 16 ended downloads; the contract allows 64. */
export const DOWNLOADS_CAPACITY = 64;

export interface ModelsState extends LoadState {
  models: ModelsView | null;
  /** The owner's last "fetch this root": in flight, or refused with the node's reason. */
  fetchRequest: { root: string; pending: boolean; error: CallErrorView | null } | null;
  load(): Promise<void>;
  /** Asks the node to fetch a model over the swarm; the download then moves by `download` events. */
  fetchModel(root: string): Promise<boolean>;
  /** A `download` event: a known download is replaced where it is, a new one goes on top. */
  receiveDownload(download: ModelDownloadView): void;
}

export function upsertDownload(downloads: readonly ModelDownloadView[], download: ModelDownloadView): ModelDownloadView[] {
  const index = downloads.findIndex((known) => known.root === download.root);
  // A download started again (after it failed) is a new one: it moves to the top.
  if (index >= 0 && downloads[index]!.startedAt === download.startedAt) return downloads.map((known, i) => (i === index ? download : known));
  return [download, ...downloads.filter((known) => known.root !== download.root)].slice(0, DOWNLOADS_CAPACITY);
}

export function createModelsStore(api: DashboardApi): StoreApi<ModelsState> {
  const store: StoreApi<ModelsState> = createStore<ModelsState>()((set) => ({
    ...initialLoadState,
    models: null,
    fetchRequest: null,
    load: () => load(),
    fetchModel: (root) => fetchModel(root),
    receiveDownload: (download) => set(({ models }) => (models ? { models: { ...models, downloads: upsertDownload(models.downloads, download) } } : {})),
  }));
  const load: () => Promise<void> = createLoader<ModelsState, ModelsView>(
    store,
    () => api.getModels({}),
    (listed, now, atStart) => {
      // Download events that arrived while the list was in flight are newer than it: replay them on top.
      const before = new Set(atStart.models?.downloads ?? []);
      let downloads = listed.downloads;
      for (const download of (now.models?.downloads ?? []).filter((d) => !before.has(d)).reverse()) downloads = upsertDownload(downloads, download);
      return { models: { ...listed, downloads } };
    },
  );

  async function fetchModel(root: string): Promise<boolean> {
    store.setState({ fetchRequest: { root, pending: true, error: null } });
    try {
      const download = await api.fetchModel({ root });
      store.getState().receiveDownload(download);
      store.setState({ fetchRequest: { root, pending: false, error: null } });
      return true;
    } catch (error) {
      store.setState({ fetchRequest: { root, pending: false, error: toCallError(error) } });
      return false;
    }
  }

  return store;
}
