import { createStore, type StoreApi } from "zustand/vanilla";
import type { DashboardApi, JobView } from "../../src-contract/index.js";
import { createLoader, initialLoadState, type LoadState } from "./loader.js";

/** The node keeps its last 200 jobs; so does the page. */
export const JOBS_CAPACITY = 200;

export interface JobsState extends LoadState {
  /** Newest first, at most `capacity`. */
  jobs: JobView[];
  capacity: number;
  load(): Promise<void>;
  /** A `job` event: a new job goes on top, a known one is replaced where it is. */
  upsert(job: JobView): void;
}

export function upsertJob(jobs: readonly JobView[], job: JobView, capacity: number): JobView[] {
  const index = jobs.findIndex((known) => known.jobId === job.jobId);
  if (index >= 0) return jobs.map((known, i) => (i === index ? job : known));
  return [job, ...jobs].slice(0, capacity);
}

export function createJobsStore(api: DashboardApi, capacity = JOBS_CAPACITY): StoreApi<JobsState> {
  const store: StoreApi<JobsState> = createStore<JobsState>()((set) => ({
    ...initialLoadState,
    jobs: [],
    capacity,
    load: () => load(),
    upsert: (job) => set(({ jobs }) => ({ jobs: upsertJob(jobs, job, capacity) })),
  }));
  const load: () => Promise<void> = createLoader<JobsState, { jobs: JobView[] }>(
    store,
    () => api.listJobs({ limit: Math.min(capacity, 500) }),
    ({ jobs: listed }, now, atStart) => {
      // Job events that arrived while the list was in flight are newer than it: replay them on top.
      const before = new Set(atStart.jobs);
      let jobs = listed.slice(0, capacity);
      for (const job of now.jobs.filter((j) => !before.has(j)).reverse()) jobs = upsertJob(jobs, job, capacity);
      return { jobs };
    },
  );
  return store;
}
