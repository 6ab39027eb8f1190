/**
 * The dashboard's preload (sandboxed, bundled to one CommonJS file, out/app/preload.cjs): exposes
 * `window.inferswarm`, the contract's DashboardApi, and nothing else — one named function per call and
 * `subscribe`. The page never receives `ipcRenderer` or an IPC event object. Arguments and results are
 * validated here too, with the contract's schemas; errors carry their code as `[CODE] message`
 * (src-contract/bridge-error.ts) because contextBridge copies only an Error's message.
 */
import { contextBridge, ipcRenderer } from "electron";
import { z } from "zod";
import { decodeBridgeError, encodeBridgeError } from "../../src-contract/bridge-error.js";
import { createDashboardApi, dashboardCallNames, IPC_EVENT_CHANNEL, ipcChannelFor, type DashboardApi, type DashboardEvent } from "../../src-contract/index.js";

// zod otherwise probes `new Function` once, which the page's CSP reports as a violation.
z.config({ jitless: true });

/** The part of Electron's `ipcRenderer` the preload uses. */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

/** Subscriptions at once; a page leaking them gets an error instead of unbounded listeners. */
export const MAX_SUBSCRIBERS = 32;

export function buildPreloadApi(ipc: IpcRendererLike): DashboardApi {
  const listeners = new Set<(raw: unknown) => void>();
  const onEvent = (_event: unknown, payload: unknown) => {
    for (const listener of listeners) listener(payload);
  };

  const inner = createDashboardApi({
    call: (name, args) => ipc.invoke(ipcChannelFor(name), args),
    subscribe(listener) {
      if (listeners.size >= MAX_SUBSCRIBERS) throw new Error(encodeBridgeError("TOO_MANY_SUBSCRIBERS", `At most ${MAX_SUBSCRIBERS} subscriptions at once; call the function subscribe() returned to end one.`));
      if (listeners.size === 0) ipc.on(IPC_EVENT_CHANNEL, onEvent);
      listeners.add(listener);
      return () => {
        if (listeners.delete(listener) && listeners.size === 0) ipc.removeListener(IPC_EVENT_CHANNEL, onEvent);
      };
    },
  });

  const api: Record<string, unknown> = {};
  for (const name of dashboardCallNames) {
    const call = inner[name] as (args: unknown) => Promise<unknown>;
    api[name] = async (args: unknown) => {
      try {
        return await call(args);
      } catch (error) {
        const { code, message } = decodeBridgeError(error);
        throw new Error(encodeBridgeError(code, message), { cause: error });
      }
    };
  }
  api.subscribe = (listener: (event: DashboardEvent) => void) => {
    if (typeof listener !== "function") throw new Error(encodeBridgeError("BAD_ARGUMENT", "subscribe takes a function."));
    const stop = inner.subscribe((event) => listener(event));
    return () => {
      stop();
    };
  };
  return Object.freeze(api) as DashboardApi;
}

contextBridge.exposeInMainWorld("inferswarm", buildPreloadApi(ipcRenderer));
