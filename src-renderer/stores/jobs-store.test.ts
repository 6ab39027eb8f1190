import { describe, expect, it } from "vitest";
import type { JobView } from "../../src-contract/index.js";
import { fixtureJobs, FIXTURE_NOW } from "../test-support/dashboard-fixtures.js";
import { deferred } from "../test-support/deferred.js";
import { createFakeDashboardApi } from "../test-support/fake-dashboard-api.js";
import { createJobsStore, JOBS_CAPACITY } from "./jobs-store.js";

const job = (jobId: string, overrides: Partial<JobView> = {}): JobView => ({
  jobId,
  model: "Llama-3.2-3B-Instruct",
  requester: "k9Qp3xZa",
  state: "running",
  generatedTokens: 0,
  startedAt: FIXTURE_NOW,
  endedAt: null,
  detail: null,
  ...overrides,
});

describe("jobs store", () => {
  it("is seeded by listJobs with its capacity as the limit", async () => {
    const api = createFakeDashboardApi();
    const store = createJobsStore(api);
    await store.getState().load();
    expect(api.callsTo("listJobs")).toEqual([{ limit: JOBS_CAPACITY }]);
    expect(store.getState().jobs.map((j) => j.jobId)).toEqual(fixtureJobs().map((j) => j.jobId));
  });

  it("puts a new job on top and replaces a known one where it is", async () => {
    const store = createJobsStore(createFakeDashboardApi());
    await store.getState().load();
    store.getState().upsert(job("job-new"));
    const running = fixtureJobs()[0]!;
    store.getState().upsert({ ...running, state: "answered", generatedTokens: 256, endedAt: FIXTURE_NOW, detail: "stop" });
    const jobs = store.getState().jobs;
    expect(jobs.map((j) => j.jobId)).toEqual(["job-new", running.jobId, "job-51d0e8b4", "job-0c6b2a17"]);
    expect(jobs[1]).toMatchObject({ state: "answered", generatedTokens: 256 });
  });

  it("keeps at most its capacity, dropping the oldest", () => {
    const store = createJobsStore(createFakeDashboardApi(), 3);
    for (let i = 1; i <= 5; i += 1) store.getState().upsert(job(`job-${i}`));
    expect(store.getState().jobs.map((j) => j.jobId)).toEqual(["job-5", "job-4", "job-3"]);
  });

  it("replays job events that arrived while the list was loading", async () => {
    const answer = deferred<{ jobs: JobView[] }>();
    const store = createJobsStore(createFakeDashboardApi({ handlers: { listJobs: () => answer.promise } }));
    const loading = store.getState().load();
    store.getState().upsert(job("job-a", { state: "answered", generatedTokens: 16 }));
    store.getState().upsert(job("job-b"));
    answer.resolve({ jobs: [job("job-a"), job("job-old", { state: "answered" })] });
    await loading;
    expect(store.getState().jobs.map((j) => [j.jobId, j.state])).toEqual([
      ["job-b", "running"],
      ["job-a", "answered"],
      ["job-old", "answered"],
    ]);
  });
});
