import { EventEmitter } from "node:events";
import type { WebContents } from "electron";
import { describe, expect, it, vi } from "vitest";
import { createSilentLogger } from "../common/index.js";
import { dashboardWindowOptions, denyAllPermissions, hardenWebContents, isDashboardUrl } from "./dashboard-window.js";

class FakeWebContents extends EventEmitter {
  openHandler: ((details: { url: string }) => { action: string }) | undefined;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }) {
    this.openHandler = handler;
  }
  /** Emits like Electron: an event object with the url and preventDefault. */
  attempt(name: string, url: string): boolean {
    let prevented = false;
    this.emit(name, { url, preventDefault: () => (prevented = true) });
    return prevented;
  }
}

function harden(openExternal = vi.fn()) {
  const contents = new FakeWebContents();
  hardenWebContents(contents as unknown as WebContents, { openExternal, logger: createSilentLogger() });
  return { contents, openExternal };
}

describe("the dashboard window", () => {
  it("runs the page isolated, sandboxed, without Node, with web security and our preload", () => {
    const prefs = dashboardWindowOptions({ preloadPath: "/app/out/app/preload.cjs", iconPath: "/icon.png" }).webPreferences!;
    expect(prefs).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      preload: "/app/out/app/preload.cjs",
    });
  });

  it("lets the page move between its own documents only", () => {
    const { contents } = harden();
    expect(contents.attempt("will-navigate", "app://dashboard/index.html#/jobs")).toBe(false);
    expect(contents.attempt("will-navigate", "https://evil.example/")).toBe(true);
    expect(contents.attempt("will-navigate", "file:///etc/passwd")).toBe(true);
    expect(contents.attempt("will-navigate", "app://other/index.html")).toBe(true);
    expect(contents.attempt("will-redirect", "http://evil.example/")).toBe(true);
    expect(contents.attempt("will-attach-webview", "app://dashboard/")).toBe(true);
    expect(isDashboardUrl("app://dashboard/")).toBe(true);
  });

  it("denies every new window, handing https links to the owner's browser", () => {
    const { contents, openExternal } = harden();
    expect(contents.openHandler!({ url: "https://inferswarm.example/docs" })).toEqual({ action: "deny" });
    expect(openExternal).toHaveBeenCalledWith("https://inferswarm.example/docs");
    expect(contents.openHandler!({ url: "file:///etc/passwd" })).toEqual({ action: "deny" });
    expect(contents.openHandler!({ url: "javascript:alert(1)" })).toEqual({ action: "deny" });
    expect(openExternal).toHaveBeenCalledTimes(1);
  });

  it("denies every permission request and check", () => {
    let request: ((contents: unknown, permission: string, callback: (granted: boolean) => void) => void) | undefined;
    let check: (() => boolean) | undefined;
    let device: (() => boolean) | undefined;
    const session = {
      setPermissionRequestHandler: (handler: typeof request) => (request = handler),
      setPermissionCheckHandler: (handler: typeof check) => (check = handler),
      setDevicePermissionHandler: (handler: typeof device) => (device = handler),
    };
    denyAllPermissions(session as never);
    for (const permission of ["media", "geolocation", "notifications", "clipboard-read", "openExternal"]) {
      const callback = vi.fn();
      request!({}, permission, callback);
      expect(callback).toHaveBeenCalledWith(false);
    }
    expect(check!()).toBe(false);
    expect(device!()).toBe(false);
  });
});
