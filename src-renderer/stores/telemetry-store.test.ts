import { describe, expect, it } from "vitest";
import type { TelemetryHistory } from "../../src-contract/index.js";
import { fixtureTelemetry, fixtureTelemetryPoint } from "../test-support/dashboard-fixtures.js";
import { deferred } from "../test-support/deferred.js";
import { createFakeDashboardApi } from "../test-support/fake-dashboard-api.js";
import { createTelemetryStore, TELEMETRY_CAPACITY } from "./telemetry-store.js";

const point = (at: number) => fixtureTelemetryPoint(at % 60, at);

describe("telemetry store", () => {
  it("is seeded by getTelemetry: source, interval, limits and samples", async () => {
    const store = createTelemetryStore(createFakeDashboardApi());
    await store.getState().load();
    const state = store.getState();
    expect(state.source).toBe("fixture");
    expect(state.intervalMs).toBe(2000);
    expect(state.limits?.maxTemperatureC).toBe(83);
    expect(state.samples).toHaveLength(60);
    expect(state.capacity).toBe(TELEMETRY_CAPACITY);
  });

  it("appends telemetry events after the seed", async () => {
    const store = createTelemetryStore(createFakeDashboardApi());
    await store.getState().load();
    const last = store.getState().samples.at(-1)!.at;
    store.getState().append(point(last + 2000));
    expect(store.getState().samples).toHaveLength(61);
    expect(store.getState().samples.at(-1)!.at).toBe(last + 2000);
  });

  it("keeps at most its capacity, dropping the oldest", () => {
    const store = createTelemetryStore(createFakeDashboardApi(), 5);
    for (let at = 1; at <= 12; at += 1) store.getState().append(point(at * 1000));
    expect(store.getState().samples.map((s) => s.at)).toEqual([8000, 9000, 10000, 11000, 12000]);
  });

  it("bounds the seed too (the node may send up to 2000 samples)", async () => {
    const history = fixtureTelemetry();
    history.samples = Array.from({ length: 1200 }, (_, i) => point(i * 2000));
    const store = createTelemetryStore(createFakeDashboardApi({ data: { telemetry: history } }));
    await store.getState().load();
    expect(store.getState().samples).toHaveLength(TELEMETRY_CAPACITY);
    expect(store.getState().samples[0]!.at).toBe(300 * 2000);
  });

  it("merges points that arrived while the history was loading, once each, in time order", async () => {
    const answer = deferred<TelemetryHistory>();
    const store = createTelemetryStore(createFakeDashboardApi({ handlers: { getTelemetry: () => answer.promise } }));
    const loading = store.getState().load();
    store.getState().append(point(10_000));
    store.getState().append(point(12_000));
    answer.resolve({ ...fixtureTelemetry(), samples: [point(6_000), point(8_000), point(10_000)] });
    await loading;
    expect(store.getState().samples.map((s) => s.at)).toEqual([6_000, 8_000, 10_000, 12_000]);
  });

  it("replaces a repeated instant and orders a late one", () => {
    const store = createTelemetryStore(createFakeDashboardApi());
    store.getState().append(point(1000));
    store.getState().append(point(3000));
    store.getState().append({ ...point(3000), errors: ["nvidia-smi stopped reporting"] });
    store.getState().append(point(2000));
    expect(store.getState().samples.map((s) => s.at)).toEqual([1000, 2000, 3000]);
    expect(store.getState().samples.at(-1)!.errors).toEqual(["nvidia-smi stopped reporting"]);
  });
});
