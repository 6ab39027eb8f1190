// @vitest-environment happy-dom
import { cleanup, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { DashboardCallError, type ModelDownloadView } from "../../../src-contract/index.js";
import { fixtureModels, FIXTURE_NOW, MISTRAL_ROOT } from "../../test-support/dashboard-fixtures.js";
import { createFakeDashboardApi } from "../../test-support/fake-dashboard-api.js";
import { renderWithStores } from "../../test-support/render-with-stores.js";
import { ModelsPage } from "./models-page.js";

afterEach(cleanup);

const NEW_ROOT = "0123456789abcdef".repeat(4);
const MIB = 1024 * 1024;

const download = (overrides: Partial<ModelDownloadView>): ModelDownloadView => ({
  root: NEW_ROOT,
  name: NEW_ROOT.slice(0, 12),
  state: "fetching",
  receivedBytes: 0,
  totalBytes: 0,
  peers: 0,
  bytesPerSecond: 0,
  etaSeconds: null,
  error: null,
  startedAt: FIXTURE_NOW,
  ...overrides,
});

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

  it("shows each download's progress bar, bytes, peers, rate and time left", async () => {
    renderWithStores(<ModelsPage />);
    const bar = await screen.findByRole("progressbar", { name: /Mistral-7B-Instruct-v0.3/ });
    const fixture = fixtureModels().downloads[0]!;
    const percent = (fixture.receivedBytes / fixture.totalBytes) * 100;
    expect(Number(bar.getAttribute("value"))).toBeCloseTo(percent);
    expect(bar.getAttribute("aria-valuenow")).toBe(String(Math.round(percent)));
    const item = bar.closest("li")!;
    expect(within(item).getByText(/1\.5 GiB of 4\.1 GiB/)).toBeTruthy();
    expect(within(item).getByText(/12 MiB\/s from 3 peers/)).toBeTruthy();
    expect(within(item).getByText(/3 min 40 s left/)).toBeTruthy();
    expect(within(item).getByText("Fetching")).toBeTruthy();
    expect(within(item).getByTitle(MISTRAL_ROOT)).toBeTruthy();
  });

  it("has empty states for no models and no downloads", async () => {
    renderWithStores(<ModelsPage />, { api: createFakeDashboardApi({ data: { models: { installed: [], downloads: [] } } }) });
    expect(await screen.findByText("No models installed.")).toBeTruthy();
    expect(screen.getByText("No downloads in progress.")).toBeTruthy();
    expect(screen.queryByRole("progressbar")).toBeNull();
  });

  it("checks the root before asking the node: 64 hexadecimal characters", async () => {
    const { api, user } = renderWithStores(<ModelsPage />);
    const input = await screen.findByLabelText("Fetch a model by its root");
    const fetch = screen.getByRole("button", { name: "Fetch" });
    await user.click(fetch);
    expect(screen.getByRole("alert").textContent).toMatch(/Paste the model's root/);
    await user.type(input, "abc123");
    await user.click(fetch);
    expect(screen.getByRole("alert").textContent).toMatch(/64 characters long; this has 6/);
    expect(input.getAttribute("aria-invalid")).toBe("true");
    await user.clear(input);
    await user.type(input, `${"g".repeat(64)}`);
    await user.click(fetch);
    expect(screen.getByRole("alert").textContent).toMatch(/only the characters 0–9 and a–f/);
    expect(api.callsTo("fetchModel")).toEqual([]);
  });

  it("fetches a root (pasted in capitals, with spaces) and follows the download live to the end", async () => {
    const { api, user } = renderWithStores(<ModelsPage />);
    const input = await screen.findByLabelText("Fetch a model by its root");
    await user.type(input, `  ${NEW_ROOT.toUpperCase()} `);
    await user.click(screen.getByRole("button", { name: "Fetch" }));
    expect(api.callsTo("fetchModel")).toEqual([{ root: NEW_ROOT }]);
    const bar = await screen.findByRole("progressbar", { name: `Download of ${NEW_ROOT.slice(0, 12)}` });
    expect(bar.getAttribute("aria-valuenow")).toBe("0");
    expect(within(bar.closest("li")!).getByText(/Size not known yet/)).toBeTruthy();
    expect((input as HTMLInputElement).value).toBe("");
    // The newest download is listed first.
    expect(screen.getAllByRole("progressbar")[0]).toBe(bar);

    api.emit({ type: "download", download: download({ receivedBytes: 30 * MIB, totalBytes: 40 * MIB, peers: 2, bytesPerSecond: 5 * MIB, etaSeconds: 2 }) });
    await waitFor(() => expect(bar.getAttribute("aria-valuenow")).toBe("75"));
    const item = bar.closest("li")!;
    expect(within(item).getByText(/30 MiB of 40 MiB · 5 MiB\/s from 2 peers · 2 s left/)).toBeTruthy();

    api.emit({ type: "download", download: download({ name: "Tiny Test Model", state: "finished", receivedBytes: 40 * MIB, totalBytes: 40 * MIB, etaSeconds: 0 }) });
    const done = await screen.findByRole("progressbar", { name: "Download of Tiny Test Model" });
    expect(done.getAttribute("aria-valuenow")).toBe("100");
    expect(within(done.closest("li")!).getByText("Finished")).toBeTruthy();
    expect(within(done.closest("li")!).queryByText(/left/)).toBeNull();
  });

  it("shows a failed download's reason", async () => {
    const { api } = renderWithStores(<ModelsPage />);
    await screen.findByRole("progressbar", { name: /Mistral/ });
    api.emit({ type: "download", download: download({ root: MISTRAL_ROOT, name: "Mistral-7B-Instruct-v0.3", state: "failed", startedAt: FIXTURE_NOW - 128_000, error: "No peer gave a manifest for this model. [PIECES_NO_MANIFEST]" }) });
    expect(await screen.findByText(/Failed: No peer gave a manifest for this model\. \[PIECES_NO_MANIFEST\]/)).toBeTruthy();
    expect(screen.getByText("Failed")).toBeTruthy();
  });

  it("shows the node's refusal (a model it already holds) and keeps what was typed", async () => {
    const api = createFakeDashboardApi({
      handlers: {
        fetchModel: async () => {
          throw new DashboardCallError("ALREADY_HELD", "This node already holds model 0123456789ab… (Tiny) and seeds it to the swarm; there is nothing to fetch.");
        },
      },
    });
    const { user } = renderWithStores(<ModelsPage />, { api });
    const input = await screen.findByLabelText("Fetch a model by its root");
    await user.type(input, NEW_ROOT);
    await user.click(screen.getByRole("button", { name: "Fetch" }));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toMatch(/already holds model .*\(ALREADY_HELD\)/);
    expect((input as HTMLInputElement).value).toBe(NEW_ROOT);
  });
});
