import { dashboardCallNames, ipcChannelFor, parseCallArgs, type DashboardCallOutcome } from "../../src-contract/index.js";
import type { Logger } from "../common/index.js";
import { APP_SCHEME, DASHBOARD_HOST } from "./app-protocol.js";
import type { DashboardGateway } from "./dashboard-gateway.js";

/** The frame that sent an IPC message, as Electron's `WebFrameMain` describes it. */
export interface SenderFrameLike {
  readonly url: string;
  readonly parent: unknown;
}
export interface IpcInvokeEventLike {
  /** null when the frame has navigated away or been destroyed since it sent. */
  readonly senderFrame: SenderFrameLike | null;
}
/** The part of Electron's `ipcMain` the relay uses. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcInvokeEventLike, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

/**
 * Only the dashboard's own top-level page may call the node: a subframe (an ad, an injected iframe) or a
 * page that navigated elsewhere must not. The origin of a custom scheme serialises as "null", so protocol
 * and host are compared instead.
 */
export function isTrustedSender(frame: SenderFrameLike | null): boolean {
  if (!frame || frame.parent !== null) return false;
  let url: URL;
  try {
    url = new URL(frame.url);
  } catch {
    return false;
  }
  return url.protocol === `${APP_SCHEME}:` && url.host === DASHBOARD_HOST;
}

const refused = (code: string, message: string): DashboardCallOutcome<never> => ({ ok: false, error: { code, message } });

/**
 * One `ipcMain.handle` per call of the dashboard contract, derived from its table: the sender is checked,
 * then the argument (with the contract's schema) before the gateway, and so the core, sees anything.
 * Answers are outcomes (`{ok, value | error}`), never thrown, so codes survive IPC.
 */
export function registerDashboardIpc(options: { ipcMain: IpcMainLike; gateway: DashboardGateway; logger: Logger }): () => void {
  const { ipcMain, gateway } = options;
  const logger = options.logger.child({ module: "ipc" });
  for (const name of dashboardCallNames) {
    ipcMain.handle(ipcChannelFor(name), async (event, ...args) => {
      if (!isTrustedSender(event.senderFrame)) {
        logger.warn({ call: name, url: event.senderFrame?.url.slice(0, 200) ?? null }, "refused an IPC call from a frame that is not the dashboard");
        return refused("IPC_FORBIDDEN", "Only the InferSwarm dashboard may call the node.");
      }
      if (args.length > 1) return refused("BAD_ARGUMENT", `${name} takes one argument, not ${args.length}.`);
      let parsed: unknown;
      try {
        parsed = parseCallArgs(name, args[0]);
      } catch (error) {
        return refused("BAD_ARGUMENT", error instanceof Error ? error.message : String(error));
      }
      return gateway(name, parsed);
    });
  }
  return () => {
    for (const name of dashboardCallNames) ipcMain.removeHandler(ipcChannelFor(name));
  };
}
