import { describe, expect, it } from "vitest";
import type { ModelDownloadView, ModelsView } from "../../src-contract/index.js";
import { fixtureModels, FIXTURE_NOW } from "../test-support/dashboard-fixtures.js";
import { deferred } from "../test-support/deferred.js";
import { createFakeDashboardApi } from "../test-support/fake-dashboard-api.js";
import { createConnectionStore } from "./connection-store.js";
import { createDashboardStores } from "./dashboard-stores.js";
import { createModelsStore, DOWNLOADS_CAPACITY, upsertDownload } from "./models-store.js";

const download = (root: string, overrides: Partial<ModelDownloadView> = {}): ModelDownloadView => ({
  root,
  name: root.slice(0, 12),
  state: "fetching",
  receivedBytes: 0,
  totalBytes: 0,
  peers: 0,
  bytesPerSecond: 0,
  etaSeconds: null,
  error: null,
  startedAt: FIXTURE_NOW,
  ...overrides,
});
const root = (c: string) => c.repeat(64);

describe("models store", () => {
  it("replaces a known download where it is, puts a new or restarted one on top, and keeps at most the contract's 64", () => {
    let list = [download(root("a")), download(root("b"))];
    list = upsertDownload(list, download(root("b"), { receivedBytes: 5 }));
    expect(list.map((d) => [d.root[0], d.receivedBytes])).toEqual([
      ["a", 0],
      ["b", 5],
    ]);
    list = upsertDownload(list, download(root("b"), { startedAt: FIXTURE_NOW + 1 }));
    expect(list.map((d) => d.root[0])).toEqual(["b", "a"]);
    for (let i = 0; i < 100; i++) list = upsertDownload(list, download(i.toString(16).padStart(64, "0")));
    expect(list).toHaveLength(DOWNLOADS_CAPACITY);
  });

  it("fetchModel asks the node and shows the new download at once; a refusal is kept as the request's error", async () => {
    const api = createFakeDashboardApi();
    const store = createModelsStore(api);
    await store.getState().load();
    expect(await store.getState().fetchModel(root("c"))).toBe(true);
    expect(store.getState().models!.downloads[0]).toMatchObject({ root: root("c"), state: "fetching" });
    expect(store.getState().fetchRequest).toEqual({ root: root("c"), pending: false, error: null });
    // The contract refuses a malformed root before it reaches the node.
    expect(await store.getState().fetchModel("xyz")).toBe(false);
    expect(store.getState().fetchRequest?.error?.code).toBe("BAD_ARGUMENT");
    expect(api.callsTo("fetchModel")).toEqual([{ root: root("c") }]);
  });

  it("replays download events that arrived while the list was loading", async () => {
    const reload = deferred<ModelsView>();
    let answered = 0;
    const store = createModelsStore(createFakeDashboardApi({ handlers: { getModels: () => (answered++ === 0 ? Promise.resolve(fixtureModels()) : reload.promise) } }));
    await store.getState().load();
    const loading = store.getState().load();
    store.getState().receiveDownload(download(root("d"), { receivedBytes: 7 }));
    reload.resolve({ ...fixtureModels(), downloads: [download(root("d"))] });
    await loading;
    expect(store.getState().models!.downloads.find((d) => d.root === root("d"))?.receivedBytes).toBe(7);
  });

  it("download events reach the models store, and a reconnect reloads the models once the page has loaded them", async () => {
    const api = createFakeDashboardApi();
    const connection = createConnectionStore("open");
    const stores = createDashboardStores(api, { connection });
    stores.start();
    await stores.models.getState().load();
    api.emit({ type: "download", download: download(root("e"), { receivedBytes: 3 }) });
    expect(stores.models.getState().models!.downloads[0]).toMatchObject({ root: root("e"), receivedBytes: 3 });
    api.calls.length = 0;
    connection.getState().set("reconnecting");
    connection.getState().set("open");
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(api.calls.map((c) => c.name)).toContain("getModels");
  });
});
