import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { App } from "electron";
import { afterEach, beforeEach, describe, expect, expectTypeOf, it, vi } from "vitest";
import { autostartFilePath, createStartAtLogin, HIDDEN_ARG, quoteExecArgument, type LoginItemApp } from "./login-items.js";

let home: string;
beforeEach(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), "inferswarm-autostart-"));
});
afterEach(() => rm(home, { recursive: true, force: true }));

const noApp: LoginItemApp = {
  getLoginItemSettings: () => {
    throw new Error("not on Linux");
  },
  setLoginItemSettings: () => {
    throw new Error("not on Linux");
  },
};

function linux(env: NodeJS.ProcessEnv = {}, execPath = "/opt/InferSwarm/inferswarm", appArgs: string[] = []) {
  return createStartAtLogin({ platform: "linux", app: noApp, env, homeDir: home, execPath, appArgs });
}

describe("start at login on Linux (XDG autostart)", () => {
  it("writes and removes ~/.config/autostart/inferswarm.desktop", async () => {
    const startAtLogin = linux();
    const file = path.join(home, ".config", "autostart", "inferswarm.desktop");
    expect(await startAtLogin.get()).toBe(false);
    await startAtLogin.set(true);
    expect(await startAtLogin.get()).toBe(true);
    const text = await readFile(file, "utf8");
    expect(text.split("\n")[0]).toBe("[Desktop Entry]");
    expect(text).toContain("Type=Application\n");
    expect(text).toContain(`Exec=/opt/InferSwarm/inferswarm ${HIDDEN_ARG}\n`);
    expect((await stat(file)).mode & 0o777).toBe(0o644);
    // Written atomically: nothing but the entry is left in the folder.
    expect(await readdir(path.dirname(file))).toEqual(["inferswarm.desktop"]);
    await startAtLogin.set(false);
    expect(await startAtLogin.get()).toBe(false);
    await startAtLogin.set(false);
  });

  it("honours XDG_CONFIG_HOME, and ignores a relative one as the spec says", () => {
    expect(autostartFilePath({ XDG_CONFIG_HOME: "/xdg" }, "/home/o")).toBe("/xdg/autostart/inferswarm.desktop");
    expect(autostartFilePath({ XDG_CONFIG_HOME: "relative" }, "/home/o")).toBe("/home/o/.config/autostart/inferswarm.desktop");
  });

  it("starts an AppImage by its own path, and an unpackaged app with its folder", async () => {
    await linux({ XDG_CONFIG_HOME: home, APPIMAGE: "/home/o/Apps/InferSwarm.AppImage" }, "/tmp/.mount_Infer/inferswarm").set(true);
    expect(await readFile(path.join(home, "autostart", "inferswarm.desktop"), "utf8")).toContain(`Exec=/home/o/Apps/InferSwarm.AppImage ${HIDDEN_ARG}\n`);
    await linux({ XDG_CONFIG_HOME: home }, "/repo/node_modules/electron/dist/electron", ["/repo"]).set(true);
    expect(await readFile(path.join(home, "autostart", "inferswarm.desktop"), "utf8")).toContain(`Exec=/repo/node_modules/electron/dist/electron /repo ${HIDDEN_ARG}\n`);
  });

  it("quotes Exec arguments as the Desktop Entry spec requires", () => {
    expect(quoteExecArgument("/opt/app")).toBe("/opt/app");
    expect(quoteExecArgument("/home/o/My Apps/InferSwarm")).toBe('"/home/o/My Apps/InferSwarm"');
    expect(quoteExecArgument('/a"b$c`d')).toBe('"/a\\\\"b\\\\$c\\\\`d"');
    expect(quoteExecArgument("/100%")).toBe("/100%%");
    expect(() => quoteExecArgument("/a\nb")).toThrow(/line break/);
  });
});

describe("start at login on macOS and Windows", () => {
  it("uses Electron's login item settings, with the hidden flag", async () => {
    expectTypeOf<App>().toExtend<LoginItemApp>();
    let openAtLogin = false;
    const app: LoginItemApp = {
      getLoginItemSettings: vi.fn(() => ({ openAtLogin })),
      setLoginItemSettings: vi.fn((settings) => {
        openAtLogin = settings.openAtLogin;
      }),
    };
    const startAtLogin = createStartAtLogin({ platform: "win32", app, env: {}, homeDir: home, execPath: "C:\\InferSwarm.exe", appArgs: [] });
    await startAtLogin.set(true);
    expect(app.setLoginItemSettings).toHaveBeenCalledWith({ openAtLogin: true, args: [HIDDEN_ARG] });
    expect(await startAtLogin.get()).toBe(true);
    expect(app.getLoginItemSettings).toHaveBeenCalledWith({ args: [HIDDEN_ARG] });
    expect(await readdir(home)).toEqual([]);
  });
});
