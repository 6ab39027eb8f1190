import { createStore, type StoreApi } from "zustand/vanilla";
import type { ContributionMode, DashboardApi, NodeStatusView } from "../../src-contract/index.js";
import { toCallError, type CallErrorView } from "./call-error.js";
import { createLoader, initialLoadState, type LoadState } from "./loader.js";

export interface StatusState extends LoadState {
  status: NodeStatusView | null;
  /** A pause or mode change on its way to the node. */
  updating: boolean;
  actionError: CallErrorView | null;
  load(): Promise<void>;
  setPaused(paused: boolean): Promise<void>;
  setMode(mode: ContributionMode): Promise<void>;
  /** A `status` event from the node. */
  receive(status: NodeStatusView): void;
}

export function createStatusStore(api: DashboardApi): StoreApi<StatusState> {
  const store: StoreApi<StatusState> = createStore<StatusState>()((set) => {
    const act = async (run: () => Promise<NodeStatusView>) => {
      set({ updating: true, actionError: null });
      try {
        const status = await run();
        set({ status, updating: false, loaded: true });
      } catch (error) {
        set({ updating: false, actionError: toCallError(error) });
      }
    };
    return {
      ...initialLoadState,
      status: null,
      updating: false,
      actionError: null,
      load: () => load(),
      setPaused: (paused) => act(() => api.setPaused({ paused })),
      setMode: (mode) => act(() => api.setMode({ mode })),
      receive: (status) => set({ status, loaded: true }),
    };
  });
  // A status event or an action that landed while getStatus was in flight is newer than its answer.
  const load: () => Promise<void> = createLoader<StatusState, NodeStatusView>(store, () => api.getStatus({}), (status, now, atStart) => (now.status === atStart.status ? { status } : {}));
  return store;
}
