import { rm } from "node:fs/promises";
import path from "node:path";
import type { PrivateKey } from "@libp2p/interface";
import { dispatchDashboardCall } from "../../src-contract/index.js";
import {
  CORE_PORT_PROTOCOL,
  mainToCoreMessageSchema,
  type CoreRequest,
  type CoreResult,
  type CoreStartParams,
  type CoreToMainMessage,
} from "../../src-contract/core-port.js";
import { backgroundTimers, createLogger, InferSwarmError, systemClock, type Clock, type Logger, type Timers } from "../common/index.js";
import { generateIdentityBytes, identityFromBytes, readIdentityFileBytes } from "../swarm/index.js";
import { createDashboardService, type DashboardService, type DashboardServiceOptions } from "./dashboard-service.js";
import { parseNodeConfig, readNodeConfigFile, type NodeConfig } from "./node-config.js";
import { defaultNodePaths, type NodePaths } from "./node-paths.js";
import { createRemoteIdleSource, type RemoteIdleSource } from "./remote-idle-source.js";
import { startNode, type RunningNode, type StartNodeDeps } from "./start-node.js";
import { startNodeApi, type NodeApi } from "./node-api.js";

/** The part of Electron's `process.parentPort` the core uses; typed here because the core never imports electron. */
export interface ParentPortLike {
  on(event: "message", listener: (messageEvent: { data: unknown }) => void): unknown;
  postMessage(message: unknown): void;
}

export interface CoreProcessDeps {
  port: ParentPortLike;
  paths: NodePaths;
  loadConfig(paths: NodePaths): Promise<NodeConfig>;
  startNode(config: NodeConfig, deps: StartNodeDeps): Promise<RunningNode>;
  createDashboardService(options: DashboardServiceOptions): Promise<DashboardService>;
  /** The OpenAI-compatible API, when the config enables it (the desktop app serves it like a headless node). */
  startNodeApi?(node: RunningNode, config: NodeConfig, paths: NodePaths, logger: Logger): Promise<NodeApi>;
  generateIdentityBytes(): Promise<Uint8Array>;
  identityFromBytes(bytes: Uint8Array, origin: string): PrivateKey;
  /** The headless node's 0600 key file, if one exists (a key made before the keyring was available). */
  readIdentityFileBytes(file: string): Promise<Uint8Array | undefined>;
  removeFile(file: string): Promise<void>;
  clock: Clock;
  timers: Timers;
  logger: Logger;
  exit(code: number): void;
  /** How long a shell reading of the owner's presence counts; see remote-idle-source.ts. */
  idleStaleAfterMs?: number;
}

export interface CoreProcess {
  readonly idleSource: RemoteIdleSource;
}

type Phase = "waiting" | "starting" | "running" | "stopping";

/**
 * The node core inside Electron's utilityProcess: answers the shell's requests over the parent port
 * (generate an identity, start, dashboard calls, stop) and forwards the dashboard service's events. The
 * same startNode + createDashboardService as `inferswarm node`, without the HTTP bridge: the shell relays
 * the contract over IPC instead.
 */
export function runCoreProcess(deps: CoreProcessDeps): CoreProcess {
  const { port, timers } = deps;
  const logger = deps.logger.child({ module: "core-port" });
  const idleSource = createRemoteIdleSource({ clock: deps.clock, timers, staleAfterMs: deps.idleStaleAfterMs });
  let phase: Phase = "waiting";
  let node: RunningNode | undefined;
  let service: DashboardService | undefined;
  let api: NodeApi | undefined;
  let badMessages = 0;

  const post = (message: CoreToMainMessage) => port.postMessage(message);

  async function start(params: CoreStartParams): Promise<CoreResult<"start">> {
    if (phase !== "waiting") throw new InferSwarmError("CORE_ALREADY_STARTED", `The node is already ${phase}; the shell asked to start it twice.`);
    phase = "starting";
    try {
      const config = await deps.loadConfig(deps.paths);
      const privateKey = params.privateKey === null ? undefined : deps.identityFromBytes(Buffer.from(params.privateKey, "base64"), "kept in the OS keyring");
      node = await deps.startNode(config, { paths: deps.paths, logger: deps.logger, idleSource, privateKey });
      try {
        api = config.api.enabled && deps.startNodeApi ? await deps.startNodeApi(node, config, deps.paths, deps.logger) : undefined;
        service = await deps.createDashboardService({
          node,
          config,
          identityStorage: params.identityStorage,
          ownerSettingsFile: path.join(deps.paths.dataDir, "owner-settings.json"),
          ...(api && { api: { url: api.gateway.baseUrl, key: api.key } }),
          logger: deps.logger,
        });
      } catch (error) {
        await api?.close();
        api = undefined;
        await node.stop();
        node = undefined;
        throw error;
      }
      service.subscribe((event) => post({ type: "event", event }));
      phase = "running";
      if (params.privateKey !== null) await forgetMovedPlaintextKey(params.privateKey);
      return { peerId: node.peerId };
    } catch (error) {
      phase = "waiting";
      throw error;
    }
  }

  const plaintextIdentityFile = path.join(deps.paths.dataDir, "identity.key");

  /**
   * A key created while no keyring was available lives in a 0600 file. When the keyring appears, that key
   * (not a new one: the peer id and its reputation are kept) is handed to the shell to encrypt, and once the
   * node has started from the keyring's copy, the plaintext file goes.
   */
  async function identityForTheKeyring(): Promise<Uint8Array> {
    const existing = await deps.readIdentityFileBytes(plaintextIdentityFile);
    if (existing) logger.info({ file: plaintextIdentityFile }, "moving the node's existing key into the OS keyring");
    return existing ?? (await deps.generateIdentityBytes());
  }

  async function forgetMovedPlaintextKey(keyringKeyBase64: string): Promise<void> {
    try {
      const existing = await deps.readIdentityFileBytes(plaintextIdentityFile);
      if (existing && Buffer.from(existing).toString("base64") === keyringKeyBase64) {
        await deps.removeFile(plaintextIdentityFile);
        logger.info({ file: plaintextIdentityFile }, "the node's key is now kept only in the OS keyring; removed its plaintext file");
      }
    } catch (error) {
      logger.warn({ err: error, file: plaintextIdentityFile }, "could not remove the plaintext copy of the node's key; delete it by hand");
    }
  }

  async function stop(): Promise<CoreResult<"stop">> {
    phase = "stopping";
    service?.close();
    idleSource.close();
    await api?.close();
    await node?.stop();
    return {};
  }

  async function run(request: CoreRequest): Promise<unknown> {
    switch (request.method) {
      case "generateIdentity":
        return { privateKey: Buffer.from(await identityForTheKeyring()).toString("base64") } satisfies CoreResult<"generateIdentity">;
      case "start":
        return start(request.params);
      case "stop":
        return stop();
      case "call":
        throw new Error("unreachable: calls are dispatched separately");
    }
  }

  async function handle(data: unknown): Promise<void> {
    const parsed = mainToCoreMessageSchema.safeParse(data);
    if (!parsed.success) {
      // The shell is our own code: a bad message is a bug, logged (a few times) rather than answered.
      if (badMessages++ < 5) logger.warn({ issue: parsed.error.issues[0]?.message }, "ignoring a malformed message from the shell");
      return;
    }
    const message = parsed.data;
    if (message.type === "idle") {
      idleSource.push(message.reading);
      return;
    }
    if (message.method === "call") {
      const outcome = service
        ? await dispatchDashboardCall(service.handlers, message.name, message.args)
        : { ok: false as const, error: { code: "CORE_STARTING", message: "The node is still starting (loading models, measuring this machine); try again in a moment." } };
      post({ type: "response", id: message.id, outcome });
      return;
    }
    try {
      post({ type: "response", id: message.id, outcome: { ok: true, value: await run(message) } });
    } catch (error) {
      const code = typeof (error as { code?: unknown }).code === "string" ? (error as { code: string }).code.slice(0, 64) : "INTERNAL";
      const text = error instanceof Error ? error.message : String(error);
      logger.warn({ err: error, method: message.method }, "a shell request failed");
      post({ type: "response", id: message.id, outcome: { ok: false, error: { code, message: text.slice(0, 2000) } } });
    }
    // Give the answer time to leave before the process goes; the shell kills it if it lingers.
    if (message.method === "stop") timers.setTimeout(() => deps.exit(0), 200);
  }

  port.on("message", (messageEvent) => void handle(messageEvent.data));
  post({ type: "ready", protocol: CORE_PORT_PROTOCOL });
  return { idleSource };
}

/** node.json from the platform config directory, as `inferswarm node` reads it (without its flags). */
async function loadDesktopConfig(paths: NodePaths): Promise<NodeConfig> {
  const file = path.join(paths.configDir, "node.json");
  return parseNodeConfig(await readNodeConfigFile(file, { optional: true }), file);
}

const parentPort = (process as unknown as { parentPort?: ParentPortLike | null }).parentPort;
if (parentPort) {
  runCoreProcess({
    port: parentPort,
    paths: defaultNodePaths(),
    loadConfig: loadDesktopConfig,
    startNode,
    createDashboardService,
    startNodeApi,
    generateIdentityBytes,
    identityFromBytes,
    readIdentityFileBytes,
    removeFile: (file) => rm(file, { force: true }),
    clock: systemClock,
    timers: backgroundTimers,
    logger: createLogger({ name: "inferswarm-core", level: process.env.INFERSWARM_LOG_LEVEL ?? "info" }),
    exit: (code) => process.exit(code),
  });
}
