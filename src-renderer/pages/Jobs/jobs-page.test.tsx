// @vitest-environment happy-dom
import { cleanup, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { fixtureJobs, FIXTURE_NOW } from "../../test-support/dashboard-fixtures.js";
import { createFakeDashboardApi } from "../../test-support/fake-dashboard-api.js";
import { renderWithStores } from "../../test-support/render-with-stores.js";
import { JobsPage } from "./jobs-page.js";

afterEach(cleanup);

const rowOf = (jobId: string) => screen.getByText(jobId).closest("tr")!;

describe("Jobs", () => {
  it("lists the node's latest jobs with state, tokens and detail", async () => {
    renderWithStores(<JobsPage />);
    await screen.findByText("job-51d0e8b4");
    expect(within(screen.getByRole("table")).getAllByRole("row")).toHaveLength(4);
    expect(within(rowOf("job-51d0e8b4")).getByText("answered")).toBeTruthy();
    expect(within(rowOf("job-51d0e8b4")).getByText("256")).toBeTruthy();
    expect(within(rowOf("job-0c6b2a17")).getByText("ENGINE_PREEMPTED")).toBeTruthy();
  });

  it("updates live: a finished job changes in place and a new one appears on top", async () => {
    const { api } = renderWithStores(<JobsPage />);
    await screen.findByText("job-7f3a9c21");
    api.emit({ type: "job", job: { ...fixtureJobs()[0]!, state: "answered", generatedTokens: 16, endedAt: FIXTURE_NOW + 1000, detail: "length" } });
    api.emit({ type: "job", job: { ...fixtureJobs()[0]!, jobId: "job-fresh", state: "running", generatedTokens: 0 } });
    expect(await screen.findByText("job-fresh")).toBeTruthy();
    const rows = within(screen.getByRole("table")).getAllByRole("row").slice(1);
    expect(rows.map((r) => r.querySelector("code")?.textContent)).toEqual(["job-fresh", "job-7f3a9c21", "job-51d0e8b4", "job-0c6b2a17"]);
    expect(within(rowOf("job-7f3a9c21")).getByText("answered")).toBeTruthy();
  });

  it("has an empty state", async () => {
    renderWithStores(<JobsPage />, { api: createFakeDashboardApi({ data: { jobs: [] } }) });
    expect(await screen.findByText(/No jobs yet/)).toBeTruthy();
  });
});
