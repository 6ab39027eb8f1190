import type { ModelDownloadView } from "../../src-contract/index.js";
import { backgroundTimers, InferSwarmError, systemClock, type Clock, type Logger, type TimerHandle, type Timers } from "../common/index.js";
import type { HeldModel } from "../models/index.js";
import type { FetchModelOptions, ModelFetchEvent, NodeModels } from "./node-models.js";

/** One download as the dashboard shows it: the contract's schema is its only definition. */
export type { ModelDownloadView };

export type ModelDownloadsErrorCode = "TOO_MANY_DOWNLOADS";

export class ModelDownloadsError extends InferSwarmError {
  declare readonly code: ModelDownloadsErrorCode;
  constructor(code: ModelDownloadsErrorCode, message: string) {
    super(code, message);
  }
}

export interface ModelDownloads {
  /**
   * Starts fetching a model by its root (a second start of the same root while it runs returns the running
   * one; a start after it finished or failed fetches again, resuming what was verified).
   */
  start(root: string, options?: FetchModelOptions): ModelDownloadView;
  /** Downloads of this session, newest first (finished and failed ones are kept, at most `keep`). */
  list(): ModelDownloadView[];
  stop(): void;
}

export interface ModelDownloadsOptions {
  models: NodeModels;
  logger: Logger;
  onChange?: (view: ModelDownloadView) => void;
  /** Finished and failed downloads kept in the list (default 16). */
  keep?: number;
  /** Downloads running at once (default 8); each holds partial files and peer sessions open. */
  maxActive?: number;
  /** Progress is reported at most this often per download (default 500 ms); state changes at once. */
  changeIntervalMs?: number;
  clock?: Clock;
  timers?: Timers;
}

/**
 * The node's downloads as a list the dashboard polls and a change callback it pushes from: progress
 * events from `NodeModels.fetchModel` folded into one view per root. Progress comes per piece, so
 * `onChange` is coalesced to one call per `changeIntervalMs` per download, the latest view always
 * delivered at the end of the interval (a download that goes quiet does not show stale numbers).
 */
export function createModelDownloads(options: ModelDownloadsOptions): ModelDownloads {
  const clock = options.clock ?? systemClock;
  const timers = options.timers ?? backgroundTimers;
  const keep = options.keep ?? 16;
  const maxActive = options.maxActive ?? 8;
  const interval = options.changeIntervalMs ?? 500;
  const views = new Map<string, ModelDownloadView>();
  const aborts = new Map<string, () => void>();
  const lastChange = new Map<string, number>();
  const trailing = new Map<string, TimerHandle>();
  let stopped = false;

  function notify(view: ModelDownloadView) {
    lastChange.set(view.root, clock.now());
    try {
      options.onChange?.({ ...view });
    } catch (error) {
      options.logger.warn({ err: error }, "a model download listener threw");
    }
  }

  function changed(view: ModelDownloadView, force = false) {
    const pending = trailing.get(view.root);
    if (force) {
      if (pending !== undefined) timers.clearTimeout(pending);
      trailing.delete(view.root);
      return notify(view);
    }
    const wait = (lastChange.get(view.root) ?? -Infinity) + interval - clock.now();
    if (wait <= 0) return notify(view);
    if (pending !== undefined || stopped) return;
    trailing.set(
      view.root,
      timers.setTimeout(() => {
        trailing.delete(view.root);
        // A view replaced by a newer start of the same root has nothing left to say.
        if (views.get(view.root) === view) notify(view);
      }, wait),
    );
  }

  function apply(view: ModelDownloadView, event: ModelFetchEvent) {
    switch (event.type) {
      case "manifest":
        view.name = event.name;
        view.totalBytes = event.totalBytes;
        view.receivedBytes = event.totalBytes - event.missingBytes;
        return changed(view, true);
      case "progress": {
        const p = event.progress;
        view.totalBytes = p.bytesTotal;
        view.receivedBytes = p.bytesDone;
        view.peers = p.peers + p.httpSources;
        view.bytesPerSecond = p.bytesPerSecond;
        view.etaSeconds = p.etaSeconds !== undefined ? Math.ceil(p.etaSeconds) : p.bytesPerSecond > 0 ? Math.ceil((p.bytesTotal - p.bytesDone) / p.bytesPerSecond) : null;
        return changed(view);
      }
      case "waiting":
        // No seeder can give more right now: nothing moves until the next round.
        view.peers = 0;
        view.bytesPerSecond = 0;
        view.etaSeconds = null;
        return changed(view, true);
      default:
        return;
    }
  }

  function settle(view: ModelDownloadView, outcome: { held: HeldModel } | { code: string; message: string }) {
    if ("held" in outcome) {
      const { manifest } = outcome.held;
      view.name = (manifest.metadata.name ?? manifest.parts[0]?.fileName ?? view.name).slice(0, 256);
      view.state = "finished";
      view.totalBytes = manifest.parts.reduce((sum, part) => sum + part.size, 0);
      view.receivedBytes = view.totalBytes;
      view.bytesPerSecond = 0;
      view.etaSeconds = 0;
    } else {
      view.state = "failed";
      view.bytesPerSecond = 0;
      view.etaSeconds = null;
      view.error = `${outcome.message} [${outcome.code}]`.slice(0, 2000);
    }
    changed(view, true);
  }

  function prune() {
    const done = [...views.values()].filter((v) => v.state !== "fetching").sort((a, b) => a.startedAt - b.startedAt);
    while (done.length > keep) views.delete(done.shift()!.root);
  }

  return {
    start(root, fetchOptions = {}) {
      const running = views.get(root);
      if (running?.state === "fetching") return { ...running };
      if (aborts.size >= maxActive) {
        throw new ModelDownloadsError("TOO_MANY_DOWNLOADS", `${aborts.size} models are already being fetched; wait for one of them to finish, then fetch ${root.slice(0, 12)}… again.`);
      }
      const view: ModelDownloadView = { root, name: root.slice(0, 12), state: "fetching", receivedBytes: 0, totalBytes: 0, peers: 0, bytesPerSecond: 0, etaSeconds: null, error: null, startedAt: clock.now() };
      // Re-inserted, so a download started again counts as the newest.
      views.delete(root);
      views.set(root, view);
      prune();
      const download = options.models.fetchModel(root, fetchOptions);
      aborts.set(root, () => download.abort("the node is stopping"));
      void (async () => {
        try {
          // The stream ends with its own finished/failed event; the result carries what the view needs.
          for await (const event of download.events) apply(view, event);
          settle(view, { held: await download.result });
        } catch (error) {
          settle(view, { code: (error as { code?: string }).code ?? "FETCH_FAILED", message: error instanceof Error ? error.message : String(error) });
          options.logger.warn({ err: error, root }, "model download failed");
        } finally {
          aborts.delete(root);
          prune();
        }
      })();
      changed(view, true);
      return { ...view };
    },
    list: () => [...views.values()].reverse().sort((a, b) => b.startedAt - a.startedAt).map((v) => ({ ...v })),
    stop() {
      stopped = true;
      for (const handle of trailing.values()) timers.clearTimeout(handle);
      trailing.clear();
      for (const abort of aborts.values()) abort();
    },
  };
}
