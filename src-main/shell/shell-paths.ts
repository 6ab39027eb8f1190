import path from "node:path";
import type { TrayIconName } from "./tray-view.js";

export interface ShellPaths {
  preload: string;
  core: string;
  rendererDir: string;
  appIcon: string;
  trayIcon(name: TrayIconName): string;
}

/**
 * Where the built app's files are, from the folder of the bundled main.js (out/app, inside app.asar once
 * packaged): the preload and core beside it, icons in out/app/icons, the renderer in out/renderer.
 */
export function shellPaths(appDir: string): ShellPaths {
  const icons = path.join(appDir, "icons");
  return {
    preload: path.join(appDir, "preload.cjs"),
    core: path.join(appDir, "core.js"),
    rendererDir: path.join(appDir, "..", "renderer"),
    appIcon: path.join(icons, "icon.png"),
    trayIcon: (name) => path.join(icons, `tray-${name}.png`),
  };
}
