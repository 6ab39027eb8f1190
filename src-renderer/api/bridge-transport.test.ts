import { beforeEach, describe, expect, it } from "vitest";
import { createDashboardApi, DashboardCallError, type DashboardEvent } from "../../src-contract/index.js";
import { fixtureStatus } from "../test-support/dashboard-fixtures.js";
import { createManualTimers } from "../test-support/fake-timers.js";
import { FakeWebSocket } from "../test-support/fake-websocket.js";
import type { ConnectionState } from "./connection.js";
import { createBridgeTransport, eventsOriginFor } from "./bridge-transport.js";

const TOKEN = "tok_0123456789abcdefghijklmnopqrstuv";

function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

function setup(fetchImpl: typeof fetch = async () => jsonResponse({ ok: true, value: fixtureStatus() })) {
  const clock = createManualTimers();
  const states: ConnectionState[] = [];
  const requests: Array<{ url: string; init: RequestInit }> = [];
  const transport = createBridgeTransport({
    token: TOKEN,
    fetch: async (url, init) => {
      requests.push({ url: String(url), init: init ?? {} });
      return fetchImpl(url, init);
    },
    WebSocket: FakeWebSocket,
    eventsOrigin: "ws://127.0.0.1:7480",
    timers: clock.timers,
    onConnectionChange: (state) => states.push(state),
  });
  return { transport, api: createDashboardApi(transport), clock, states, requests };
}

async function rejection(promise: Promise<unknown>): Promise<DashboardCallError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(DashboardCallError);
    return error as DashboardCallError;
  }
  throw new Error("expected the call to fail");
}

beforeEach(() => FakeWebSocket.reset());

describe("bridge calls", () => {
  it("POSTs the argument as JSON to the call's path with the token as a Bearer header, and unwraps the value", async () => {
    const { api, requests } = setup();
    const status = await api.setPaused({ paused: true });
    expect(status.peerId).toBe(fixtureStatus().peerId);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.url).toBe("/bridge/v1/call/setPaused");
    expect(requests[0]!.init.method).toBe("POST");
    expect(JSON.parse(String(requests[0]!.init.body))).toEqual({ paused: true });
    const headers = requests[0]!.init.headers as Record<string, string>;
    expect(headers.Authorization).toBe(`Bearer ${TOKEN}`);
    expect(headers["Content-Type"]).toBe("application/json");
  });

  it("turns an error outcome sent with a 4xx status into DashboardCallError with the node's code", async () => {
    const { api } = setup(async () => jsonResponse({ ok: false, error: { code: "UNAUTHORIZED", message: "Open the dashboard with the URL the node printed (it carries the token)." } }, 401));
    const error = await rejection(api.getStatus({}));
    expect(error.code).toBe("UNAUTHORIZED");
    expect(error.message).toMatch(/URL the node printed/);
  });

  it("refuses a bad argument before anything is sent", async () => {
    const { api, requests } = setup();
    const error = await rejection(api.listJobs({ limit: 0 }));
    expect(error.code).toBe("BAD_ARGUMENT");
    expect(requests).toHaveLength(0);
  });

  it("reports a network failure as BRIDGE_UNREACHABLE", async () => {
    const { api } = setup(async () => {
      throw new TypeError("Failed to fetch");
    });
    const error = await rejection(api.getStatus({}));
    expect(error.code).toBe("BRIDGE_UNREACHABLE");
    expect(error.message).toMatch(/inferswarm node/);
  });

  it("reports a non-JSON error page as BRIDGE_HTTP_ERROR and a result off the contract as BAD_RESPONSE", async () => {
    const htmlError = setup(async () => new Response("<html>Bad gateway</html>", { status: 502 }));
    expect((await rejection(htmlError.api.getStatus({}))).code).toBe("BRIDGE_HTTP_ERROR");
    const wrongShape = setup(async () => jsonResponse({ ok: true, value: { peerId: 5 } }));
    expect((await rejection(wrongShape.api.getStatus({}))).code).toBe("BAD_RESPONSE");
  });

  it("gives up on a call that does not answer in time with BRIDGE_TIMEOUT", async () => {
    const { api, clock } = setup(
      (_url, init) =>
        new Promise<Response>((_resolve, reject) => {
          init?.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
        }),
    );
    const pending = rejection(api.getStatus({}));
    await Promise.resolve();
    clock.advance(30_000);
    expect((await pending).code).toBe("BRIDGE_TIMEOUT");
  });
});

describe("bridge events", () => {
  const statusEvent: DashboardEvent = { type: "status", status: fixtureStatus() };

  it("opens one socket, sends the token as its first message, ignores ready and delivers events", () => {
    const { api, states } = setup();
    const received: DashboardEvent[] = [];
    const other: DashboardEvent[] = [];
    api.subscribe((event) => received.push(event));
    api.subscribe((event) => other.push(event));
    expect(FakeWebSocket.instances).toHaveLength(1);
    const socket = FakeWebSocket.latest();
    expect(socket.url).toBe("ws://127.0.0.1:7480/bridge/v1/events");
    socket.open();
    expect(socket.sent.map((m) => JSON.parse(m))).toEqual([{ type: "auth", token: TOKEN }]);
    socket.message({ type: "ready" });
    expect(states).toEqual(["connecting", "open"]);
    socket.message(statusEvent);
    socket.message({ type: "bogus" });
    socket.message("not json");
    expect(received).toEqual([statusEvent]);
    expect(other).toEqual([statusEvent]);
  });

  it("closes the socket when the last listener unsubscribes", () => {
    const { api, states } = setup();
    const first = api.subscribe(() => {});
    const second = api.subscribe(() => {});
    const socket = FakeWebSocket.latest();
    socket.open();
    first();
    expect(socket.closedWith).toBeNull();
    second();
    expect(socket.closedWith?.code).toBe(1000);
    expect(states.at(-1)).toBe("idle");
  });

  it("reconnects with a delay doubling from 0.5 s up to 10 s, and starts again from 0.5 s after a success", () => {
    const { api, clock, states } = setup();
    api.subscribe(() => {});
    const delays: number[] = [];
    for (let attempt = 0; attempt < 7; attempt += 1) {
      FakeWebSocket.latest().drop();
      delays.push(clock.delays.at(-1)!);
      clock.advance(delays.at(-1)!);
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect(FakeWebSocket.instances).toHaveLength(8);
    expect(states).toContain("reconnecting");

    const socket = FakeWebSocket.latest();
    socket.open();
    socket.message({ type: "ready" });
    expect(states.at(-1)).toBe("open");
    socket.drop();
    expect(clock.delays.at(-1)).toBe(500);
  });

  it("authenticates again on each new socket", () => {
    const { api, clock } = setup();
    api.subscribe(() => {});
    FakeWebSocket.latest().drop();
    clock.advance(500);
    const again = FakeWebSocket.latest();
    again.open();
    expect(JSON.parse(again.sent[0]!)).toEqual({ type: "auth", token: TOKEN });
  });

  it("stops reconnecting once nobody listens", () => {
    const { api, clock } = setup();
    const unsubscribe = api.subscribe(() => {});
    FakeWebSocket.latest().drop();
    expect(clock.pendingCount()).toBe(1);
    unsubscribe();
    expect(clock.pendingCount()).toBe(0);
    clock.advance(60_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it("does not retry a token the node refused (close code 4401)", () => {
    const { api, clock, states } = setup();
    api.subscribe(() => {});
    FakeWebSocket.latest().open();
    FakeWebSocket.latest().drop(4401);
    clock.advance(60_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
    expect(states.at(-1)).toBe("unauthorized");
  });
});

describe("eventsOriginFor", () => {
  it("uses ws: for http pages and wss: for https pages, on the page's own host", () => {
    expect(eventsOriginFor({ protocol: "http:", host: "127.0.0.1:7480" })).toBe("ws://127.0.0.1:7480");
    expect(eventsOriginFor({ protocol: "https:", host: "rig.local" })).toBe("wss://rig.local");
  });
});
