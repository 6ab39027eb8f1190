/**
 * The port between the Electron main process (the shell) and the node core in its utilityProcess: a
 * small request/response protocol plus pushed events and idle readings. Both ends validate every message
 * with these schemas. The shell owns the window, tray and OS keyring; the core owns everything else.
 * zod only: the core (src-main/node/utility-process-entry.ts) and the shell (src-main/shell) both load it.
 */
import { z } from "zod";
import { dashboardErrorSchema, dashboardEventSchema, settingsViewSchema } from "./dashboard-api.js";

export const CORE_PORT_PROTOCOL = "inferswarm-core-port/1";

const requestId = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
/** An Ed25519 key in libp2p's protobuf encoding is 68 bytes: 92 characters of base64. */
const keyBase64 = z.string().min(4).max(256).regex(/^[A-Za-z0-9+/]+={0,2}$/);

/** Presence as the shell's powerMonitor sees it (the policy's IdleReading). */
export const idleReadingSchema = z.object({ idleSeconds: z.number().min(0).max(1e9), locked: z.boolean(), suspended: z.boolean() }).strict();

export const coreStartParamsSchema = z
  .object({
    /** The identity the shell keeps encrypted with the OS keyring; null: the core uses its own 0600 file. */
    privateKey: keyBase64.nullable(),
    /** What the Settings page says about where the key lives. */
    identityStorage: settingsViewSchema.shape.identityStorage,
  })
  .strict();
export type CoreStartParams = z.infer<typeof coreStartParamsSchema>;

const request = <M extends string, S extends z.ZodRawShape>(method: M, shape: S) =>
  z.object({ type: z.literal("request"), id: requestId, method: z.literal(method), ...shape }).strict();

/** Shell → core requests. `call` runs one dashboard call through `dispatchDashboardCall`. */
export const coreRequestSchema = z.discriminatedUnion("method", [
  request("call", { name: z.string().max(64), args: z.unknown() }),
  /** A fresh identity key for the shell to encrypt: libp2p's key code stays in the core. */
  request("generateIdentity", {}),
  request("start", { params: coreStartParamsSchema }),
  /** Stop the node cleanly (running jobs are told to fail over); the core exits after answering. */
  request("stop", {}),
]);
export type CoreRequest = z.infer<typeof coreRequestSchema>;
export type CoreMethod = CoreRequest["method"];

export const mainToCoreMessageSchema = z.union([coreRequestSchema, z.object({ type: z.literal("idle"), reading: idleReadingSchema }).strict()]);
export type MainToCoreMessage = z.infer<typeof mainToCoreMessageSchema>;

/** What each method answers with when it succeeds. */
export const coreResultSchemas = {
  call: z.unknown(),
  generateIdentity: z.object({ privateKey: keyBase64 }).strict(),
  start: z.object({ peerId: z.string().max(128) }).strict(),
  stop: z.object({}).strict(),
} as const satisfies Record<CoreMethod, z.ZodType>;
export type CoreResult<M extends CoreMethod> = z.infer<(typeof coreResultSchemas)[M]>;

export const coreOutcomeSchema = z.union([
  z.object({ ok: z.literal(true), value: z.unknown() }).strict(),
  z.object({ ok: z.literal(false), error: dashboardErrorSchema }).strict(),
]);

/** Core → shell: `ready` once it listens, responses by id, and the dashboard's live events. */
export const coreToMainMessageSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("ready"), protocol: z.literal(CORE_PORT_PROTOCOL) }).strict(),
  z.object({ type: z.literal("response"), id: requestId, outcome: coreOutcomeSchema }).strict(),
  z.object({ type: z.literal("event"), event: dashboardEventSchema }).strict(),
]);
export type CoreToMainMessage = z.infer<typeof coreToMainMessageSchema>;
