import { createStore, type StoreApi } from "zustand/vanilla";
import type { ConnectionState } from "../api/connection.js";

export interface ConnectionStoreState {
  state: ConnectionState;
  set(state: ConnectionState): void;
}

/** The live-event connection, fed by the transport (created before the API, which reports into it). */
export function createConnectionStore(initial: ConnectionState = "idle"): StoreApi<ConnectionStoreState> {
  return createStore<ConnectionStoreState>()((set) => ({ state: initial, set: (state) => set({ state }) }));
}
