// @vitest-environment happy-dom
import { cleanup, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { fixtureModels } from "../../test-support/dashboard-fixtures.js";
import { createFakeDashboardApi } from "../../test-support/fake-dashboard-api.js";
import { renderWithStores } from "../../test-support/render-with-stores.js";
import { ModelsPage } from "./models-page.js";

afterEach(cleanup);

describe("Models", () => {
  it("lists installed models with their fit note", async () => {
    renderWithStores(<ModelsPage />);
    const llama = (await screen.findByRole("rowheader", { name: /Llama-3.2-3B-Instruct/ })).closest("tr")!;
    expect(within(llama).getByText(/GPU, 29 layers/)).toBeTruthy();
    expect(within(llama).getByText(fixtureModels().installed[0]!.fit.note)).toBeTruthy();
    expect(within(llama).getByText("Q4_K_M")).toBeTruthy();
    const qwen = screen.getByRole("rowheader", { name: /Qwen2.5-1.5B-Instruct/ }).closest("tr")!;
    expect(within(qwen).getByText("No")).toBeTruthy();
  });

  it("shows each download's progress as a progress bar", async () => {
    renderWithStores(<ModelsPage />);
    const bar = await screen.findByRole("progressbar", { name: /Mistral-7B-Instruct-v0.3/ });
    const download = fixtureModels().downloads[0]!;
    expect(Number(bar.getAttribute("value"))).toBeCloseTo((download.receivedBytes / download.totalBytes) * 100);
    expect(screen.getByText(/from 3 peers/)).toBeTruthy();
  });

  it("has empty states for no models and no downloads", async () => {
    renderWithStores(<ModelsPage />, { api: createFakeDashboardApi({ data: { models: { installed: [], downloads: [] } } }) });
    expect(await screen.findByText("No models installed.")).toBeTruthy();
    expect(screen.getByText("No downloads in progress.")).toBeTruthy();
    expect(screen.queryByRole("progressbar")).toBeNull();
  });
});
