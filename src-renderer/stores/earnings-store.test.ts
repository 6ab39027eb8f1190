import { describe, expect, it } from "vitest";
import { unavailableEarnings } from "../test-support/dashboard-fixtures.js";
import { createFakeDashboardApi } from "../test-support/fake-dashboard-api.js";
import { createEarningsStore } from "./earnings-store.js";
import { createModelsStore } from "./models-store.js";
import { createReputationStore } from "./reputation-store.js";

describe("earnings store", () => {
  it("loads the summary and exports CSV for the asked range", async () => {
    const api = createFakeDashboardApi();
    const store = createEarningsStore(api);
    await store.getState().load();
    expect(store.getState().earnings?.totals.last7Days.payable).toBe(51);
    const file = await store.getState().exportCsv(30);
    expect(api.callsTo("exportEarningsCsv")).toEqual([{ days: 30 }]);
    expect(file?.fileName).toMatch(/\.csv$/);
    expect(store.getState().exporting).toBe(false);
  });

  it("keeps a refused export as exportError", async () => {
    const store = createEarningsStore(createFakeDashboardApi({ data: { earnings: unavailableEarnings() } }));
    expect(await store.getState().exportCsv(7)).toBeNull();
    expect(store.getState().exportError?.code).toBe("LEDGER_UNAVAILABLE");
  });
});

describe("reputation and models stores", () => {
  it("load their views", async () => {
    const api = createFakeDashboardApi();
    const reputation = createReputationStore(api);
    const models = createModelsStore(api);
    await Promise.all([reputation.getState().load(), models.getState().load()]);
    expect(reputation.getState().reputation?.tier).toBe("trusted");
    expect(models.getState().models?.installed).toHaveLength(2);
  });
});
