import type { BrowserWindowConstructorOptions, Session, WebContents } from "electron";
import type { Logger } from "../common/index.js";
import { APP_SCHEME, DASHBOARD_HOST } from "./app-protocol.js";

/** The dashboard's window: the page gets no Node, runs sandboxed, and sees only what the preload exposes. */
export function dashboardWindowOptions(options: { preloadPath: string; iconPath: string }): BrowserWindowConstructorOptions {
  return {
    width: 1280,
    height: 860,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: "InferSwarm",
    icon: options.iconPath,
    backgroundColor: "#111418",
    autoHideMenuBar: true,
    webPreferences: {
      preload: options.preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
    },
  };
}

/** The page may move between its own documents (a reload, another of its files), nowhere else. */
export function isDashboardUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === `${APP_SCHEME}:` && parsed.host === DASHBOARD_HOST;
  } catch {
    return false;
  }
}

/**
 * Navigation away from the dashboard, new windows and <webview> are all denied. An https link the owner
 * clicks (e.g. to the docs) opens in their browser instead, so the app never shows a remote page.
 */
export function hardenWebContents(contents: WebContents, options: { openExternal?: (url: string) => void; logger: Logger }): void {
  const logger = options.logger.child({ module: "window" });
  const refuseNavigation = (event: { preventDefault(): void }, url: string) => {
    if (isDashboardUrl(url)) return;
    event.preventDefault();
    logger.warn({ url: url.slice(0, 200) }, "refused to navigate the dashboard away");
  };
  contents.on("will-navigate", (event) => refuseNavigation(event, event.url));
  contents.on("will-redirect", (event) => refuseNavigation(event, event.url));
  contents.on("will-attach-webview", (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (options.openExternal && /^https:\/\//i.test(url)) options.openExternal(url);
    return { action: "deny" };
  });
}

/** No camera, notifications API, geolocation, clipboard reads, HID…: the dashboard needs none of them. */
export function denyAllPermissions(session: Pick<Session, "setPermissionRequestHandler" | "setPermissionCheckHandler" | "setDevicePermissionHandler">): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
}
