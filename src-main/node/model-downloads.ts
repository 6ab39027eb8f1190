import type { Logger } from "../common/index.js";
import type { FetchModelOptions, ModelFetchEvent, NodeModels } from "./node-models.js";

/** One download as the dashboard shows it. */
export interface ModelDownloadView {
  root: string;
  name: string;
  state: "fetching" | "finished" | "failed";
  receivedBytes: number;
  totalBytes: number;
  peers: number;
  bytesPerSecond: number;
  /** Seconds left at the current rate; null while unknown. */
  etaSeconds: number | null;
  /** Why it failed, for the owner. */
  error: string | null;
  startedAt: number;
}

export interface ModelDownloads {
  /** Starts fetching a model by its root (a second start of the same root returns the running one). */
  start(root: string, options?: FetchModelOptions): ModelDownloadView;
  /** Downloads of this session, newest first (finished and failed ones are kept, at most `keep`). */
  list(): ModelDownloadView[];
  stop(): void;
}

/**
 * The node's downloads as a list the dashboard polls and a change callback it pushes from: progress
 * events from `NodeModels.fetchModel` folded into one view per root. `onChange` is called at most
 * every `changeIntervalMs` per download (progress events come per piece).
 */
export function createModelDownloads(options: {
  models: NodeModels;
  logger: Logger;
  onChange?: (view: ModelDownloadView) => void;
  /** Finished and failed downloads kept in the list. */
  keep?: number;
  changeIntervalMs?: number;
  now?: () => number;
}): ModelDownloads {
  const now = options.now ?? Date.now;
  const keep = options.keep ?? 16;
  const views = new Map<string, ModelDownloadView>();
  const aborts = new Map<string, () => void>();
  const lastChange = new Map<string, number>();

  function changed(view: ModelDownloadView, force = false) {
    const at = now();
    if (!force && at - (lastChange.get(view.root) ?? 0) < (options.changeIntervalMs ?? 500)) return;
    lastChange.set(view.root, at);
    options.onChange?.({ ...view });
  }

  function apply(view: ModelDownloadView, event: ModelFetchEvent) {
    switch (event.type) {
      case "manifest":
        view.totalBytes = event.totalBytes;
        view.receivedBytes = event.totalBytes - event.missingBytes;
        changed(view, true);
        return;
      case "progress": {
        const p = event.progress;
        view.totalBytes = p.bytesTotal;
        view.receivedBytes = p.bytesDone;
        view.peers = p.peers + p.httpSources;
        view.bytesPerSecond = p.bytesPerSecond;
        view.etaSeconds = p.bytesPerSecond > 0 ? Math.ceil((p.bytesTotal - p.bytesDone) / p.bytesPerSecond) : null;
        changed(view);
        return;
      }
      case "finished":
        view.state = "finished";
        view.receivedBytes = view.totalBytes;
        view.etaSeconds = 0;
        changed(view, true);
        return;
      case "failed":
        view.state = "failed";
        view.error = `${event.message} [${event.code}]`;
        changed(view, true);
        return;
      default:
        return;
    }
  }

  function prune() {
    const done = [...views.values()].filter((v) => v.state !== "fetching").sort((a, b) => a.startedAt - b.startedAt);
    while (views.size > keep && done.length > 0) views.delete(done.shift()!.root);
  }

  return {
    start(root, fetchOptions = {}) {
      const running = views.get(root);
      if (running?.state === "fetching") return { ...running };
      const view: ModelDownloadView = { root, name: root.slice(0, 12), state: "fetching", receivedBytes: 0, totalBytes: 0, peers: 0, bytesPerSecond: 0, etaSeconds: null, error: null, startedAt: now() };
      views.set(root, view);
      prune();
      const download = options.models.fetchModel(root, fetchOptions);
      aborts.set(root, () => download.abort("the node is stopping"));
      void (async () => {
        try {
          for await (const event of download.events) apply(view, event);
          const held = await download.result;
          view.name = held.manifest.parts[0]?.fileName ?? view.name;
          if (view.state === "fetching") apply(view, { type: "finished", root, paths: [] });
        } catch (error) {
          if (view.state === "fetching") {
            const code = (error as { code?: string }).code ?? "FETCH_FAILED";
            apply(view, { type: "failed", code, message: error instanceof Error ? error.message : String(error) });
          }
          options.logger.warn({ err: error, root }, "model download failed");
        } finally {
          aborts.delete(root);
        }
      })();
      changed(view, true);
      return { ...view };
    },
    list: () => [...views.values()].sort((a, b) => b.startedAt - a.startedAt).map((v) => ({ ...v })),
    stop() {
      for (const abort of aborts.values()) abort();
    },
  };
}
