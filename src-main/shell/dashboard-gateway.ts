import type { DashboardCallName, DashboardCallOutcome, SettingsUpdate } from "../../src-contract/index.js";

/** Start at login, which the shell owns (the core cannot register an app with the OS). */
export interface StartAtLogin {
  get(): Promise<boolean>;
  set(enabled: boolean): Promise<void>;
}

export interface DashboardGatewayOptions {
  /** The core's answer to a call whose argument has been validated already. */
  callCore(name: DashboardCallName, args: unknown): Promise<DashboardCallOutcome<unknown>>;
  startAtLogin: StartAtLogin;
}

export type DashboardGateway = (name: DashboardCallName, args: unknown) => Promise<DashboardCallOutcome<unknown>>;

/**
 * Where the shell's IPC handlers send a validated call: to the core, except the one setting the shell
 * owns. `updateSettings({startAtLogin})` is applied here and removed before the core sees it (a headless
 * node refuses it); every settings answer carries the shell's value instead of the core's null.
 */
export function createDashboardGateway(options: DashboardGatewayOptions): DashboardGateway {
  const { startAtLogin } = options;

  async function withStartAtLogin(outcome: DashboardCallOutcome<unknown>): Promise<DashboardCallOutcome<unknown>> {
    if (!outcome.ok) return outcome;
    try {
      return { ok: true, value: { ...(outcome.value as object), startAtLogin: await startAtLogin.get() } };
    } catch {
      // Cannot tell (e.g. an unreadable autostart folder): null is the contract's "not managed here".
      return { ok: true, value: { ...(outcome.value as object), startAtLogin: null } };
    }
  }

  return async (name, args) => {
    if (name === "getSettings") return withStartAtLogin(await options.callCore(name, args));
    if (name !== "updateSettings") return options.callCore(name, args);
    const { startAtLogin: wanted, ...forCore } = args as SettingsUpdate;
    if (wanted !== undefined) {
      try {
        await startAtLogin.set(wanted);
      } catch (error) {
        const detail = error instanceof Error ? error.message : String(error);
        return { ok: false, error: { code: "START_AT_LOGIN_FAILED", message: `Could not ${wanted ? "turn on" : "turn off"} start at login: ${detail}` } };
      }
    }
    return withStartAtLogin(await options.callCore(name, forCore));
  };
}
