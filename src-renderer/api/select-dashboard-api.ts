import { createDashboardApi, type DashboardApi } from "../../src-contract/index.js";
import { takeBridgeToken, type TokenEnvironment } from "./bridge-token.js";
import { createBridgeTransport, eventsOriginFor, type Timers, type WebSocketConstructorLike } from "./bridge-transport.js";
import type { ConnectionListener } from "./connection.js";
import { createPreloadDashboardApi, isExposedDashboardApi } from "./preload-api.js";

export type DashboardApiSelection =
  /** Electron: the preload exposed the API as `window.inferswarm`. */
  | { kind: "preload"; api: DashboardApi }
  /** A browser on the headless node's dashboard server: HTTP calls + WebSocket events. */
  | { kind: "bridge"; api: DashboardApi }
  /** A browser with no token: the page explains how to open the dashboard. */
  | { kind: "no-token" };

export interface SelectionEnvironment extends TokenEnvironment {
  location: TokenEnvironment["location"] & Pick<Location, "protocol" | "host">;
  /** `window.inferswarm`, if the preload exposed it. */
  exposed: unknown;
  fetch: typeof fetch;
  WebSocket: WebSocketConstructorLike;
  timers?: Timers;
  onConnectionChange?: ConnectionListener;
}

/** Picks the transport: the preload's API when present, else the bridge with the token from the URL or this tab's storage. */
export function selectDashboardApi(env: SelectionEnvironment): DashboardApiSelection {
  if (isExposedDashboardApi(env.exposed)) {
    env.onConnectionChange?.("open");
    return { kind: "preload", api: createPreloadDashboardApi(env.exposed) };
  }
  const token = takeBridgeToken(env);
  if (!token) return { kind: "no-token" };
  const transport = createBridgeTransport({
    token,
    fetch: env.fetch,
    WebSocket: env.WebSocket,
    eventsOrigin: eventsOriginFor(env.location),
    timers: env.timers,
    onConnectionChange: env.onConnectionChange,
  });
  return { kind: "bridge", api: createDashboardApi(transport) };
}
