import type { MenuItemConstructorOptions, NativeImage, Menu, Tray } from "electron";
import { describe, expect, expectTypeOf, it, vi } from "vitest";
import { trayStateSchema, type NodeStatusView, type TrayState } from "../../src-contract/index.js";
import { createTrayController, type TrayLike } from "./tray-controller.js";
import { TRAY_ICON_NAMES, trayMenuTemplate, trayViewFor, type TrayActions } from "./tray-view.js";

function status(tray: TrayState, overrides: Partial<NodeStatusView> = {}): NodeStatusView {
  return {
    peerId: "12D3KooWpeer",
    addresses: [],
    mode: tray === "paused" ? "paused" : "when-idle",
    resumeMode: "when-idle",
    tray,
    decision: { contribute: tray === "contributing", reasonCode: tray === "too-hot" ? "too-hot" : "owner-active", reason: `reason for ${tray}`, at: 1 },
    models: [],
    peers: 0,
    workersSeen: 0,
    jobs: { answered: 0, failed: 0, gone: 0, tokensGenerated: 0 },
    startedAt: 1,
    ...overrides,
  } as NodeStatusView;
}

const running = { kind: "running" as const, peerId: "12D3KooWpeer" };

function actions() {
  return {
    setPaused: vi.fn<TrayActions["setPaused"]>(),
    setMode: vi.fn<TrayActions["setMode"]>(),
    openDashboard: vi.fn<TrayActions["openDashboard"]>(),
    restartNode: vi.fn<TrayActions["restartNode"]>(),
    quit: vi.fn<TrayActions["quit"]>(),
  } satisfies TrayActions;
}

/** Menu items by label, submenus flattened. */
function byLabel(items: MenuItemConstructorOptions[]): Map<string, MenuItemConstructorOptions> {
  const map = new Map<string, MenuItemConstructorOptions>();
  for (const item of items) {
    if (item.label) map.set(item.label, item);
    if (Array.isArray(item.submenu)) for (const [label, sub] of byLabel(item.submenu)) map.set(label, sub);
  }
  return map;
}
const click = (item: MenuItemConstructorOptions | undefined) => (item?.click as () => void)();

describe("the tray's view of the node", () => {
  it("has an icon for every state of the contract, plus one for a node that is down", () => {
    for (const state of trayStateSchema.options) expect(TRAY_ICON_NAMES).toContain(state);
    expect(TRAY_ICON_NAMES).toContain("error");
  });

  it.each([
    ["contributing", "Contributing"],
    ["waiting-for-idle", "Waiting for idle"],
    ["paused", "Paused"],
    ["too-hot", "Paused: GPU too hot"],
  ] as const)("shows %s with its icon and the policy's reason in the tooltip", (tray, headline) => {
    const view = trayViewFor(running, status(tray));
    expect(view.icon).toBe(tray);
    expect(view.headline).toBe(headline);
    expect(view.tooltip).toBe(`InferSwarm: ${headline} — reason for ${tray}`);
    expect(view.canControl).toBe(true);
  });

  it("shows a crashed node as an error with the restart countdown, and offers a restart once it gave up", () => {
    const restarting = trayViewFor({ kind: "restarting", reason: "The node stopped unexpectedly (exit code 134)", restartInMs: 4_000, attempt: 3 }, null);
    expect(restarting).toMatchObject({ icon: "error", canControl: false, canRestart: false });
    expect(restarting.tooltip).toContain("exit code 134");
    expect(restarting.tooltip).toContain("restarting in 4 s");
    const failed = trayViewFor({ kind: "failed", reason: "gave up" }, null);
    expect(failed).toMatchObject({ icon: "error", canRestart: true });
    expect(byLabel(trayMenuTemplate(failed, actions())).has("Restart the node")).toBe(true);
    expect(byLabel(trayMenuTemplate(trayViewFor(running, status("paused")), actions())).has("Restart the node")).toBe(false);
  });

  it("keeps the tooltip within what Windows shows", () => {
    const view = trayViewFor(running, status("waiting-for-idle", { decision: { contribute: false, reasonCode: "owner-active", reason: "x".repeat(400), at: 1 } }));
    expect(view.tooltip.length).toBeLessThanOrEqual(127);
  });

  it("offers Pause while working and Resume while paused, each doing what it says", () => {
    const a = actions();
    click(byLabel(trayMenuTemplate(trayViewFor(running, status("contributing")), a)).get("Pause contributing"));
    expect(a.setPaused).toHaveBeenLastCalledWith(true);
    click(byLabel(trayMenuTemplate(trayViewFor(running, status("paused")), a)).get("Resume contributing"));
    expect(a.setPaused).toHaveBeenLastCalledWith(false);
  });

  it("checks the current mode's radio item, or the mode Resume returns to, and sets a mode on click", () => {
    const a = actions();
    const working = byLabel(trayMenuTemplate(trayViewFor(running, status("contributing", { mode: "always" })), a));
    expect(working.get("Always")).toMatchObject({ type: "radio", checked: true });
    expect(working.get("When idle")).toMatchObject({ type: "radio", checked: false });
    const paused = byLabel(trayMenuTemplate(trayViewFor(running, status("paused", { resumeMode: "schedule" })), a));
    expect(paused.get("On my schedule")?.checked).toBe(true);
    click(working.get("When idle"));
    expect(a.setMode).toHaveBeenCalledWith("when-idle");
  });

  it("disables pause and mode while the node is not running, but keeps Open and Quit", () => {
    const a = actions();
    const items = byLabel(trayMenuTemplate(trayViewFor({ kind: "starting", attempt: 1 }, null), a));
    expect(items.get("Pause contributing")?.enabled).toBe(false);
    expect(items.get("Always")?.enabled).toBe(false);
    click(items.get("Open dashboard"));
    click(items.get("Quit InferSwarm"));
    expect(a.openDashboard).toHaveBeenCalled();
    expect(a.quit).toHaveBeenCalled();
  });
});

describe("the tray controller", () => {
  it("accepts Electron's Tray", () => {
    expectTypeOf<Tray>().toExtend<TrayLike>();
  });

  it("sets a new menu on every change, and the icon only when it changes", () => {
    const tray = { setImage: vi.fn(), setToolTip: vi.fn(), setContextMenu: vi.fn() };
    const built: MenuItemConstructorOptions[][] = [];
    const controller = createTrayController({
      tray,
      buildMenu: (template) => {
        built.push(template);
        return { items: template } as unknown as Menu;
      },
      icon: (name) => ({ name }) as unknown as NativeImage,
      actions: actions(),
    });
    controller.show(trayViewFor(running, status("waiting-for-idle")));
    controller.show(trayViewFor(running, status("waiting-for-idle", { decision: { contribute: false, reasonCode: "owner-active", reason: "idle 42 s", at: 2 } })));
    controller.show(trayViewFor(running, status("contributing")));
    expect(tray.setContextMenu).toHaveBeenCalledTimes(3);
    expect(new Set(tray.setContextMenu.mock.calls.map(([menu]) => menu)).size).toBe(3);
    expect(tray.setImage.mock.calls.map(([image]) => (image as { name: string }).name)).toEqual(["waiting-for-idle", "contributing"]);
    expect(tray.setToolTip).toHaveBeenLastCalledWith("InferSwarm: Contributing — reason for contributing");
    expect(controller.current()?.icon).toBe("contributing");
  });
});
