import { createStore, type StoreApi } from "zustand/vanilla";
import type { DashboardApi, TelemetryHistory, TelemetryPoint } from "../../src-contract/index.js";
import { createLoader, initialLoadState, type LoadState } from "./loader.js";

/** 900 samples: half an hour at the node's 2 s interval, the same window the node keeps. */
export const TELEMETRY_CAPACITY = 900;

export interface TelemetryState extends LoadState {
  source: TelemetryHistory["source"] | null;
  intervalMs: number | null;
  limits: TelemetryHistory["limits"] | null;
  /** Oldest first, at most `capacity`, one per instant. */
  samples: TelemetryPoint[];
  capacity: number;
  load(): Promise<void>;
  /** A `telemetry` event from the node. */
  append(point: TelemetryPoint): void;
}

/** The newest `capacity` samples of both lists, oldest first, one per timestamp (a live point wins). */
export function mergeSamples(history: readonly TelemetryPoint[], live: readonly TelemetryPoint[], capacity: number): TelemetryPoint[] {
  const byTime = new Map<number, TelemetryPoint>();
  for (const point of history) byTime.set(point.at, point);
  for (const point of live) byTime.set(point.at, point);
  return [...byTime.values()].sort((a, b) => a.at - b.at).slice(-capacity);
}

export function createTelemetryStore(api: DashboardApi, capacity = TELEMETRY_CAPACITY): StoreApi<TelemetryState> {
  const store: StoreApi<TelemetryState> = createStore<TelemetryState>()((set) => ({
    ...initialLoadState,
    source: null,
    intervalMs: null,
    limits: null,
    samples: [],
    capacity,
    load: () => load(),
    append: (point) =>
      set(({ samples }) => {
        const last = samples.at(-1);
        if (last && point.at <= last.at) return last.at === point.at ? { samples: [...samples.slice(0, -1), point] } : { samples: mergeSamples(samples, [point], capacity) };
        return { samples: samples.length >= capacity ? [...samples.slice(samples.length - capacity + 1), point] : [...samples, point] };
      }),
  }));
  const load: () => Promise<void> = createLoader<TelemetryState, TelemetryHistory>(store, () => api.getTelemetry({}), (history, now) => ({
    source: history.source,
    intervalMs: history.intervalMs,
    limits: history.limits,
    samples: mergeSamples(history.samples, now.samples, capacity),
  }));
  return store;
}
