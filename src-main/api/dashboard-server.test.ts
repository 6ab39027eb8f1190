import http from "node:http";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DashboardCallError, type DashboardEvent, type DashboardHandlers, type NodeStatusView } from "../../src-contract/index.js";
import { createDashboardServer, loadOrCreateDashboardToken, type DashboardServer } from "./index.js";

const TOKEN = "t".repeat(43);
const STATUS: NodeStatusView = {
  peerId: "12D3KooWtest",
  addresses: ["/ip4/127.0.0.1/tcp/4001"],
  mode: "when-idle",
  resumeMode: "when-idle",
  tray: "waiting-for-idle",
  decision: { contribute: false, reasonCode: "owner-active", reason: "Waiting for idle", at: 1 },
  models: [],
  peers: 0,
  workersSeen: 0,
  jobs: { answered: 0, failed: 0, gone: 0, tokensGenerated: 0 },
  startedAt: 1,
};

/** Handlers that record calls; only the ones a test needs do anything. */
function fakeHandlers(calls: { name: string; args: unknown }[]): DashboardHandlers {
  const refuse = (name: string) => async () => {
    throw new DashboardCallError("NOT_IN_TEST", `${name} is not used by this test`);
  };
  return {
    getStatus: async (args) => (calls.push({ name: "getStatus", args }), { ...STATUS }),
    setPaused: async (args) => (calls.push({ name: "setPaused", args }), { ...STATUS, mode: args.paused ? "paused" : "when-idle", tray: args.paused ? "paused" : "waiting-for-idle" }),
    setMode: refuse("setMode"),
    getTelemetry: refuse("getTelemetry"),
    getEarnings: refuse("getEarnings"),
    exportEarningsCsv: async () => {
      throw new DashboardCallError("LEDGER_UNAVAILABLE", "no ledger");
    },
    getReputation: refuse("getReputation"),
    listJobs: refuse("listJobs"),
    getModels: refuse("getModels"),
    fetchModel: refuse("fetchModel"),
    getSettings: refuse("getSettings"),
    updateSettings: refuse("updateSettings"),
  };
}

let dir: string;
let server: DashboardServer | undefined;
const listeners = new Set<(event: DashboardEvent) => void>();
const calls: { name: string; args: unknown }[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "inferswarm-dashboard-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  listeners.clear();
  calls.length = 0;
});

async function start(extra: { staticDir?: string; maxSockets?: number } = {}) {
  server = await createDashboardServer({
    handlers: fakeHandlers(calls),
    subscribe: (listener) => (listeners.add(listener), () => listeners.delete(listener)),
    token: TOKEN,
    port: 0,
    ...extra,
  });
  return server;
}

const call = (s: DashboardServer, name: string, body: unknown, token: string | null = TOKEN) =>
  fetch(`${s.origin}/bridge/v1/call/${name}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token !== null && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify(body),
  });

describe("dashboard bridge over HTTP", () => {
  it("answers a call with the contract's outcome and passes the validated argument to the handler", async () => {
    const s = await start();
    const response = await call(s, "setPaused", { paused: true });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ ok: true, value: { mode: "paused", tray: "paused" } });
    expect(calls).toEqual([{ name: "setPaused", args: { paused: true } }]);
    expect(s.url).toBe(`${s.origin}/#token=${TOKEN}`);
  });

  it("refuses a missing or wrong token before any handler runs", async () => {
    const s = await start();
    expect((await call(s, "getStatus", {}, null)).status).toBe(401);
    const wrong = await call(s, "getStatus", {}, "x".repeat(43));
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ ok: false, error: { code: "UNAUTHORIZED" } });
    expect(calls).toEqual([]);
  });

  it("maps unknown calls, bad arguments and handler errors to statuses with their codes", async () => {
    const s = await start();
    const unknown = await call(s, "formatDisk", {});
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: "UNKNOWN_CALL" } });
    const bad = await call(s, "setPaused", { paused: "yes" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/paused/);
    const extra = await call(s, "setPaused", { paused: true, rm: "-rf" });
    expect(extra.status).toBe(400);
    const refused = await call(s, "exportEarningsCsv", { days: 7 });
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ ok: false, error: { code: "LEDGER_UNAVAILABLE" } });
    expect(calls).toEqual([]);
  });

  it("refuses bodies over the size limit and requests for another host name (DNS rebinding)", async () => {
    const s = await start();
    expect((await call(s, "setPaused", { paused: true, pad: "x".repeat(100_000) })).status).toBe(413);
    const status = await new Promise<number>((resolve, reject) => {
      const request = http.request({ host: "127.0.0.1", port: s.port, path: "/", headers: { host: `evil.example:${s.port}` } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on("error", reject);
      request.end();
    });
    expect(status).toBe(421);
  });

  it("serves the built renderer with the CSP, or a page saying how to build it", async () => {
    const bare = await start();
    const fallback = await fetch(`${bare.origin}/`);
    expect(await fallback.text()).toContain("npm run build:renderer");
    await bare.close();
    await writeFile(path.join(dir, "index.html"), "<!doctype html><title>dash</title>");
    const built = await start({ staticDir: dir });
    const page = await fetch(`${built.origin}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<title>dash</title>");
    expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
  });
});

describe("dashboard bridge events over WebSocket", () => {
  function open(s: DashboardServer) {
    const socket = new WebSocket(`${s.origin.replace("http", "ws")}/bridge/v1/events`);
    const messages: unknown[] = [];
    const closed = new Promise<number>((resolve) => socket.addEventListener("close", (event) => resolve(event.code)));
    socket.addEventListener("message", (event) => messages.push(JSON.parse(String(event.data))));
    return { socket, messages, closed, opened: new Promise((resolve) => socket.addEventListener("open", resolve)) };
  }

  it("sends events after the token handshake and stops when the socket closes", async () => {
    const s = await start();
    const client = open(s);
    await client.opened;
    client.socket.send(JSON.stringify({ type: "auth", token: TOKEN }));
    await expect.poll(() => client.messages).toEqual([{ type: "ready" }]);
    expect(listeners.size).toBe(1);
    for (const listener of listeners) listener({ type: "status", status: { ...STATUS } });
    await expect.poll(() => client.messages.length).toBe(2);
    expect(client.messages[1]).toMatchObject({ type: "status", status: { peerId: "12D3KooWtest" } });
    client.socket.close();
    await client.closed;
    await expect.poll(() => listeners.size).toBe(0);
  });

  it("closes with 4401 on a wrong token and never subscribes", async () => {
    const s = await start();
    const client = open(s);
    await client.opened;
    client.socket.send(JSON.stringify({ type: "auth", token: "w".repeat(43) }));
    expect(await client.closed).toBe(4401);
    expect(listeners.size).toBe(0);
    expect(client.messages).toEqual([]);
  });

  it("refuses sockets beyond the limit", async () => {
    const s = await start({ maxSockets: 1 });
    const first = open(s);
    await first.opened;
    const second = open(s);
    expect(await second.closed).toBe(1013);
    first.socket.close();
  });
});

describe("dashboard token", () => {
  it("is created once with mode 0600 and read back unchanged", async () => {
    const file = path.join(dir, "sub", "dashboard.token");
    const token = await loadOrCreateDashboardToken(file);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await loadOrCreateDashboardToken(file)).toBe(token);
    await writeFile(file, "short");
    await expect(loadOrCreateDashboardToken(file)).rejects.toThrow(/delete it/);
  });
});
