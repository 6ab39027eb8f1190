import { EventEmitter } from "node:events";
import type { App } from "electron";
import { describe, expect, expectTypeOf, it, vi } from "vitest";
import { claimSingleInstance, type SingleInstanceApp } from "./single-instance.js";

function fakeApp(gotLock: boolean) {
  return Object.assign(new EventEmitter(), { requestSingleInstanceLock: () => gotLock, quit: vi.fn() });
}

describe("one InferSwarm per user", () => {
  it("accepts Electron's app", () => {
    expectTypeOf<App>().toExtend<SingleInstanceApp>();
  });

  it("keeps the lock in the first instance and shows its window when a second one starts", () => {
    const app = fakeApp(true);
    const focus = vi.fn();
    expect(claimSingleInstance(app, focus)).toBe(true);
    expect(app.quit).not.toHaveBeenCalled();
    app.emit("second-instance");
    expect(focus).toHaveBeenCalledTimes(1);
  });

  it("quits a second instance at once", () => {
    const app = fakeApp(false);
    const focus = vi.fn();
    expect(claimSingleInstance(app, focus)).toBe(false);
    expect(app.quit).toHaveBeenCalled();
    expect(app.listenerCount("second-instance")).toBe(0);
  });
});
