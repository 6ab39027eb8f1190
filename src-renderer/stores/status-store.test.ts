import { describe, expect, it } from "vitest";
import { DashboardCallError, type NodeStatusView } from "../../src-contract/index.js";
import { fixtureStatus } from "../test-support/dashboard-fixtures.js";
import { deferred } from "../test-support/deferred.js";
import { createFakeDashboardApi } from "../test-support/fake-dashboard-api.js";
import { createStatusStore } from "./status-store.js";

describe("status store", () => {
  it("loads the status, with loading true while the call is in flight", async () => {
    const answer = deferred<NodeStatusView>();
    const store = createStatusStore(createFakeDashboardApi({ handlers: { getStatus: () => answer.promise } }));
    const loading = store.getState().load();
    expect(store.getState()).toMatchObject({ loading: true, loaded: false, status: null });
    answer.resolve(fixtureStatus());
    await loading;
    expect(store.getState()).toMatchObject({ loading: false, loaded: true, error: null });
    expect(store.getState().status?.tray).toBe("contributing");
  });

  it("keeps the node's error code and message when loading fails", async () => {
    const store = createStatusStore(
      createFakeDashboardApi({
        handlers: {
          getStatus: async () => {
            throw new DashboardCallError("NODE_STOPPING", "The node is stopping.");
          },
        },
      }),
    );
    await store.getState().load();
    expect(store.getState().error).toEqual({ code: "NODE_STOPPING", message: "The node is stopping." });
    expect(store.getState().loaded).toBe(false);
  });

  it("shares one request between concurrent loads", async () => {
    const api = createFakeDashboardApi();
    const store = createStatusStore(api);
    await Promise.all([store.getState().load(), store.getState().load()]);
    expect(api.callsTo("getStatus")).toHaveLength(1);
  });

  it("pauses through setPaused and holds the status the node returned", async () => {
    const api = createFakeDashboardApi();
    const store = createStatusStore(api);
    await store.getState().setPaused(true);
    expect(api.callsTo("setPaused")).toEqual([{ paused: true }]);
    expect(store.getState().status).toMatchObject({ mode: "paused", tray: "paused" });
    expect(store.getState().updating).toBe(false);
  });

  it("keeps a refused action's error apart from the load error", async () => {
    const api = createFakeDashboardApi({
      handlers: {
        setMode: async () => {
          throw new DashboardCallError("NO_MODELS_SERVED", "This node serves no model, so there is nothing to pause or schedule.");
        },
      },
    });
    const store = createStatusStore(api);
    await store.getState().load();
    await store.getState().setMode("always");
    expect(store.getState().actionError?.code).toBe("NO_MODELS_SERVED");
    expect(store.getState().error).toBeNull();
    expect(store.getState().status?.mode).toBe("when-idle");
  });

  it("takes status events, and an event that arrives during a load wins over the older answer", async () => {
    const answer = deferred<NodeStatusView>();
    const store = createStatusStore(createFakeDashboardApi({ handlers: { getStatus: () => answer.promise } }));
    const loading = store.getState().load();
    const pushed = { ...fixtureStatus(), peers: 11 };
    store.getState().receive(pushed);
    answer.resolve({ ...fixtureStatus(), peers: 3 });
    await loading;
    expect(store.getState().status?.peers).toBe(11);
    expect(store.getState().loaded).toBe(true);
  });
});
