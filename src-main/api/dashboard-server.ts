import { existsSync } from "node:fs";
import path from "node:path";
import fastifyStatic from "@fastify/static";
import fastifyWebsocket from "@fastify/websocket";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { WebSocket } from "ws";
import {
  BRIDGE_AUTH_TIMEOUT_MS,
  BRIDGE_CALL_PATH,
  BRIDGE_EVENTS_PATH,
  BRIDGE_TOKEN_FRAGMENT,
  BRIDGE_UNAUTHORIZED_CLOSE_CODE,
  bridgeAuthMessageSchema,
  dispatchDashboardCall,
  type DashboardEvent,
  type DashboardHandlers,
} from "../../src-contract/index.js";
import { createSilentLogger, InferSwarmError, type Logger } from "../common/index.js";
import { bearerToken, createSecretMatcher, isAllowedHostHeader, loadOrCreateSecretFile } from "./local-http-guards.js";

export interface DashboardServerOptions {
  handlers: DashboardHandlers;
  subscribe(listener: (event: DashboardEvent) => void): () => void;
  /** The bearer token every call and socket must present. */
  token: string;
  /** Loopback only by default: the dashboard controls the node. */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** The built renderer (out/renderer); without it the root explains how to build it. */
  staticDir?: string;
  logger?: Logger;
  /** Largest call body; every call's argument is small. */
  maxBodyBytes?: number;
  /** Open event sockets at once; more are refused (a browser tab holds one). */
  maxSockets?: number;
  /** A socket whose unsent events exceed this is closed: a stalled tab must not grow the node's memory. */
  maxSocketBufferBytes?: number;
}

export interface DashboardServer {
  /** The address to open, with the token in the fragment (never sent to the server, never logged). */
  readonly url: string;
  readonly origin: string;
  readonly port: number;
  close(): Promise<void>;
}

/** The strictest policy the renderer works under (Recharts sets inline styles; events come over ws:). */
export const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

/**
 * The headless dashboard: serves the built renderer and the bridge that implements the dashboard contract
 * over HTTP (calls) and WebSocket (events), so a rig without a desktop is managed from a browser.
 */
export async function createDashboardServer(options: DashboardServerOptions): Promise<DashboardServer> {
  const logger = (options.logger ?? createSilentLogger()).child({ module: "api", server: "dashboard" });
  const host = options.host ?? "127.0.0.1";
  const maxSockets = options.maxSockets ?? 16;
  const maxSocketBufferBytes = options.maxSocketBufferBytes ?? 4 * 1024 * 1024;
  const matchToken = createSecretMatcher([options.token]);
  const tokenMatches = (candidate: string | undefined) => matchToken(candidate) !== undefined;

  const app: FastifyInstance = Fastify({ bodyLimit: options.maxBodyBytes ?? 64 * 1024, logger: false, return503OnClosing: true });
  await app.register(fastifyWebsocket, { options: { maxPayload: 4096 } });

  let port = 0;
  // DNS rebinding: a web page on another origin that resolves its name to 127.0.0.1 must not reach the node.
  app.addHook("onRequest", async (request, reply) => {
    if (!isAllowedHostHeader(request.headers.host, host, port)) {
      return reply.code(421).send({ ok: false, error: { code: "BAD_HOST", message: `This dashboard answers only on ${host}:${port}.` } });
    }
    reply.header("X-Content-Type-Options", "nosniff");
    reply.header("Referrer-Policy", "no-referrer");
    reply.header("Cache-Control", "no-store");
  });

  app.post(`${BRIDGE_CALL_PATH}:name`, async (request: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply) => {
    if (!tokenMatches(bearerToken(request.headers.authorization))) {
      return reply.code(401).send({ ok: false, error: { code: "UNAUTHORIZED", message: "Open the dashboard with the URL the node printed (it carries the token)." } });
    }
    const outcome = await dispatchDashboardCall(options.handlers, request.params.name, request.body ?? {});
    if (outcome.ok) return reply.send(outcome);
    const status = outcome.error.code === "UNKNOWN_CALL" ? 404 : outcome.error.code === "BAD_ARGUMENT" || outcome.error.code === "BAD_SETTINGS" ? 400 : outcome.error.code === "INTERNAL" ? 500 : 409;
    if (status === 500) logger.error({ call: request.params.name, error: outcome.error }, "a dashboard call failed");
    return reply.code(status).send(outcome);
  });

  const sockets = new Set<WebSocket>();
  app.get(BRIDGE_EVENTS_PATH, { websocket: true }, (socket: WebSocket) => {
    if (sockets.size >= maxSockets) {
      socket.close(1013, "too many dashboard connections");
      return;
    }
    sockets.add(socket);
    let unsubscribe: (() => void) | undefined;
    const authTimer = setTimeout(() => socket.close(BRIDGE_UNAUTHORIZED_CLOSE_CODE, "no token"), BRIDGE_AUTH_TIMEOUT_MS);
    socket.on("message", (data: Buffer, isBinary: boolean) => {
      if (unsubscribe) return; // after the handshake the bridge only talks; what a client says is ignored
      let message: unknown;
      try {
        message = isBinary ? undefined : JSON.parse(data.toString("utf8"));
      } catch {
        message = undefined;
      }
      const auth = bridgeAuthMessageSchema.safeParse(message);
      if (!auth.success || !tokenMatches(auth.data.token)) {
        clearTimeout(authTimer);
        socket.close(BRIDGE_UNAUTHORIZED_CLOSE_CODE, "bad token");
        return;
      }
      clearTimeout(authTimer);
      socket.send(JSON.stringify({ type: "ready" }));
      unsubscribe = options.subscribe((event) => {
        if (socket.readyState !== socket.OPEN) return;
        if (socket.bufferedAmount > maxSocketBufferBytes) {
          socket.close(1013, "the dashboard is not reading its events");
          return;
        }
        socket.send(JSON.stringify(event));
      });
    });
    socket.on("close", () => {
      clearTimeout(authTimer);
      unsubscribe?.();
      sockets.delete(socket);
    });
  });

  const staticDir = options.staticDir && existsSync(path.join(options.staticDir, "index.html")) ? options.staticDir : undefined;
  if (staticDir) {
    await app.register(fastifyStatic, {
      root: staticDir,
      index: "index.html",
      setHeaders: (res) => res.header("Content-Security-Policy", DASHBOARD_CSP),
    });
  } else {
    app.get("/", async (_request, reply) =>
      reply
        .type("text/html")
        .header("Content-Security-Policy", DASHBOARD_CSP)
        .send(
          `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>InferSwarm</title><p>The dashboard is not built on this machine: run <code>npm run build:renderer</code>, then reload. The bridge at ${BRIDGE_CALL_PATH} works without it.</p>`,
        ),
    );
  }

  try {
    await app.listen({ host, port: options.port ?? 0 });
  } catch (error) {
    await app.close();
    throw new InferSwarmError("API_LISTEN_FAILED", `The dashboard could not listen on ${host}:${options.port ?? 0} (${(error as Error).message}); pick another port with --dashboard-port.`, { cause: error });
  }
  const address = app.server.address();
  port = typeof address === "object" && address ? address.port : 0;
  const origin = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  logger.info({ origin }, "dashboard listening");

  return {
    origin,
    port,
    url: `${origin}/#${BRIDGE_TOKEN_FRAGMENT}=${options.token}`,
    async close() {
      for (const socket of sockets) socket.close(1001, "the node is stopping");
      await app.close();
    },
  };
}

/** A random token kept beside the node's data (0600), so the printed URL stays valid across restarts. */
export function loadOrCreateDashboardToken(file: string): Promise<string> {
  return loadOrCreateSecretFile(file, { what: "dashboard token" });
}
