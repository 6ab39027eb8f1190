import { createDashboardApi, dashboardCallNames, type DashboardApi, type DashboardCallName } from "../../src-contract/index.js";
import { decodeBridgeError } from "../../src-contract/bridge-error.js";

/** True when `value` looks like what the Electron preload exposes: one function per call plus subscribe. */
export function isExposedDashboardApi(value: unknown): value is DashboardApi {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate.subscribe === "function" && dashboardCallNames.every((name) => typeof candidate[name] === "function");
}

/**
 * The preload's `window.inferswarm` behind the same client as the bridge: results are validated against the
 * contract, and errors (contextBridge keeps only an Error's message, so the code travels as "[CODE] message")
 * become DashboardCallError with their code again.
 */
export function createPreloadDashboardApi(exposed: DashboardApi): DashboardApi {
  return createDashboardApi({
    async call(name: DashboardCallName, args: unknown) {
      const invoke = exposed[name] as (a: unknown) => Promise<unknown>;
      try {
        return { ok: true, value: await invoke(args) };
      } catch (error) {
        const { code, message } = decodeBridgeError(error);
        return { ok: false, error: { code: code.slice(0, 64), message: message.slice(0, 2000) } };
      }
    },
    subscribe: (listener) => exposed.subscribe(listener),
  });
}
