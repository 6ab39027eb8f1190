import type { Logger } from "../common/index.js";
import { type HeldModel, type ModelManifest, type ModelStore, type PartialDownloadOptions, type PieceReader, type PieceSpan } from "../models/index.js";
import {
  createHttpPieceSource,
  fetchPieces,
  modelRootProviderCid,
  openPeerPieceSource,
  PiecesError,
  registerPiecesHandler,
  type PeerPieceSource,
  type PieceFetchEvent,
  type PieceSource,
  type PiecesServer,
  type SwarmLibp2p,
  type UploadCaps,
} from "../swarm/index.js";

export interface NodeModelsOptions {
  libp2p: SwarmLibp2p;
  store: ModelStore;
  logger: Logger;
  /** The owner's upload caps (a gamer's upstream is precious). */
  caps?: Partial<UploadCaps>;
  /** For reputation: a peer served a piece or manifest that failed verification. */
  onPeerMisbehaved?: (peerId: string, reason: string) => void;
  /** Provide held models' roots in the DHT (default true). */
  provide?: boolean;
}

export type ModelFetchEvent =
  | PieceFetchEvent
  /** `name`: the GGUF's own name, else its first file's, so a download is named from its start. */
  | { type: "manifest"; root: string; name: string; from: string; totalBytes: number; missingBytes: number }
  /** No source could give the rest for now; asking again after `retryInMs`. */
  | { type: "waiting"; missingPieces: number; retryInMs: number }
  | { type: "finished"; root: string; paths: readonly string[] }
  | { type: "failed"; code: string; message: string };

export interface FetchModelOptions {
  /** Peers to ask besides those the DHT finds (e.g. from adverts). */
  peers?: readonly string[];
  /** One HTTP(S) URL per part (e.g. a catalog entry's httpSources), fetched with range requests beside peers. */
  httpUrls?: readonly string[];
  /** How long the DHT is asked for providers (default 5 s, or 1 s when `peers` are given). */
  findProvidersMs?: number;
  /** Seeders used at most (default 8); with this many `peers` the DHT is not asked. */
  maxPeers?: number;
  signal?: AbortSignal;
  download?: PartialDownloadOptions;
  /** Range requests in flight at the HTTP source. */
  httpParallelism?: number;
  /** Attempts when seeders are busy or gone (waiting 1 s, 2 s, 4 s... between them); default 4. */
  rounds?: number;
}

/** A download in progress: its events (bounded; progress coalesces) and its result. */
export interface ModelDownload {
  readonly root: string;
  readonly events: AsyncIterable<ModelFetchEvent>;
  readonly result: Promise<HeldModel>;
  abort(reason?: string): void;
}

export interface NodeModels {
  readonly server: PiecesServer;
  /** Models held whole and seeded. */
  held(): HeldModel[];
  /** Holds files already on disk (hashing them once) and seeds them. */
  hold(partPaths: readonly string[]): Promise<HeldModel>;
  fetchModel(root: string, options?: FetchModelOptions): ModelDownload;
  stop(): Promise<void>;
}

/**
 * The node's models over the swarm: every held model is seeded (its root provided in the DHT, its pieces
 * served under the owner's caps), and `fetchModel` gets one by root from several peers and HTTP at once.
 * The finished model is in the store at `paths[0]`, ready for the engine (which maps it with mmap).
 */
export async function startNodeModels(options: NodeModelsOptions): Promise<NodeModels> {
  const logger = options.logger.child({ module: "node", component: "models" });
  const { libp2p, store } = options;
  const seeded = new Map<string, { held: HeldModel; reader: PieceReader }>();
  const downloads = new Set<{ abort: (reason?: string) => void; done: Promise<unknown> }>();
  const selfId = libp2p.peerId.toString();
  const fetching = new Set<string>();
  let stopped = false;

  const server = await registerPiecesHandler(libp2p, {
    resolve: (root) => {
      const entry = seeded.get(root);
      return entry && { manifest: entry.held.manifest, read: (index) => entry.reader.read(index) };
    },
    caps: options.caps,
    logger,
    onMisbehaviour: options.onPeerMisbehaved,
  });

  /** Roots not yet provided in the DHT: a node that starts alone retries when peers connect. */
  const unprovided = new Set<string>();
  let providing = false;

  function provideNow() {
    if (options.provide === false || providing || stopped || unprovided.size === 0) return;
    providing = true;
    void (async () => {
      for (const root of [...unprovided]) {
        try {
          await libp2p.contentRouting.provide(await modelRootProviderCid(root), { signal: AbortSignal.timeout(30_000) });
          unprovided.delete(root);
          logger.debug({ root }, "provided model root in the DHT");
        } catch (error) {
          logger.debug({ err: error, root }, "DHT provide failed (no DHT peers yet?); retrying when a peer connects");
        }
      }
    })().finally(() => (providing = false));
  }
  const onPeerConnect = () => void setTimeout(provideNow, 500).unref();
  libp2p.addEventListener("peer:connect", onPeerConnect);

  async function seed(held: HeldModel) {
    if (seeded.has(held.manifest.root)) return;
    seeded.set(held.manifest.root, { held, reader: await store.openPieceReader(held) });
    unprovided.add(held.manifest.root);
    provideNow();
  }

  for (const held of await store.list()) await seed(held);

  async function findPeers(root: string, fetchOptions: FetchModelOptions, signal: AbortSignal): Promise<string[]> {
    const maxPeers = fetchOptions.maxPeers ?? 8;
    const peers = new Set((fetchOptions.peers ?? []).filter((peer) => peer !== selfId));
    if (peers.size >= maxPeers) return [...peers].slice(0, maxPeers);
    const cid = await modelRootProviderCid(root);
    // With peers already named, the DHT only adds to them: a short lookup keeps the start quick.
    const lookupMs = fetchOptions.findProvidersMs ?? (peers.size > 0 ? 1_000 : 5_000);
    const lookup = AbortSignal.any([signal, AbortSignal.timeout(lookupMs)]);
    // A node that just joined may not know DHT peers yet: look again until one provider shows up.
    // Named peers may not hold the model (adverts name every seeder of anything): ask the DHT once anyway.
    for (let attempt = 0; (attempt === 0 ? peers.size < maxPeers : peers.size === 0) && !lookup.aborted && attempt < 50; attempt++) {
      try {
        for await (const provider of libp2p.contentRouting.findProviders(cid, { signal: lookup })) {
          const id = provider.id.toString();
          if (id !== selfId) peers.add(id);
          if (peers.size >= maxPeers) break;
        }
      } catch (error) {
        if (signal.aborted) throw error;
        logger.debug({ err: error, root }, "provider lookup ended");
      }
      if (peers.size === 0 && !lookup.aborted) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return [...peers];
  }

  async function run(root: string, fetchOptions: FetchModelOptions, signal: AbortSignal, emit: (event: ModelFetchEvent) => void): Promise<HeldModel> {
    const already = await store.get(root);
    if (already) return already;
    const maxRounds = fetchOptions.rounds ?? 4;
    const banned = new Set<string>();
    const penalize = (peerId: string, reason: string) => {
      try {
        options.onPeerMisbehaved?.(peerId, reason);
      } catch (error) {
        logger.error({ err: error }, "onPeerMisbehaved hook threw");
      }
    };
    // Peers found for the manifest are reused for the first round of pieces (one lookup, not two).
    let foundPeers: string[] | undefined;
    const openSessions = async (spans?: readonly PieceSpan[]): Promise<PeerPieceSource[]> => {
      const found = foundPeers ?? (await findPeers(root, fetchOptions, signal));
      foundPeers = spans ? undefined : found;
      const peers = found.filter((peer) => !banned.has(peer));
      const opened = await Promise.all(
        peers.map((peer) =>
          openPeerPieceSource(libp2p, peer, { root, spans, signal }).catch((error: unknown) => {
            logger.debug({ err: error, peer }, "could not open a pieces session");
            return undefined;
          }),
        ),
      );
      return opened.filter((source): source is PeerPieceSource => source !== undefined);
    };
    const waitRound = async (round: number, missingPieces: number) => {
      const retryInMs = 1_000 * 2 ** round;
      emit({ type: "waiting", missingPieces, retryInMs });
      await sleep(retryInMs, signal);
    };

    // The manifest: from an interrupted download, else from the first peer whose copy matches the root.
    let manifest: ModelManifest | undefined = await store.partialManifest(root);
    let manifestFrom = "the interrupted download";
    let sources: PieceSource[] = [];
    for (let round = 0; !manifest; round++) {
      const live = await openSessions();
      for (const source of live) {
        if (manifest) break;
        try {
          manifest = await source.fetchManifest(signal);
          manifestFrom = source.id;
        } catch (error) {
          if (error instanceof PiecesError && error.code === "PIECES_BAD_PIECE") {
            banned.add(source.id);
            penalize(source.id, error.message);
          }
          logger.debug({ err: error, peer: source.id }, "no manifest from this peer");
        }
      }
      // The session that gave the manifest goes on serving pieces; the others may be broken.
      const keep = live.find((source) => source.id === manifestFrom);
      await Promise.all(live.filter((source) => source !== keep).map((source) => source.close()));
      if (keep) sources = [keep];
      if (manifest) break;
      if (round + 1 >= maxRounds) {
        throw new PiecesError("PIECES_NO_MANIFEST", `No peer gave a manifest for model ${root} (${live.length} reached); check the root, or fetch when a peer that holds it is online.`, { retryable: true });
      }
      await waitRound(round, 0);
    }

    const download = await store.beginDownload(manifest, fetchOptions.download).catch(async (error: unknown) => {
      await Promise.all(sources.map((source) => source.close()));
      throw error;
    });
    emit({ type: "manifest", root, name: manifest.metadata.name ?? manifest.parts[0]!.fileName, from: manifestFrom, totalBytes: download.totalBytes, missingBytes: download.totalBytes - download.verifiedBytes() });
    try {
      for (let round = 0; ; round++) {
        const others = await openSessions(download.spans);
        for (const source of others) {
          if (sources.some((kept) => kept.id === source.id)) await source.close();
          else sources.push(source);
        }
        if (fetchOptions.httpUrls && fetchOptions.httpUrls.length > 0) {
          if (fetchOptions.httpUrls.length !== manifest.parts.length) {
            logger.warn({ urls: fetchOptions.httpUrls.length, parts: manifest.parts.length }, "HTTP sources do not match the model's parts; ignoring them");
          } else {
            sources.push(createHttpPieceSource({ urls: fetchOptions.httpUrls, spans: download.spans, parallelism: fetchOptions.httpParallelism }));
          }
        }
        const missing = download.missingPieces();
        if (missing.length === 0) {
          await Promise.all(sources.map((source) => source.close()));
          break;
        }
        const kinds = new Map(sources.map((source) => [source.id, source.kind]));
        try {
          await fetchPieces({
            spans: download.spans,
            missing,
            sources,
            store: (index, bytes) => download.writePiece(index, bytes),
            onEvent: (event) => {
              if (event.type === "source-retired" && event.banned) banned.add(event.sourceId);
              emit(event);
            },
            onSourcePenalized: (sourceId, reason) => {
              if (kinds.get(sourceId) === "peer") penalize(sourceId, reason);
            },
            signal,
          });
          break;
        } catch (error) {
          // Seeders at their upload cap (or gone for a moment): wait and ask again, a bounded number of times.
          if (!(error instanceof PiecesError && error.code === "PIECES_NO_SOURCES") || round + 1 >= maxRounds) throw error;
          sources = [];
          await waitRound(round, download.missingPieces().length);
        }
      }
      const held = await download.finish();
      await seed(held);
      return held;
    } catch (error) {
      await download.close();
      throw error;
    }
  }

  return {
    server,
    held: () => [...seeded.values()].map((entry) => entry.held),
    async hold(partPaths) {
      const held = await store.addFiles(partPaths);
      await seed(held);
      return held;
    },
    fetchModel(root, fetchOptions = {}) {
      const controller = new AbortController();
      const signal = fetchOptions.signal ? AbortSignal.any([fetchOptions.signal, controller.signal]) : controller.signal;
      const channel = createEventChannel<ModelFetchEvent>();
      // Two downloads of one model would write the same partial files: the second is refused.
      const result = stopped
        ? Promise.reject(new PiecesError("PIECES_SHUTTING_DOWN", "The node is stopping; fetch after it restarts.", { retryable: true }))
        : fetching.has(root)
          ? Promise.reject(new PiecesError("PIECES_ALREADY_FETCHING", `Model ${root} is already being fetched; wait for that download.`, { retryable: true }))
          : run(root, fetchOptions, signal, channel.push);
      if (!fetching.has(root)) {
        fetching.add(root);
        void result.catch(() => undefined).finally(() => fetching.delete(root));
      }
      const done = result.then(
        (held) => channel.push({ type: "finished", root, paths: held.paths }),
        (error: unknown) => channel.push({ type: "failed", code: (error as { code?: string }).code ?? "UNKNOWN", message: error instanceof Error ? error.message : String(error) }),
      );
      void done.finally(() => channel.end());
      const entry = { abort: (reason?: string) => controller.abort(new Error(reason ?? "aborted")), done };
      downloads.add(entry);
      void done.finally(() => downloads.delete(entry));
      return { root, events: channel.iterable, result, abort: entry.abort };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      libp2p.removeEventListener("peer:connect", onPeerConnect);
      const open = [...downloads];
      for (const download of open) download.abort("the node is stopping");
      await Promise.all(open.map((download) => download.done));
      await server.stop();
      await Promise.all([...seeded.values()].map((entry) => entry.reader.close()));
      seeded.clear();
    },
  };
}

/**
 * A single-consumer event stream that never grows without bound: consecutive progress events coalesce
 * into the latest, and beyond 1,000 waiting events the oldest are dropped.
 */
function createEventChannel<T extends { type: string }>(): { push: (event: T) => void; end: () => void; iterable: AsyncIterable<T> } {
  const buffer: T[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  return {
    push(event) {
      if (ended) return;
      const last = buffer.at(-1);
      if (last && last.type === "progress" && event.type === "progress") buffer[buffer.length - 1] = event;
      else buffer.push(event);
      if (buffer.length > 1_000) buffer.shift();
      wake?.();
    },
    end() {
      ended = true;
      wake?.();
    },
    iterable: {
      async *[Symbol.asyncIterator]() {
        for (;;) {
          const next = buffer.shift();
          if (next) {
            yield next;
            continue;
          }
          if (ended) return;
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
      },
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new PiecesError("PIECES_ABORTED", "The download was cancelled; fetching again resumes it.", { retryable: false }));
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new PiecesError("PIECES_ABORTED", "The download was cancelled; fetching again resumes it.", { retryable: false }));
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
