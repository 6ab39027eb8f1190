import { coreResultSchemas, type CoreMethod, type CoreResult, type CoreStartParams, type CoreToMainMessage, type MainToCoreMessage } from "../../src-contract/core-port.js";
import type { TimerHandle, Timers } from "../common/index.js";

/** A request to the core that did not succeed; `code` is the core's own, or one of the port's (CORE_*). */
export class CoreRpcError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "CoreRpcError";
  }
}

export interface CoreRpcClientOptions {
  /** Sends one message to the core (the utilityProcess's postMessage). */
  post(message: MainToCoreMessage): void;
  timers: Timers;
  /** Requests waiting for an answer at once; more are refused (CORE_BUSY) rather than queued without end. */
  maxInFlight?: number;
  timeoutMs?: Partial<Record<CoreMethod, number>>;
}

/** Starting a node loads models and measures this machine (minutes on a slow disk); the rest is quick. */
export const DEFAULT_CORE_TIMEOUTS_MS: Record<CoreMethod, number> = { call: 15_000, generateIdentity: 10_000, start: 15 * 60_000, stop: 20_000 };
export const DEFAULT_CORE_MAX_IN_FLIGHT = 32;

export interface CoreRpcClient {
  /** A dashboard call: resolves with the value, rejects with the contract's error code. */
  call(name: string, args: unknown): Promise<unknown>;
  generateIdentity(): Promise<string>;
  start(params: CoreStartParams): Promise<CoreResult<"start">>;
  stop(): Promise<void>;
  /** Feeds a response from the core; unknown or late ids are dropped. */
  handleResponse(message: Extract<CoreToMainMessage, { type: "response" }>): void;
  /** Rejects every waiting request (the core died) and refuses new ones. */
  close(code: string, message: string): void;
  inFlight(): number;
}

interface Pending {
  method: CoreMethod;
  resolve(value: unknown): void;
  reject(error: CoreRpcError): void;
  timer: TimerHandle;
}

/** Request/response over the utilityProcess port: numbered requests, a deadline each, a bound on how many wait. */
export function createCoreRpcClient(options: CoreRpcClientOptions): CoreRpcClient {
  const { timers } = options;
  const maxInFlight = options.maxInFlight ?? DEFAULT_CORE_MAX_IN_FLIGHT;
  const timeouts = { ...DEFAULT_CORE_TIMEOUTS_MS, ...options.timeoutMs };
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let closed: CoreRpcError | undefined;

  function request<M extends CoreMethod>(method: M, fields: Record<string, unknown>): Promise<CoreResult<M>> {
    if (closed) return Promise.reject(closed);
    if (pending.size >= maxInFlight) {
      return Promise.reject(new CoreRpcError("CORE_BUSY", `The node already has ${maxInFlight} requests waiting; try again in a moment.`));
    }
    const id = nextId++;
    return new Promise<CoreResult<M>>((resolve, reject) => {
      const timeoutMs = timeouts[method];
      const timer = timers.setTimeout(() => {
        pending.delete(id);
        reject(new CoreRpcError("CORE_TIMEOUT", `The node did not answer ${describe(method, fields)} within ${Math.round(timeoutMs / 1000)} s.`));
      }, timeoutMs);
      pending.set(id, { method, resolve: resolve as (value: unknown) => void, reject, timer });
      try {
        options.post({ type: "request", id, method, ...fields } as MainToCoreMessage);
      } catch (error) {
        timers.clearTimeout(timer);
        pending.delete(id);
        reject(new CoreRpcError("CORE_UNAVAILABLE", `The node could not be reached: ${error instanceof Error ? error.message : String(error)}.`));
      }
    });
  }

  return {
    call: (name, args) => request("call", { name, args }),
    generateIdentity: async () => (await request("generateIdentity", {})).privateKey,
    start: (params) => request("start", { params }),
    stop: async () => {
      await request("stop", {});
    },
    handleResponse(message) {
      const entry = pending.get(message.id);
      if (!entry) return;
      pending.delete(message.id);
      timers.clearTimeout(entry.timer);
      const { outcome } = message;
      if (!outcome.ok) return entry.reject(new CoreRpcError(outcome.error.code, outcome.error.message));
      const result = coreResultSchemas[entry.method].safeParse(outcome.value);
      if (!result.success) return entry.reject(new CoreRpcError("CORE_BAD_RESPONSE", `The node's answer to ${entry.method} is malformed.`));
      entry.resolve(result.data);
    },
    close(code, message) {
      closed = new CoreRpcError(code, message);
      for (const [id, entry] of pending) {
        pending.delete(id);
        timers.clearTimeout(entry.timer);
        entry.reject(closed);
      }
    },
    inFlight: () => pending.size,
  };
}

function describe(method: CoreMethod, fields: Record<string, unknown>): string {
  return method === "call" ? String(fields.name) : method;
}
