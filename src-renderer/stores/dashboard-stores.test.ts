import { describe, expect, it } from "vitest";
import { DashboardCallError } from "../../src-contract/index.js";
import { fixtureJobs, fixtureStatus, fixtureTelemetryPoint, FIXTURE_NOW } from "../test-support/dashboard-fixtures.js";
import { createFakeDashboardApi } from "../test-support/fake-dashboard-api.js";
import { createConnectionStore } from "./connection-store.js";
import { createDashboardStores } from "./dashboard-stores.js";

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("dashboard stores", () => {
  it("start() subscribes to events and loads status, telemetry and jobs; stop() unsubscribes", async () => {
    const api = createFakeDashboardApi();
    const stores = createDashboardStores(api);
    const stop = stores.start();
    expect(api.listenerCount()).toBe(1);
    await settle();
    expect(api.calls.map((c) => c.name).sort()).toEqual(["getStatus", "getTelemetry", "listJobs"]);
    expect(stores.status.getState().loaded && stores.telemetry.getState().loaded && stores.jobs.getState().loaded).toBe(true);
    stop();
    expect(api.listenerCount()).toBe(0);
  });

  it("routes each event to its domain's store", async () => {
    const api = createFakeDashboardApi();
    const stores = createDashboardStores(api);
    stores.start();
    await settle();
    api.emit({ type: "status", status: { ...fixtureStatus(), tray: "too-hot" } });
    api.emit({ type: "telemetry", point: fixtureTelemetryPoint(0, FIXTURE_NOW + 2000) });
    api.emit({ type: "job", job: { ...fixtureJobs()[0]!, state: "answered", endedAt: FIXTURE_NOW } });
    expect(stores.status.getState().status?.tray).toBe("too-hot");
    expect(stores.telemetry.getState().samples.at(-1)?.at).toBe(FIXTURE_NOW + 2000);
    expect(stores.jobs.getState().jobs[0]?.state).toBe("answered");
  });

  it("reloads what events keep current when the event connection comes back", async () => {
    const api = createFakeDashboardApi();
    const connection = createConnectionStore("open");
    const stores = createDashboardStores(api, { connection });
    stores.start();
    await settle();
    api.calls.length = 0;
    connection.getState().set("reconnecting");
    connection.getState().set("open");
    await settle();
    expect(api.calls.map((c) => c.name).sort()).toEqual(["getStatus", "getTelemetry", "listJobs"]);
  });

  it("refreshes the status after settings are saved", async () => {
    const api = createFakeDashboardApi();
    const stores = createDashboardStores(api);
    stores.start();
    await settle();
    await stores.settings.getState().save({ policy: { mode: "always" } });
    await settle();
    expect(stores.status.getState().status?.mode).toBe("always");
  });

  it("keeps each store's error to itself", async () => {
    const api = createFakeDashboardApi({
      handlers: {
        getTelemetry: async () => {
          throw new DashboardCallError("HARDWARE_UNAVAILABLE", "The telemetry sampler is not running.");
        },
      },
    });
    const stores = createDashboardStores(api);
    stores.start();
    await settle();
    expect(stores.telemetry.getState().error?.code).toBe("HARDWARE_UNAVAILABLE");
    expect(stores.status.getState().error).toBeNull();
  });
});
