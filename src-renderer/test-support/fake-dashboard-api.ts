/**
 * A stateful fake node behind the real client code: calls go through `createDashboardApi` and
 * `dispatchDashboardCall`, so arguments and results are checked against the contract and errors arrive as
 * DashboardCallError with the node's codes, exactly as from the preload or the bridge.
 */
import {
  createDashboardApi,
  DashboardCallError,
  dispatchDashboardCall,
  type DashboardApi,
  type DashboardCallName,
  type DashboardEvent,
  type DashboardHandlers,
  type NodeStatusView,
} from "../../src-contract/index.js";
import { fixtureData, FIXTURE_NOW, type FakeDashboardData } from "./dashboard-fixtures.js";

export interface FakeDashboardApi extends DashboardApi {
  /** Every call that reached the node, in order, with its validated argument. */
  readonly calls: Array<{ name: DashboardCallName; args: unknown }>;
  /** The node's current data; handlers read and change it. */
  readonly data: FakeDashboardData;
  /** Pushes an event to every subscriber. */
  emit(event: DashboardEvent): void;
  listenerCount(): number;
  callsTo(name: DashboardCallName): unknown[];
}

export interface FakeDashboardOptions {
  data?: Partial<FakeDashboardData>;
  /** Replace individual handlers (to fail, or to hang for a loading state). */
  handlers?: Partial<DashboardHandlers>;
}

function pausedStatus(status: NodeStatusView): NodeStatusView {
  return { ...status, mode: "paused", tray: "paused", decision: { contribute: false, reasonCode: "paused-by-owner", reason: "Paused: you paused contributing from the dashboard.", at: FIXTURE_NOW } };
}

export function createFakeDashboardApi(options: FakeDashboardOptions = {}): FakeDashboardApi {
  const data: FakeDashboardData = { ...fixtureData(), ...structuredClone(options.data ?? {}) };
  const calls: Array<{ name: DashboardCallName; args: unknown }> = [];
  const listeners = new Set<(event: unknown) => void>();

  const defaults: DashboardHandlers = {
    getStatus: async () => data.status,
    async setPaused({ paused }) {
      if (paused) {
        if (data.status.mode !== "paused") data.status = { ...data.status, resumeMode: data.status.mode };
        data.status = pausedStatus(data.status);
      } else {
        const decision = { contribute: true, reasonCode: "contributing", reason: "Contributing: you have been away for 12 minutes.", at: FIXTURE_NOW };
        data.status = { ...data.status, mode: data.status.resumeMode, tray: "contributing", decision };
      }
      data.settings.policy.mode = data.status.mode;
      return data.status;
    },
    async setMode({ mode }) {
      data.status = mode === "paused" ? pausedStatus(data.status) : { ...data.status, mode, resumeMode: mode };
      data.settings.policy.mode = mode;
      return data.status;
    },
    getTelemetry: async () => data.telemetry,
    getEarnings: async () => data.earnings,
    async exportEarningsCsv() {
      if (!data.earnings.available) throw new DashboardCallError("LEDGER_UNAVAILABLE", "This node has no earnings ledger yet, so there is nothing to export.");
      return data.csv;
    },
    getReputation: async () => data.reputation,
    listJobs: async ({ limit }) => ({ jobs: data.jobs.slice(0, limit) }),
    getModels: async () => data.models,
    // Starts a download the test then moves with `emit({type: "download", …})`.
    async fetchModel({ root }) {
      const running = data.models.downloads.find((d) => d.root === root && d.state === "fetching");
      if (running) return running;
      const download = { root, name: root.slice(0, 12), state: "fetching" as const, receivedBytes: 0, totalBytes: 0, peers: 0, bytesPerSecond: 0, etaSeconds: null, error: null, startedAt: FIXTURE_NOW };
      data.models = { ...data.models, downloads: [download, ...data.models.downloads.filter((d) => d.root !== root)] };
      return download;
    },
    getSettings: async () => data.settings,
    async updateSettings(update) {
      if (update.startAtLogin !== undefined && data.settings.startAtLogin === null) {
        throw new DashboardCallError("START_AT_LOGIN_UNSUPPORTED", "A headless node cannot manage start at login; use your service manager (e.g. a systemd user unit).");
      }
      const { limits, ...rest } = update.policy ?? {};
      const merged = { ...data.settings.policy, ...rest, limits: { ...data.settings.policy.limits, ...limits } };
      // The node's policy check, as src-main/policy words it.
      const problems: string[] = [];
      if (merged.limits.maxTemperatureC < 40 || merged.limits.maxTemperatureC > 110) problems.push("limits.maxTemperatureC: Too big: expected number to be <=110");
      if (merged.limits.vramShare <= 0 || merged.limits.vramShare > 1) problems.push("limits.vramShare: Too big: expected number to be <=1");
      if (problems.length > 0) throw new DashboardCallError("BAD_SETTINGS", `The contribution settings are invalid (${problems.join("; ")}). Fix these fields or remove them to use the defaults.`);
      data.settings = { ...data.settings, policy: merged, startAtLogin: update.startAtLogin ?? data.settings.startAtLogin };
      data.status = { ...data.status, mode: merged.mode };
      return data.settings;
    },
  };
  const handlers = { ...defaults, ...options.handlers } as DashboardHandlers;
  const recorded = Object.fromEntries(
    (Object.keys(handlers) as DashboardCallName[]).map((name) => [
      name,
      (args: unknown) => {
        calls.push({ name, args });
        return (handlers[name] as (a: unknown) => Promise<unknown>)(args);
      },
    ]),
  ) as DashboardHandlers;

  const api = createDashboardApi({
    // A copy, as over IPC or HTTP: the page never shares objects with the node.
    call: async (name, args) => structuredClone(await dispatchDashboardCall(recorded, name, args)),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  });

  return Object.assign(api, {
    calls,
    data,
    emit: (event: DashboardEvent) => {
      for (const listener of [...listeners]) listener(structuredClone(event));
    },
    listenerCount: () => listeners.size,
    callsTo: (name: DashboardCallName) => calls.filter((c) => c.name === name).map((c) => c.args),
  });
}
