import { describe, expect, it } from "vitest";
import { DashboardCallError, dashboardCallNames, type DashboardApi } from "../../src-contract/index.js";
import { encodeBridgeError } from "../../src-contract/bridge-error.js";
import { fixtureStatus } from "../test-support/dashboard-fixtures.js";
import { FakeWebSocket } from "../test-support/fake-websocket.js";
import type { ConnectionState } from "./connection.js";
import { selectDashboardApi, type SelectionEnvironment } from "./select-dashboard-api.js";

const TOKEN = "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5";

function environment(overrides: Partial<SelectionEnvironment> = {}) {
  const fetched: string[] = [];
  const states: ConnectionState[] = [];
  const env: SelectionEnvironment = {
    exposed: undefined,
    location: { hash: "", pathname: "/", search: "", protocol: "http:", host: "127.0.0.1:7480" },
    history: { state: null, replaceState: () => {} },
    storage: { getItem: () => null, setItem: () => {} },
    fetch: async (url) => {
      fetched.push(String(url));
      return new Response(JSON.stringify({ ok: true, value: fixtureStatus() }));
    },
    WebSocket: FakeWebSocket,
    onConnectionChange: (state) => states.push(state),
    ...overrides,
  };
  return { env, fetched, states };
}

/** What the Electron preload exposes: one function per call plus subscribe; errors carry "[CODE] message". */
function exposedApi(getStatus: () => Promise<unknown>): DashboardApi {
  const api = Object.fromEntries(dashboardCallNames.map((name) => [name, async () => Promise.reject(new Error(`${name} not faked`))])) as Record<string, unknown>;
  api.getStatus = getStatus;
  api.subscribe = () => () => {};
  return api as unknown as DashboardApi;
}

describe("selectDashboardApi", () => {
  it("uses window.inferswarm when the preload exposed it, even with a token in the URL", async () => {
    const { env, fetched, states } = environment({ exposed: exposedApi(async () => fixtureStatus()), location: { hash: `#token=${TOKEN}`, pathname: "/", search: "", protocol: "app:", host: "dashboard" } });
    const selection = selectDashboardApi(env);
    expect(selection.kind).toBe("preload");
    if (selection.kind === "no-token") throw new Error("unreachable");
    expect((await selection.api.getStatus({})).peerId).toBe(fixtureStatus().peerId);
    expect(fetched).toEqual([]);
    expect(states).toEqual(["open"]);
  });

  it("gives preload errors their code back from the '[CODE] message' encoding", async () => {
    const electronError = new Error(`Error invoking remote method 'inferswarm:getStatus': Error: ${encodeBridgeError("NO_MODELS_SERVED", "This node serves no model.")}`);
    const selection = selectDashboardApi(environment({ exposed: exposedApi(async () => Promise.reject(electronError)) }).env);
    if (selection.kind === "no-token") throw new Error("unreachable");
    const error = await selection.api.getStatus({}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DashboardCallError);
    expect(error).toMatchObject({ code: "NO_MODELS_SERVED", message: "This node serves no model." });
  });

  it("uses the bridge with the token from the URL when there is no preload", async () => {
    const { env, fetched } = environment({ location: { hash: `#token=${TOKEN}`, pathname: "/", search: "", protocol: "http:", host: "127.0.0.1:7480" } });
    const selection = selectDashboardApi(env);
    expect(selection.kind).toBe("bridge");
    if (selection.kind === "no-token") throw new Error("unreachable");
    await selection.api.getStatus({});
    expect(fetched).toEqual(["/bridge/v1/call/getStatus"]);
    FakeWebSocket.reset();
    selection.api.subscribe(() => {});
    expect(FakeWebSocket.latest().url).toBe("ws://127.0.0.1:7480/bridge/v1/events");
  });

  it("asks for the printed URL when there is neither a preload nor a token", () => {
    expect(selectDashboardApi(environment().env).kind).toBe("no-token");
  });

  it("does not take a half-built window.inferswarm for the preload", () => {
    const partial = { getStatus: async () => fixtureStatus() };
    expect(selectDashboardApi(environment({ exposed: partial }).env).kind).toBe("no-token");
  });
});
