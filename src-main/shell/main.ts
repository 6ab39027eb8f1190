/**
 * The Electron main process: composition only. Each piece lives in its own module with its tests; this
 * file creates Electron's objects and wires them. Bundled by scripts/build-app.ts to out/app/main.js.
 */
import path from "node:path";
import { app, BrowserWindow, ipcMain, Menu, nativeImage, Notification, powerMonitor, protocol, safeStorage, session, shell, Tray, utilityProcess } from "electron";
import { IPC_EVENT_CHANNEL, type DashboardEvent } from "../../src-contract/index.js";
import { backgroundTimers, systemClock, systemTimers } from "../common/index.js";
import { APP_SCHEME, APP_SCHEME_PRIVILEGES, createAppProtocolHandler, DASHBOARD_URL } from "./app-protocol.js";
import { createCoreSupervisor, type CoreChild } from "./core-supervisor.js";
import { createDashboardGateway } from "./dashboard-gateway.js";
import { dashboardWindowOptions, denyAllPermissions, hardenWebContents } from "./dashboard-window.js";
import { createElectronIdleSource } from "./electron-idle-source.js";
import { createIdleRelay } from "./idle-relay.js";
import { registerDashboardIpc } from "./ipc-relay.js";
import { prepareIdentity } from "./keyring-identity.js";
import { createStartAtLogin, HIDDEN_ARG } from "./login-items.js";
import { createNodeWatch } from "./node-watch.js";
import { createOwnerNotifier, type OwnerNotification } from "./owner-notifications.js";
import { openShellLog } from "./shell-log.js";
import { shellPaths } from "./shell-paths.js";
import { claimSingleInstance } from "./single-instance.js";
import { createTrayController } from "./tray-controller.js";
import { trayViewFor, type TrayIconName } from "./tray-view.js";

const paths = shellPaths(import.meta.dirname);
let window: BrowserWindow | undefined;

// Must happen before `ready`: app:// gets a real origin (standard) that counts as secure.
protocol.registerSchemesAsPrivileged(APP_SCHEME_PRIVILEGES);

// A second instance shows the first one's window and quits; only the first one rotates the log.
const primary = claimSingleInstance(app, () => showDashboard());
const log = openShellLog({ dir: path.join(app.getPath("userData"), "logs"), alsoStderr: !app.isPackaged, level: process.env.INFERSWARM_LOG_LEVEL, rotate: primary });
const logger = log.logger;
if (primary) {
  app.whenReady().then(run, (error: unknown) => {
    logger.fatal({ err: error }, "InferSwarm could not start");
    log.flush();
    app.exit(1);
  });
}

function showDashboard(): void {
  if (!app.isReady()) return;
  if (window && !window.isDestroyed()) {
    if (window.isMinimized()) window.restore();
    window.show();
    window.focus();
    return;
  }
  const created = new BrowserWindow(dashboardWindowOptions({ preloadPath: paths.preload, iconPath: paths.appIcon }));
  window = created;
  created.once("ready-to-show", () => created.show());
  created.on("closed", () => {
    if (window === created) window = undefined;
  });
  created.loadURL(DASHBOARD_URL).catch((error: unknown) => logger.error({ err: error }, "the dashboard failed to load"));
}

function sendToWindow(event: DashboardEvent): void {
  if (window && !window.isDestroyed()) window.webContents.send(IPC_EVENT_CHANNEL, event);
}

function forkCore(): CoreChild {
  const child = utilityProcess.fork(paths.core, [], { serviceName: "InferSwarm node", stdio: "pipe" });
  // The core logs to its stdout/stderr; both go to the app's one log file.
  for (const stream of [child.stdout, child.stderr]) stream?.on("data", (chunk: Buffer) => log.append(chunk.toString()));
  return {
    postMessage: (message) => child.postMessage(message),
    onMessage: (listener) => child.on("message", listener),
    onExit: (listener) => child.on("exit", listener),
    kill: () => void child.kill(),
  };
}

function notify(notification: Pick<OwnerNotification, "title" | "body">): void {
  if (Notification.isSupported()) new Notification({ title: notification.title, body: notification.body, icon: paths.appIcon }).show();
}

async function run(): Promise<void> {
  denyAllPermissions(session.defaultSession);
  protocol.handle(APP_SCHEME, createAppProtocolHandler({ rootDir: paths.rendererDir }));
  app.on("web-contents-created", (_event, contents) => hardenWebContents(contents, { openExternal: (url) => void shell.openExternal(url), logger }));
  // The tray keeps the app alive; closing the window frees the renderer's memory.
  app.on("window-all-closed", () => {});
  app.on("activate", () => showDashboard());

  const supervisor = createCoreSupervisor({
    fork: forkCore,
    prepareStart: (core) =>
      prepareIdentity({ safeStorage, platform: process.platform, file: path.join(app.getPath("userData"), "identity.key.enc"), generate: () => core.generateIdentity(), logger }),
    onEvent: (event) => {
      sendToWindow(event);
      watch.event(event);
    },
    timers: systemTimers,
    clock: systemClock,
    logger,
  });

  const startAtLogin = createStartAtLogin({
    platform: process.platform,
    app,
    env: process.env,
    homeDir: app.getPath("home"),
    execPath: process.execPath,
    appArgs: app.isPackaged ? [] : [app.getAppPath()],
  });
  const gateway = createDashboardGateway({ callCore: (name, args) => supervisor.call(name, args), startAtLogin });
  registerDashboardIpc({ ipcMain, gateway, logger });

  const trayIcon = (name: TrayIconName) => nativeImage.createFromPath(paths.trayIcon(name));
  const tray = new Tray(trayIcon("paused"));
  const trayController = createTrayController({
    tray,
    buildMenu: (template) => Menu.buildFromTemplate(template),
    icon: trayIcon,
    actions: {
      setPaused: (paused) => void gateway("setPaused", { paused }).then((outcome) => watch.statusOutcome(outcome)),
      setMode: (mode) => void gateway("setMode", { mode }).then((outcome) => watch.statusOutcome(outcome)),
      openDashboard: showDashboard,
      restartNode: () => supervisor.restart(),
      quit: () => app.quit(),
    },
  });
  const refreshTray = () => trayController.show(trayViewFor(supervisor.state(), watch.status()));
  tray.on("click", showDashboard);

  const watch = createNodeWatch({
    call: gateway,
    notifier: createOwnerNotifier({ show: notify, clock: systemClock }),
    onStatus: refreshTray,
    timers: systemTimers,
    clock: systemClock,
  });
  supervisor.onState((state) => {
    watch.coreState(state);
    refreshTray();
    if (state.kind === "failed") notify({ title: "InferSwarm's node is not running", body: state.reason });
  });

  const idleSource = createElectronIdleSource({ powerMonitor, timers: backgroundTimers });
  const idleRelay = createIdleRelay({ source: idleSource, send: (reading) => supervisor.sendIdle(reading), timers: backgroundTimers });

  if (process.env.INFERSWARM_E2E === "1") {
    // Read-only view for the Electron e2e spec, which cannot reach the tray otherwise.
    (globalThis as Record<string, unknown>).__inferswarmE2E = { tray: () => trayController.current() };
  }

  let coreStopped = false;
  app.on("will-quit", (event) => {
    if (coreStopped) return;
    event.preventDefault();
    watch.close();
    idleRelay.close();
    idleSource.close();
    supervisor
      .stop()
      .catch((error: unknown) => logger.warn({ err: error }, "the node did not stop cleanly"))
      .finally(() => {
        coreStopped = true;
        log.flush();
        tray.destroy();
        app.quit();
      });
  });

  refreshTray();
  supervisor.start();
  const openedAtLogin = process.argv.includes(HIDDEN_ARG) || (process.platform === "darwin" && app.getLoginItemSettings().wasOpenedAtLogin);
  if (!openedAtLogin) showDashboard();
}
