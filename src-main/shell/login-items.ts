import { access } from "node:fs/promises";
import path from "node:path";
import { removeFile, writeFileAtomic } from "./atomic-file.js";
import type { StartAtLogin } from "./dashboard-gateway.js";

/** Passed when the OS starts the app at login: it goes straight to the tray, without the window. */
export const HIDDEN_ARG = "--hidden";

/** The part of Electron's `app` that manages login items (macOS and Windows only). */
export interface LoginItemApp {
  getLoginItemSettings(options?: { args?: string[] }): { openAtLogin: boolean };
  setLoginItemSettings(settings: { openAtLogin: boolean; args?: string[] }): void;
}

export interface StartAtLoginOptions {
  platform: NodeJS.Platform;
  app: LoginItemApp;
  /** For XDG_CONFIG_HOME and APPIMAGE; tests point it at a temporary folder. */
  env: NodeJS.ProcessEnv;
  homeDir: string;
  /** The program to start: Electron's executable (process.execPath). */
  execPath: string;
  /** Arguments before HIDDEN_ARG: the app folder when run unpackaged (`electron .`), else none. */
  appArgs: readonly string[];
}

/**
 * Start at login. macOS and Windows register a login item through Electron; Linux has no such API, so an
 * XDG autostart entry (`$XDG_CONFIG_HOME/autostart/inferswarm.desktop`) is written or removed, atomically.
 * An AppImage is started by its own path ($APPIMAGE): the executable inside it moves on every mount.
 */
export function createStartAtLogin(options: StartAtLoginOptions): StartAtLogin {
  if (options.platform !== "linux") {
    // Windows matches the registered entry by its arguments too, so both calls pass the same ones.
    const args = [...options.appArgs, HIDDEN_ARG];
    return {
      get: async () => options.app.getLoginItemSettings({ args }).openAtLogin,
      set: async (enabled) => options.app.setLoginItemSettings({ openAtLogin: enabled, args }),
    };
  }
  const file = autostartFilePath(options.env, options.homeDir);
  const program = options.env.APPIMAGE || options.execPath;
  return {
    get: () =>
      access(file).then(
        () => true,
        () => false,
      ),
    set: async (enabled) => {
      if (enabled) await writeFileAtomic(file, autostartDesktopEntry([program, ...options.appArgs, HIDDEN_ARG]), { mode: 0o644, dirMode: 0o755 });
      else await removeFile(file);
    },
  };
}

export function autostartFilePath(env: NodeJS.ProcessEnv, homeDir: string): string {
  const configHome = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(homeDir, ".config");
  return path.join(configHome, "autostart", "inferswarm.desktop");
}

/** A Desktop Entry (freedesktop.org spec 1.5) that starts the app hidden in the tray. */
export function autostartDesktopEntry(command: readonly string[]): string {
  return [
    "[Desktop Entry]",
    "Type=Application",
    "Version=1.5",
    "Name=InferSwarm",
    "Comment=Lend this computer's idle GPU to the InferSwarm swarm",
    `Exec=${command.map(quoteExecArgument).join(" ")}`,
    "Icon=inferswarm",
    "Terminal=false",
    "X-GNOME-Autostart-enabled=true",
    "",
  ].join("\n");
}

/**
 * The Exec key's quoting: an argument with a reserved character is double-quoted, with `"`, `` ` ``, `$`
 * and `\` escaped inside; then the value's own escaping doubles every backslash, and `%` becomes `%%`.
 */
export function quoteExecArgument(argument: string): string {
  if (/[\n\r]/.test(argument)) throw new Error(`A path with a line break cannot be started at login: ${JSON.stringify(argument)}`);
  const needsQuotes = argument === "" || /[\s"'\\><~|&;$*?#()`=]/.test(argument);
  const quoted = needsQuotes ? `"${argument.replace(/["`$\\]/g, "\\$&")}"` : argument;
  return quoted.replace(/\\/g, "\\\\").replace(/%/g, "%%");
}
