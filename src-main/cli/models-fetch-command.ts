import { generateKeyPair } from "@libp2p/crypto/keys";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { createSilentLogger, InferSwarmError, type Logger } from "../common/index.js";
import { createModelCatalog, createModelStore, type HeldModel } from "../models/index.js";
import { startNodeModels, type FetchModelOptions } from "../node/index.js";
import { createSwarmNode, parseSwarmKey, type FetchProgress } from "../swarm/index.js";

export interface ModelsFetchOptions {
  /** The model's manifest root, or a catalog entry's name or sha256. */
  model: string;
  /** The node's data folder: the store is `<dataDir>/models`, the catalog `<dataDir>/models/catalog.json`. */
  dataDir: string;
  /** Multiaddrs (with /p2p/) to join the swarm through. */
  bootstrap?: readonly string[];
  /** Extra HTTP(S) URLs, one per part (else the catalog's, if any). */
  httpUrls?: readonly string[];
  swarmKeyFile?: string;
  listen?: readonly string[];
  findProvidersMs?: number;
  signal?: AbortSignal;
  /** Where the progress bar and final line go (CliIo-shaped). */
  io?: { stdout(text: string): void; stderr(text: string): void };
  /** A terminal redraws one bar line; otherwise a line every few seconds. */
  interactive?: boolean;
  logger?: Logger;
}

export class ModelsFetchError extends InferSwarmError {}

const ROOT = /^[0-9a-f]{64}$/;

/**
 * `inferswarm models fetch <model>`: joins the swarm with a throwaway identity (a running node keeps its
 * own), fetches the model into the store with a progress bar on stderr, and prints the first part's path
 * on stdout. Interrupting keeps verified pieces: running it again resumes.
 */
export async function runModelsFetch(options: ModelsFetchOptions): Promise<HeldModel> {
  const io = options.io ?? { stdout: (text: string) => void process.stdout.write(text), stderr: (text: string) => void process.stderr.write(text) };
  const interactive = options.interactive ?? process.stderr.isTTY === true;
  const logger = options.logger ?? createSilentLogger();
  const storeDir = path.join(options.dataDir, "models");
  const catalog = createModelCatalog({ file: path.join(storeDir, "catalog.json") });
  const entry = await catalog.find(options.model);
  const root = ROOT.test(options.model) && (!entry || entry.root === options.model) ? options.model : entry?.root;
  if (!root) {
    throw new ModelsFetchError("MODELS_FETCH_UNKNOWN_MODEL", `"${options.model.slice(0, 100)}" is neither a model root (64 hex digits) nor a name or sha256 in the catalog ${path.join(storeDir, "catalog.json")}.`);
  }
  const httpUrls = options.httpUrls && options.httpUrls.length > 0 ? options.httpUrls : entry?.httpSources?.map((source) => source.url);

  const swarmKey = options.swarmKeyFile ? parseSwarmKey(await readFile(options.swarmKeyFile, "utf8")) : undefined;
  const swarm = await createSwarmNode({
    privateKey: await generateKeyPair("Ed25519"),
    logger,
    listen: options.listen ? [...options.listen] : ["/ip4/0.0.0.0/tcp/0"],
    bootstrap: options.bootstrap ? [...options.bootstrap] : undefined,
    swarmKey,
    mdns: (options.bootstrap?.length ?? 0) === 0,
  });
  await swarm.start();
  const models = await startNodeModels({ libp2p: swarm.libp2p, store: createModelStore({ dir: storeDir }), logger, provide: false });
  try {
    await waitForPeers(swarm.libp2p.getPeers.bind(swarm.libp2p), (options.bootstrap?.length ?? 0) > 0 ? 10_000 : 2_000, options.signal);
    const fetchOptions: FetchModelOptions = { httpUrls, findProvidersMs: options.findProvidersMs, signal: options.signal };
    const download = models.fetchModel(root, fetchOptions);
    let lastLineAt = 0;
    for await (const event of download.events) {
      if (event.type === "manifest") io.stderr(`model ${root.slice(0, 12)}: ${formatBytes(event.totalBytes)}, ${formatBytes(event.missingBytes)} to fetch (manifest from ${event.from.slice(0, 20)})\n`);
      else if (event.type === "waiting") io.stderr(`${interactive ? "\n" : ""}no seeder can serve ${event.missingPieces > 0 ? `the ${event.missingPieces} missing pieces` : "the manifest"} right now (busy or offline); asking again in ${Math.round(event.retryInMs / 1000)} s\n`);
      else if (event.type === "source-retired" && event.banned) io.stderr(`${interactive ? "\n" : ""}banned ${event.sourceId.slice(0, 20)}: ${event.reason}\n`);
      else if (event.type === "progress") {
        const now = Date.now();
        if (interactive) io.stderr(`\r${formatFetchProgress(event.progress)}`);
        else if (now - lastLineAt >= 5_000) {
          lastLineAt = now;
          io.stderr(`${formatFetchProgress(event.progress)}\n`);
        }
      } else if (event.type === "finished" && interactive) io.stderr("\n");
    }
    const held = await download.result;
    io.stdout(`${held.paths[0]}\n`);
    return held;
  } finally {
    await models.stop();
    await swarm.stop();
  }
}

async function waitForPeers(peers: () => readonly unknown[], timeoutMs: number, signal?: AbortSignal) {
  const deadline = Date.now() + timeoutMs;
  while (peers().length === 0 && Date.now() < deadline && !signal?.aborted) await new Promise((resolve) => setTimeout(resolve, 100));
}

/** `[#########.........]  45.2%  90.4 MB / 200.0 MB  4 peers +http  85.3 MB/s  ETA 0:02` */
export function formatFetchProgress(progress: FetchProgress, width = 24): string {
  const fraction = progress.bytesTotal > 0 ? Math.min(1, progress.bytesDone / progress.bytesTotal) : 0;
  const filled = Math.round(fraction * width);
  const bar = `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
  const sources = `${progress.peers} peer${progress.peers === 1 ? "" : "s"}${progress.httpSources > 0 ? " +http" : ""}`;
  const rate = `${(progress.bytesPerSecond / 1e6).toFixed(1)} MB/s`;
  const eta = progress.etaSeconds === undefined ? "ETA --:--" : `ETA ${formatDuration(progress.etaSeconds)}`;
  return `${bar} ${(fraction * 100).toFixed(1).padStart(5)}%  ${formatBytes(progress.bytesDone)} / ${formatBytes(progress.bytesTotal)}  ${sources}  ${rate}  ${eta}`;
}

function formatBytes(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = String(total % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${secs}` : `${minutes}:${secs}`;
}
