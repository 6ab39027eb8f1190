import type { DashboardEvent, DashboardHandlers, SettingsView } from "../../src-contract/index.js";
import { DashboardCallError } from "../../src-contract/index.js";
import type { NodeConfig } from "./node-config.js";
import type { RunningNode } from "./start-node.js";

export interface DashboardServiceOptions {
  node: RunningNode;
  config: NodeConfig;
  /** Where the identity key lives; the desktop app passes the keyring's answer. */
  identityStorage: SettingsView["identityStorage"];
}

/** The node's side of the dashboard contract: the handlers the IPC relay and the HTTP bridge both call. */
export interface DashboardService {
  readonly handlers: DashboardHandlers;
  /** Live events (status changes, telemetry samples, jobs). */
  subscribe(listener: (event: DashboardEvent) => void): () => void;
  close(): void;
}

export function createDashboardService(_options: DashboardServiceOptions): DashboardService {
  throw new DashboardCallError("NOT_BUILT", "being written");
}
