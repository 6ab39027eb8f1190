import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DashboardApi, DashboardEvent, ModelDownloadView } from "../../src-contract/index.js";
import { parseNodeConfig, spawnNodeProcess, startNode, type NodeProcess, type RunningNode } from "./index.js";
import { dashboardBridgeClient, waitFor } from "./node.test-support.js";

// The dashboard's Models panel end to end: node A (in this process) serves the tiny model and so seeds it;
// node B is a real `inferswarm node` process with an empty store. B's dashboard, driven through the
// contract client the browser uses (HTTP bridge + WebSocket), fetches A's model by its root; the
// downloads list and the live events show it finish, and B's file equals A's byte for byte.
let seeder: RunningNode;
let fetcher: NodeProcess;
let fetcherHome: string;
let api: DashboardApi;
let root: string;
let seededFile: string;
const events: DashboardEvent[] = [];
let unsubscribe: (() => void) | undefined;

beforeAll(async () => {
  const seederHome = await mkdtemp(path.join(os.tmpdir(), "inferswarm-seeder-"));
  seeder = await startNode(
    parseNodeConfig({ listen: ["/ip4/127.0.0.1/tcp/0"], mdns: false, hardware: false, threads: 1, serve: [{ preset: "tiny" }], policy: { mode: "always" } }),
    { paths: { configDir: seederHome, dataDir: seederHome } },
  );
  // start-node seeds a served model a moment after it starts (hashing it off the start path).
  await waitFor(() => seeder.models.held().length > 0, "the seeder to hold its served model");
  const held = seeder.models.held()[0]!;
  root = held.manifest.root;
  seededFile = held.paths[0]!;

  fetcherHome = await mkdtemp(path.join(os.tmpdir(), "inferswarm-fetcher-"));
  fetcher = await spawnNodeProcess(["--dashboard-port", "0", "--bootstrap", seeder.swarm.multiaddrs()[0]!], { home: fetcherHome });
  api = dashboardBridgeClient(fetcher.dashboardUrl!, { timeoutMs: 20_000 });
  unsubscribe = api.subscribe((event) => events.push(event));
  // The seeder's advert names it as a likely source; the DHT would find it otherwise.
  await waitFor(async () => (await api.getStatus({})).workersSeen >= 1, "the seeder's advert at the fetcher", 60_000);
}, 240_000);

afterAll(async () => {
  unsubscribe?.();
  await fetcher?.stop();
  await seeder?.stop();
  if (fetcherHome) await rm(fetcherHome, { recursive: true, force: true });
});

/** Every file under `dir`, relative paths. */
async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

describe("the dashboard fetches a model over the swarm", () => {
  it("fetchModel(root) starts a download that finishes complete, and the file equals the seeder's byte for byte", async () => {
    expect((await api.getModels({})).downloads).toEqual([]);
    const started = await api.fetchModel({ root });
    expect(started).toMatchObject({ root, state: "fetching", error: null });

    let finished: ModelDownloadView | undefined;
    await waitFor(
      async () => {
        const download = (await api.getModels({})).downloads.find((d) => d.root === root);
        if (download?.state === "failed") throw new Error(`the download failed: ${download.error}`);
        finished = download?.state === "finished" ? download : undefined;
        return finished !== undefined;
      },
      "the download to finish",
      120_000,
    );
    const original = await readFile(seededFile);
    expect(finished).toMatchObject({ root, state: "finished", receivedBytes: original.length, totalBytes: original.length, etaSeconds: 0, error: null });
    expect(finished!.receivedBytes).toBe(finished!.totalBytes);

    const fileName = seeder.models.held()[0]!.manifest.parts[0]!.fileName;
    const copies = (await filesUnder(fetcherHome)).filter((file) => file.includes(root) && path.basename(file) === fileName && !file.includes(`${path.sep}partial${path.sep}`));
    expect(copies).toHaveLength(1);
    expect((await readFile(copies[0]!)).equals(original)).toBe(true);

    // The page is kept live by events: the last one for this download says it finished.
    await waitFor(() => events.some((e) => e.type === "download" && e.download.root === root && e.download.state === "finished"), "the finished download event");
  }, 180_000);

  it("refuses to fetch a model the node already holds, with a clear code", async () => {
    await expect(api.fetchModel({ root })).rejects.toMatchObject({ code: "ALREADY_HELD" });
  });

  it("refuses a root that is not 64 hex characters before it reaches the node", async () => {
    await expect(api.fetchModel({ root: "not-a-root" })).rejects.toMatchObject({ code: "BAD_ARGUMENT" });
  });
});
