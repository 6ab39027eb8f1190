import { BRIDGE_CALL_PATH, BRIDGE_EVENTS_PATH, BRIDGE_UNAUTHORIZED_CLOSE_CODE, DashboardCallError, type DashboardCallName } from "../../src-contract/index.js";
import type { ConnectionListener, ConnectionState } from "./connection.js";

/** The part of the browser's WebSocket the bridge uses, so tests can pass a fake. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
}
export type WebSocketConstructorLike = new (url: string) => WebSocketLike;

export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface BridgeTransportOptions {
  token: string;
  fetch: typeof fetch;
  WebSocket: WebSocketConstructorLike;
  /** `ws://127.0.0.1:7480` for a page served from http://127.0.0.1:7480 (see eventsUrlFor). */
  eventsOrigin: string;
  /** Prefix for call URLs; "" keeps them relative, i.e. same origin. */
  callOrigin?: string;
  timers?: Timers;
  /** A call that has not answered by then fails with BRIDGE_TIMEOUT. */
  callTimeoutMs?: number;
  /** Reconnect delays: the first, doubled per failed attempt up to the cap. */
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
  onConnectionChange?: ConnectionListener;
}

export interface BridgeTransport {
  call(name: DashboardCallName, args: unknown): Promise<unknown>;
  subscribe(listener: (event: unknown) => void): () => void;
}

/** The events socket's address for a page at `location` (ws: for http:, wss: for https:). */
export function eventsOriginFor(location: Pick<Location, "protocol" | "host">): string {
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}`;
}

const browserTimers: Timers = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
};

const UNREACHABLE_HINT = "Is `inferswarm node` still running? Reload this page once it is.";

/**
 * The headless bridge as a transport for createDashboardApi: calls are `POST /bridge/v1/call/<name>` with the
 * token as a Bearer header and the contract's {ok,value}|{ok,error} outcome as the body (also on 4xx/5xx);
 * events come over one shared WebSocket that authenticates with its first message, reconnects with bounded
 * backoff while anyone listens and closes when the last listener leaves.
 */
export function createBridgeTransport(options: BridgeTransportOptions): BridgeTransport {
  const timers = options.timers ?? browserTimers;
  const callTimeoutMs = options.callTimeoutMs ?? 30_000;
  const initialDelay = options.reconnectInitialMs ?? 500;
  const maxDelay = options.reconnectMaxMs ?? 10_000;
  const listeners = new Set<(event: unknown) => void>();
  let socket: WebSocketLike | null = null;
  let retryTimer: unknown = null;
  let failedAttempts = 0;
  let state: ConnectionState = "idle";

  const setState = (next: ConnectionState) => {
    if (next === state) return;
    state = next;
    options.onConnectionChange?.(next);
  };

  async function call(name: DashboardCallName, args: unknown): Promise<unknown> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = timers.setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, callTimeoutMs);
    try {
      let response: Response;
      try {
        response = await options.fetch(`${options.callOrigin ?? ""}${BRIDGE_CALL_PATH}${name}`, {
          method: "POST",
          headers: { "Content-Type": "application/json", Authorization: `Bearer ${options.token}` },
          body: JSON.stringify(args ?? {}),
          cache: "no-store",
          signal: controller.signal,
        });
      } catch (error) {
        if (timedOut) throw new DashboardCallError("BRIDGE_TIMEOUT", `The node did not answer ${name} within ${Math.round(callTimeoutMs / 1000)} s. ${UNREACHABLE_HINT}`);
        throw new DashboardCallError("BRIDGE_UNREACHABLE", `The dashboard cannot reach the node (${(error as Error)?.message ?? "network error"}). ${UNREACHABLE_HINT}`);
      }
      // Errors come back as the same JSON outcome with a 4xx/5xx status; only a body that is not one is an HTTP error.
      try {
        return await response.json();
      } catch {
        throw new DashboardCallError(
          response.ok ? "BAD_RESPONSE" : "BRIDGE_HTTP_ERROR",
          response.ok ? `The node's answer to ${name} is not JSON.` : `The node answered ${name} with HTTP ${response.status} and no explanation. ${UNREACHABLE_HINT}`,
        );
      }
    } finally {
      timers.clearTimeout(timer);
    }
  }

  function scheduleReconnect() {
    const delay = Math.min(maxDelay, initialDelay * 2 ** failedAttempts);
    failedAttempts += 1;
    setState("reconnecting");
    retryTimer = timers.setTimeout(() => {
      retryTimer = null;
      if (listeners.size > 0) connect();
    }, delay);
  }

  function connect() {
    setState(state === "idle" ? "connecting" : state);
    const ws = new options.WebSocket(`${options.eventsOrigin}${BRIDGE_EVENTS_PATH}`);
    socket = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token: options.token }));
    ws.onmessage = (message) => {
      if (socket !== ws || typeof message.data !== "string") return;
      let data: unknown;
      try {
        data = JSON.parse(message.data);
      } catch {
        return;
      }
      if ((data as { type?: unknown } | null)?.type === "ready") {
        failedAttempts = 0;
        setState("open");
        return;
      }
      for (const listener of [...listeners]) listener(data);
    };
    ws.onerror = () => {
      // A close event always follows; reconnecting is decided there.
    };
    ws.onclose = (event) => {
      if (socket !== ws) return;
      socket = null;
      if (listeners.size === 0) return setState("idle");
      // The node refused the token: retrying with the same one cannot help.
      if (event.code === BRIDGE_UNAUTHORIZED_CLOSE_CODE) return setState("unauthorized");
      scheduleReconnect();
    };
  }

  function disconnect() {
    if (retryTimer !== null) timers.clearTimeout(retryTimer);
    retryTimer = null;
    failedAttempts = 0;
    const ws = socket;
    socket = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
      ws.close(1000, "no listeners");
    }
    setState("idle");
  }

  function subscribe(listener: (event: unknown) => void): () => void {
    const entry = (event: unknown) => listener(event);
    listeners.add(entry);
    if (!socket && retryTimer === null) connect();
    return () => {
      if (!listeners.delete(entry)) return;
      if (listeners.size === 0) disconnect();
    };
  }

  return { call, subscribe };
}
