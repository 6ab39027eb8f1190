import type { StoreApi } from "zustand/vanilla";
import type { DashboardApi, DashboardEvent } from "../../src-contract/index.js";
import { createConnectionStore, type ConnectionStoreState } from "./connection-store.js";
import { createEarningsStore, type EarningsState } from "./earnings-store.js";
import { createJobsStore, type JobsState } from "./jobs-store.js";
import { createModelsStore, type ModelsState } from "./models-store.js";
import { createReputationStore, type ReputationState } from "./reputation-store.js";
import { createSettingsStore, type SettingsState } from "./settings-store.js";
import { createStatusStore, type StatusState } from "./status-store.js";
import { createTelemetryStore, type TelemetryState } from "./telemetry-store.js";

export interface DashboardStores {
  status: StoreApi<StatusState>;
  telemetry: StoreApi<TelemetryState>;
  earnings: StoreApi<EarningsState>;
  reputation: StoreApi<ReputationState>;
  jobs: StoreApi<JobsState>;
  models: StoreApi<ModelsState>;
  settings: StoreApi<SettingsState>;
  connection: StoreApi<ConnectionStoreState>;
  /**
   * Subscribes to the node's events and loads what they keep current (status, telemetry, jobs); reloads
   * those (and the models, once loaded) after the event connection comes back, since events sent
   * meanwhile are lost. Returns stop().
   */
  start(): () => void;
  /** Routes one event to its store (exposed for tests). */
  dispatch(event: DashboardEvent): void;
}

export interface DashboardStoresOptions {
  connection?: StoreApi<ConnectionStoreState>;
  telemetryCapacity?: number;
  jobsCapacity?: number;
}

/** One store per domain, all fed by the one API client. */
export function createDashboardStores(api: DashboardApi, options: DashboardStoresOptions = {}): DashboardStores {
  const stores = {
    status: createStatusStore(api),
    telemetry: createTelemetryStore(api, options.telemetryCapacity),
    earnings: createEarningsStore(api),
    reputation: createReputationStore(api),
    jobs: createJobsStore(api, options.jobsCapacity),
    models: createModelsStore(api),
    settings: createSettingsStore(api),
    connection: options.connection ?? createConnectionStore(),
  };

  function dispatch(event: DashboardEvent) {
    if (event.type === "status") stores.status.getState().receive(event.status);
    else if (event.type === "telemetry") stores.telemetry.getState().append(event.point);
    else if (event.type === "job") stores.jobs.getState().upsert(event.job);
    else if (event.type === "download") stores.models.getState().receiveDownload(event.download);
  }

  const loadLive = () => Promise.all([stores.status.getState().load(), stores.telemetry.getState().load(), stores.jobs.getState().load()]);

  function start() {
    const unsubscribe = api.subscribe(dispatch);
    let previous = stores.connection.getState().state;
    const offConnection = stores.connection.subscribe(({ state }) => {
      if (state === "open" && previous === "reconnecting") {
        void loadLive();
        // Download events sent while the connection was down are lost too; the list is loaded by its page.
        if (stores.models.getState().loaded) void stores.models.getState().load();
      }
      previous = state;
    });
    // A saved mode change shows on the Overview at once, not at the node's next status event.
    const offSettings = stores.settings.subscribe((now, before) => {
      if (now.savedAt !== before.savedAt) void stores.status.getState().load();
    });
    void loadLive();
    return () => {
      offSettings();
      offConnection();
      unsubscribe();
    };
  }

  return { ...stores, start, dispatch };
}
