import { generateKeyPair } from "@libp2p/crypto/keys";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSilentLogger } from "../common/index.js";
import { createEngine } from "../engine/index.js";
import { createModelStore, ensureSyntheticModel, hashModelFile, type HeldModel } from "../models/index.js";
import { createSwarmNode, openPeerPieceSource, PiecesError, registerPiecesHandler, type PiecesServer, type SwarmNode } from "../swarm/index.js";
import { startNodeModels, type ModelFetchEvent, type NodeModels } from "./node-models.js";

const logger = createSilentLogger();
const PIECE = 64 * 1024;
const tempDirs: string[] = [];

async function tempDir(prefix: string) {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

async function startSwarm(bootstrap?: string[]): Promise<SwarmNode> {
  const node = await createSwarmNode({ privateKey: await generateKeyPair("Ed25519"), logger, listen: ["/ip4/127.0.0.1/tcp/0"], mdns: false, dialTimeoutMs: 3_000, bootstrap });
  await node.start();
  return node;
}

/** A seeder holding the test model (its file stays where it is). */
async function startSeeder(modelPath: string, caps?: { maxUploadBytesPerSecond?: number; maxConcurrentUploads?: number }, bootstrap?: string[]) {
  const swarm = await startSwarm(bootstrap);
  const store = createModelStore({ dir: await tempDir("seeder-") });
  await store.addFiles([modelPath], { pieceSize: PIECE });
  const models = await startNodeModels({ libp2p: swarm.libp2p, store, logger, caps: { maxConcurrentUploads: 8, ...caps } });
  return { swarm, models };
}

/** Explicit peers are peer ids: the fetcher must know their addresses (as bootstrap or adverts give them). */
async function dialAll(from: SwarmNode, to: SwarmNode[]) {
  for (const node of to) await from.libp2p.dial(node.libp2p.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(5_000) });
}

async function collect(events: AsyncIterable<ModelFetchEvent>): Promise<ModelFetchEvent[]> {
  const seen: ModelFetchEvent[] = [];
  for await (const event of events) seen.push(event);
  return seen;
}

describe("models over the swarm", () => {
  let model: { path: string; sha256: string };
  let original: Buffer;
  let held: HeldModel;
  const seeders: { swarm: SwarmNode; models: NodeModels }[] = [];
  const extra: { stop(): Promise<void> }[] = [];

  beforeAll(async () => {
    model = await ensureSyntheticModel({ preset: "tiny", seed: 1, quantization: "F32" });
    original = await readFile(model.path);
    for (let i = 0; i < 3; i++) seeders.push(await startSeeder(model.path));
    held = (await seeders[0]!.models.held())[0]!;
  });

  afterAll(async () => {
    for (const item of extra.reverse()) await item.stop().catch(() => undefined);
    for (const seeder of seeders) {
      await seeder.models.stop();
      await seeder.swarm.stop();
    }
    for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
  });

  async function startFetcher(dir?: string) {
    const swarm = await startSwarm();
    const store = createModelStore({ dir: dir ?? (await tempDir("fetcher-")) });
    const models = await startNodeModels({ libp2p: swarm.libp2p, store, logger });
    extra.push(swarm, models);
    await dialAll(swarm, seeders.map((seeder) => seeder.swarm));
    return { swarm, store, models };
  }

  it("fetches a model from several peers byte for byte, with progress events", async () => {
    const fetcher = await startFetcher();
    const download = fetcher.models.fetchModel(held.manifest.root, { peers: seeders.map((s) => s.swarm.peerId) });
    const [result, events] = await Promise.all([download.result, collect(download.events)]);
    expect(await readFile(result.paths[0]!)).toEqual(original);
    expect(await hashModelFile(result.paths[0]!)).toBe(model.sha256);
    expect(result.manifest.parts[0]!.sha256).toBe(model.sha256);
    const sentBy = seeders.map((s) => s.models.server.stats().piecesSent);
    expect(sentBy.filter((sent) => sent > 0).length).toBeGreaterThanOrEqual(2);
    const progress = events.filter((event) => event.type === "progress");
    expect(progress.length).toBeGreaterThan(0);
    expect(events.at(-1)).toMatchObject({ type: "finished", root: held.manifest.root });
    // The fetched model is now held and seeded by the fetcher too.
    expect(fetcher.models.held().map((h) => h.manifest.root)).toContain(held.manifest.root);
    // And it is what the engine loads (memory-mapped) under the name adverts and jobs use.
    const engine = await createEngine({ logger });
    try {
      const loaded = await engine.loadModel(result.paths[0]!, { threads: 1, residence: "mmap", contextSize: 256 });
      expect(loaded.info.sha256).toBe(model.sha256);
    } finally {
      await engine.close();
    }
  });

  it("fetches from peers and an HTTP source with range requests at once", async () => {
    let rangeRequests = 0;
    const server = http.createServer((request, response) => {
      const range = /^bytes=(\d+)-(\d+)$/.exec(request.headers.range ?? "");
      if (!range) return void response.writeHead(416).end();
      rangeRequests++;
      const start = Number(range[1]);
      const end = Number(range[2]);
      response.writeHead(206, { "content-length": end - start + 1 }).end(original.subarray(start, end + 1));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    extra.push({ stop: () => new Promise<void>((resolve) => server.close(() => resolve())) });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/${held.manifest.parts[0]!.fileName}`;
    const fetcher = await startFetcher();
    const download = fetcher.models.fetchModel(held.manifest.root, { peers: [seeders[0]!.swarm.peerId], maxPeers: 1, httpUrls: [url] });
    const [result, events] = await Promise.all([download.result, collect(download.events)]);
    expect(await readFile(result.paths[0]!)).toEqual(original);
    expect(rangeRequests).toBeGreaterThan(0);
    expect(events.some((event) => event.type === "progress" && event.progress.httpSources === 1 && event.progress.peers === 1)).toBe(true);
  });

  it("refuses a second download of a model already being fetched", async () => {
    const fetcher = await startFetcher();
    const first = fetcher.models.fetchModel(held.manifest.root, { peers: seeders.map((s) => s.swarm.peerId) });
    const second = fetcher.models.fetchModel(held.manifest.root, { peers: seeders.map((s) => s.swarm.peerId) });
    await expect(second.result).rejects.toMatchObject({ code: "PIECES_ALREADY_FETCHING" });
    expect(await readFile((await first.result).paths[0]!)).toEqual(original);
  });

  it("catches a peer serving corrupt pieces, bans it, and still completes", async () => {
    const liar = await startSwarm();
    const reader = await createModelStore({ dir: seeders[0] ? (await tempDir("liar-")) : "" }).addFiles([model.path], { pieceSize: PIECE });
    const liarReader = await createModelStore({ dir: path.dirname(path.dirname(reader.paths[0]!)) }).openPieceReader(reader);
    const liarServer: PiecesServer = await registerPiecesHandler(liar.libp2p, {
      resolve: () => ({
        manifest: reader.manifest,
        read: async (index) => {
          const bytes = Buffer.from(await liarReader.read(index));
          bytes[0] = bytes[0]! ^ 0xff;
          return bytes;
        },
      }),
      logger,
    });
    extra.push(liar, liarServer, { stop: () => liarReader.close() });
    const penalized: string[] = [];
    const swarm = await startSwarm();
    const store = createModelStore({ dir: await tempDir("fetcher-") });
    const models = await startNodeModels({ libp2p: swarm.libp2p, store, logger, onPeerMisbehaved: (peerId) => penalized.push(peerId) });
    extra.push(swarm, models);
    await dialAll(swarm, [liar, seeders[1]!.swarm]);

    // The liar first, so it also offers the manifest (a valid one: its lies are in the pieces).
    const download = models.fetchModel(held.manifest.root, { peers: [liar.peerId, seeders[1]!.swarm.peerId] });
    const [result, events] = await Promise.all([download.result, collect(download.events)]);
    expect(await readFile(result.paths[0]!)).toEqual(original);
    expect(penalized).toContain(liar.peerId);
    expect(penalized).not.toContain(seeders[1]!.swarm.peerId);
    expect(events).toContainEqual(expect.objectContaining({ type: "source-retired", sourceId: liar.peerId, banned: true }));
    expect(events.filter((event) => event.type === "piece-rejected").length).toBeGreaterThanOrEqual(1);
  });

  it("resumes an interrupted download without refetching verified pieces", async () => {
    const dir = await tempDir("resume-");
    // A throttled seeder (2 MiB/s), so the download is still running when it is interrupted.
    const throttled = await startSeeder(model.path, { maxUploadBytesPerSecond: 2 * 1024 * 1024 });
    seeders.push(throttled);
    const first = await startFetcher(dir);
    const peers = [throttled.swarm.peerId];
    const sentBefore = throttled.models.server.stats().piecesSent;
    const download = first.models.fetchModel(held.manifest.root, { peers, maxPeers: 1, download: { stateFlushIntervalMs: 0 } });
    for await (const event of download.events) {
      if (event.type === "progress" && event.progress.piecesDone >= 10) {
        download.abort("simulated restart");
        break;
      }
    }
    await expect(download.result).rejects.toMatchObject({ code: "PIECES_ABORTED" });
    await first.models.stop();
    await first.swarm.stop();
    const sentFirst = throttled.models.server.stats().piecesSent - sentBefore;

    // A new process: a new node and store object on the same folder.
    const second = await startFetcher(dir);
    const partial = await second.store.partialManifest(held.manifest.root);
    expect(partial?.root).toBe(held.manifest.root);
    const resumed = second.models.fetchModel(held.manifest.root, { peers, maxPeers: 1 });
    const events = await collect(resumed.events);
    const result = await resumed.result;
    expect(await readFile(result.paths[0]!)).toEqual(original);
    const manifestEvent = events.find((event) => event.type === "manifest");
    const pieceCount = held.manifest.parts[0]!.pieces.length;
    expect(manifestEvent).toMatchObject({ type: "manifest", from: "the interrupted download" });
    const sentSecond = throttled.models.server.stats().piecesSent - sentBefore - sentFirst;
    expect(sentFirst).toBeGreaterThanOrEqual(10);
    // Pieces in flight at the abort may be fetched twice; verified ones never are.
    expect(sentSecond).toBeLessThanOrEqual(pieceCount - 10);
    expect(sentSecond).toBeGreaterThan(0);
  });

  it("finds seeders through the DHT by the model's root", async () => {
    const fetcher = await startFetcher();
    // Seeders provided at start, before they had DHT peers: re-providing now reaches the fetcher.
    const provider = await startSeeder(model.path, undefined, [fetcher.swarm.multiaddrs()[0]!]);
    seeders.push(provider);
    let result: HeldModel | undefined;
    for (let attempt = 0; attempt < 20 && !result; attempt++) {
      const download = fetcher.models.fetchModel(held.manifest.root, { findProvidersMs: 1_500 });
      result = await download.result.catch(() => undefined);
      if (!result) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(result).toBeDefined();
    expect(await readFile(result!.paths[0]!)).toEqual(original);
  });

  it("waits and asks again when the only seeder is at its upload cap", async () => {
    const single = await startSeeder(model.path, { maxUploadBytesPerSecond: 4 * 1024 * 1024, maxConcurrentUploads: 1 });
    seeders.push(single);
    const first = await startFetcher();
    const second = await startFetcher();
    const options = { peers: [single.swarm.peerId], maxPeers: 1 };
    const one = first.models.fetchModel(held.manifest.root, options);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const two = second.models.fetchModel(held.manifest.root, options);
    const [events] = await Promise.all([collect(two.events), one.result]);
    expect(events.some((event) => event.type === "waiting")).toBe(true);
    expect(await readFile((await two.result).paths[0]!)).toEqual(original);
    expect(single.models.server.stats().refusedBusy).toBeGreaterThanOrEqual(1);
  });

  it("holds the upload caps: bytes per second, and a busy answer over the concurrent-upload cap", async () => {
    const rate = 1024 * 1024;
    const slow = await startSeeder(model.path, { maxUploadBytesPerSecond: rate, maxConcurrentUploads: 1 });
    seeders.push(slow);
    const fetcher = await startFetcher();
    await dialAll(fetcher.swarm, [slow.swarm]);
    const started = performance.now();
    const download = fetcher.models.fetchModel(held.manifest.root, { peers: [slow.swarm.peerId], maxPeers: 1 });
    // While the one upload slot is taken, a second session is refused with a structured busy answer.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const other = await startSwarm();
    extra.push(other);
    await dialAll(other, [slow.swarm]);
    const session = await openPeerPieceSource(other.libp2p, slow.swarm.peerId, { root: held.manifest.root });
    await expect(session.fetchManifest(AbortSignal.timeout(5_000))).rejects.toMatchObject({ code: "PIECES_BUSY" });
    expect((await session.fetchManifest(AbortSignal.timeout(1_000)).catch((error: unknown) => error)) instanceof PiecesError).toBe(true);
    const result = await download.result;
    const seconds = (performance.now() - started) / 1000;
    const bytes = original.byteLength;
    // At most a quarter second of burst beyond the rate (the bucket's size), manifest bytes aside.
    expect(seconds).toBeGreaterThanOrEqual((bytes - 0.25 * rate) / rate);
    expect(slow.models.server.stats().refusedBusy).toBeGreaterThanOrEqual(1);
    expect(await readFile(result.paths[0]!)).toEqual(original);
  });
});
