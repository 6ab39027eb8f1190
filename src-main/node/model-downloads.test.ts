import { describe, expect, it } from "vitest";
import { modelDownloadViewSchema } from "../../src-contract/index.js";
import { createFakeTime, createSilentLogger, settle } from "../common/index.js";
import type { HeldModel, ModelManifest } from "../models/index.js";
import { createModelDownloads, type ModelDownloadView } from "./model-downloads.js";
import type { FetchModelOptions, ModelDownload, ModelFetchEvent, NodeModels } from "./node-models.js";

const ROOT_A = "a".repeat(64);
const ROOT_B = "b".repeat(64);
const MIB = 1024 * 1024;

/** A download the test drives: events pushed by hand, then resolved or rejected. */
function scriptedDownload(root: string) {
  const queue: ModelFetchEvent[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  let settleResult!: { resolve: (held: HeldModel) => void; reject: (error: unknown) => void };
  const result = new Promise<HeldModel>((resolve, reject) => (settleResult = { resolve, reject }));
  result.catch(() => undefined);
  const aborted: string[] = [];
  const download: ModelDownload = {
    root,
    result,
    abort: (reason) => aborted.push(reason ?? "aborted"),
    events: {
      async *[Symbol.asyncIterator]() {
        for (let i = 0; i < 10_000; i++) {
          const next = queue.shift();
          if (next) {
            yield next;
            continue;
          }
          if (ended) return;
          await new Promise<void>((resolve) => (wake = resolve));
        }
      },
    },
  };
  const push = (event: ModelFetchEvent) => {
    queue.push(event);
    wake?.();
  };
  const end = () => {
    ended = true;
    wake?.();
  };
  return {
    download,
    aborted,
    push,
    progress: (bytesDone: number, bytesTotal: number, bytesPerSecond: number, peers = 2) =>
      push({ type: "progress", progress: { bytesDone, bytesTotal, piecesDone: 0, piecesTotal: 0, peers, httpSources: 0, bytesPerSecond, etaSeconds: undefined } }),
    finish(held: HeldModel) {
      settleResult.resolve(held);
      push({ type: "finished", root, paths: held.paths });
      end();
    },
    fail(error: Error & { code?: string }) {
      settleResult.reject(error);
      push({ type: "failed", code: error.code ?? "UNKNOWN", message: error.message });
      end();
    },
  };
}

function heldModel(root: string, name: string | undefined, size: number): HeldModel {
  const manifest = { version: 1, root, pieceSize: MIB, parts: [{ fileName: "model.gguf", size, sha256: "c".repeat(64), pieces: ["d".repeat(64)] }], metadata: { name, tensorCount: 1, parameterCount: 1 } } as ModelManifest;
  return { manifest, paths: ["/store/model.gguf"] };
}

function setup(options: { keep?: number; maxActive?: number } = {}) {
  const time = createFakeTime(1_000_000);
  const scripts = new Map<string, ReturnType<typeof scriptedDownload>[]>();
  const asked: { root: string; options: FetchModelOptions | undefined }[] = [];
  const models = {
    fetchModel(root: string, fetchOptions?: FetchModelOptions) {
      asked.push({ root, options: fetchOptions });
      const script = scriptedDownload(root);
      scripts.set(root, [...(scripts.get(root) ?? []), script]);
      return script.download;
    },
  } as unknown as NodeModels;
  const changes: ModelDownloadView[] = [];
  const downloads = createModelDownloads({ models, logger: createSilentLogger(), onChange: (view) => changes.push(view), clock: time.clock, timers: time.timers, ...options });
  const script = (root: string) => scripts.get(root)!.at(-1)!;
  return { time, downloads, changes, asked, script };
}

describe("model downloads as the dashboard shows them", () => {
  it("folds a download's events into one view: manifest, progress with rate and ETA, then finished under the model's name", async () => {
    const { time, downloads, changes, asked, script } = setup();
    const started = downloads.start(ROOT_A, { peers: ["peer-1"] });
    expect(started).toMatchObject({ root: ROOT_A, name: ROOT_A.slice(0, 12), state: "fetching", totalBytes: 0, etaSeconds: null, error: null });
    expect(asked).toEqual([{ root: ROOT_A, options: { peers: ["peer-1"] } }]);

    script(ROOT_A).push({ type: "manifest", root: ROOT_A, name: "Tiny Test Model", from: "peer-1", totalBytes: 10 * MIB, missingBytes: 8 * MIB });
    await settle();
    expect(downloads.list()[0]).toMatchObject({ name: "Tiny Test Model", receivedBytes: 2 * MIB, totalBytes: 10 * MIB });

    await time.advance(600);
    script(ROOT_A).progress(6 * MIB, 10 * MIB, 2 * MIB, 3);
    await settle();
    expect(downloads.list()[0]).toMatchObject({ receivedBytes: 6 * MIB, peers: 3, bytesPerSecond: 2 * MIB, etaSeconds: 2 });

    script(ROOT_A).finish(heldModel(ROOT_A, "Tiny Test Model", 10 * MIB));
    await settle();
    const finished = downloads.list()[0]!;
    expect(finished).toMatchObject({ name: "Tiny Test Model", state: "finished", receivedBytes: 10 * MIB, totalBytes: 10 * MIB, etaSeconds: 0, error: null });
    expect(changes.at(-1)).toEqual(finished);
    for (const view of [started, ...changes]) expect(modelDownloadViewSchema.safeParse(view).success).toBe(true);
  });

  it("coalesces progress to one change per interval, and still delivers the latest at the interval's end", async () => {
    const { time, downloads, changes, script } = setup();
    downloads.start(ROOT_A);
    expect(changes).toHaveLength(1);
    for (let i = 1; i <= 5; i++) script(ROOT_A).progress(i * MIB, 10 * MIB, MIB);
    await settle();
    // Every event came within the first 500 ms: none is pushed yet, one is waiting for the interval's end.
    expect(changes).toHaveLength(1);
    await time.advance(500);
    expect(changes).toHaveLength(2);
    expect(changes[1]).toMatchObject({ receivedBytes: 5 * MIB });
    await time.advance(5_000);
    expect(changes).toHaveLength(2);
  });

  it("reports a failure at once with its reason and code, and a new start fetches again as the newest", async () => {
    const { time, downloads, changes, script } = setup();
    downloads.start(ROOT_A);
    await time.advance(10);
    downloads.start(ROOT_B);
    script(ROOT_A).fail(Object.assign(new Error("No peer gave a manifest for this model."), { code: "PIECES_NO_MANIFEST" }));
    await settle();
    expect(changes.at(-1)).toMatchObject({ root: ROOT_A, state: "failed", error: "No peer gave a manifest for this model. [PIECES_NO_MANIFEST]", etaSeconds: null });
    expect(downloads.list().map((d) => [d.root, d.state])).toEqual([
      [ROOT_B, "fetching"],
      [ROOT_A, "failed"],
    ]);
    await time.advance(10);
    expect(downloads.start(ROOT_A)).toMatchObject({ state: "fetching", error: null });
    expect(downloads.list().map((d) => d.root)).toEqual([ROOT_A, ROOT_B]);
  });

  it("returns the running download on a second start of the same root instead of fetching twice", () => {
    const { downloads, asked } = setup();
    downloads.start(ROOT_A);
    expect(downloads.start(ROOT_A)).toMatchObject({ root: ROOT_A, state: "fetching" });
    expect(asked).toHaveLength(1);
  });

  it("bounds downloads: running ones by maxActive (a clear error beyond), ended ones by keep", async () => {
    const { time, downloads, script } = setup({ keep: 2, maxActive: 2 });
    downloads.start("1".repeat(64));
    downloads.start("2".repeat(64));
    expect(() => downloads.start("3".repeat(64))).toThrow(expect.objectContaining({ code: "TOO_MANY_DOWNLOADS" }));
    for (let i = 1; i <= 4; i++) {
      const root = String(i).repeat(64);
      if (i > 2) downloads.start(root);
      await time.advance(10);
      script(root).finish(heldModel(root, undefined, MIB));
      await settle();
    }
    expect(downloads.list().map((d) => [d.root[0], d.state, d.name])).toEqual([
      ["4", "finished", "model.gguf"],
      ["3", "finished", "model.gguf"],
    ]);
  });

  it("a waiting download shows no rate and no ETA until seeders answer again", async () => {
    const { downloads, changes, script } = setup();
    downloads.start(ROOT_A);
    script(ROOT_A).progress(MIB, 10 * MIB, MIB);
    script(ROOT_A).push({ type: "waiting", missingPieces: 9, retryInMs: 1000 });
    await settle();
    expect(changes.at(-1)).toMatchObject({ receivedBytes: MIB, bytesPerSecond: 0, etaSeconds: null, peers: 0, state: "fetching" });
  });

  it("stop() aborts running downloads and cancels pending changes", async () => {
    const { time, downloads, changes, script } = setup();
    downloads.start(ROOT_A);
    script(ROOT_A).progress(MIB, 10 * MIB, MIB);
    await settle();
    downloads.stop();
    expect(script(ROOT_A).aborted).toEqual(["the node is stopping"]);
    const before = changes.length;
    await time.advance(1_000);
    expect(changes).toHaveLength(before);
  });
});
