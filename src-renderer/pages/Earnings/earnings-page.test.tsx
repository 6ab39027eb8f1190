// @vitest-environment happy-dom
import { cleanup, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { downloadTextFile } from "../../components/download-file.js";
import { unavailableEarnings } from "../../test-support/dashboard-fixtures.js";
import { createFakeDashboardApi } from "../../test-support/fake-dashboard-api.js";
import { renderWithStores } from "../../test-support/render-with-stores.js";
import { EarningsPage } from "./earnings-page.js";

afterEach(cleanup);

describe("Earnings", () => {
  it("shows totals per period and state, a stacked bar chart per day and a per-model table", async () => {
    const { container } = renderWithStores(<EarningsPage download={() => {}} />);
    const totals = await screen.findByRole("region", { name: /totals/i });
    const week = within(totals).getByRole("row", { name: /last 7 days/i });
    expect(within(week).getAllByRole("cell").map((c) => c.textContent)).toEqual(["7.2", "0.8", "51", "0.5"]);
    expect(within(totals).getByRole("columnheader", { name: "Forfeited" })).toBeTruthy();
    expect(screen.getByRole("figure", { name: /earnings per day/i })).toBeTruthy();
    expect(container.querySelector(".recharts-wrapper")).not.toBeNull();
    const perModel = screen.getByRole("region", { name: /per model/i });
    const qwen = within(perModel).getByRole("row", { name: /Qwen2.5-1.5B-Instruct/ });
    expect(within(qwen).getAllByRole("cell")[0]!.textContent).toBe("512");
  });

  it("exports CSV through exportEarningsCsv and hands the file to the download", async () => {
    const download = vi.fn();
    const { api, user } = renderWithStores(<EarningsPage download={download} />);
    await user.selectOptions(await screen.findByLabelText(/receipts from the last/i), "90");
    await user.click(screen.getByRole("button", { name: "Export CSV" }));
    expect(api.callsTo("exportEarningsCsv")).toEqual([{ days: 90 }]);
    await waitFor(() => expect(download).toHaveBeenCalledWith(api.data.csv.fileName, api.data.csv.csv));
    expect(screen.getByText(`Saved ${api.data.csv.fileName}.`)).toBeTruthy();
  });

  it("says the ledger is not running instead of showing zeros", async () => {
    const api = createFakeDashboardApi({ data: { earnings: unavailableEarnings() } });
    const { container } = renderWithStores(<EarningsPage download={() => {}} />, { api });
    expect(await screen.findByText("The earnings ledger is not running on this node yet")).toBeTruthy();
    expect(screen.queryByRole("table")).toBeNull();
    expect(screen.queryByRole("button", { name: "Export CSV" })).toBeNull();
    expect(container.textContent).not.toMatch(/\d/);
  });
});

describe("downloadTextFile", () => {
  it("clicks a link to an object URL of a Blob with the file's name", async () => {
    const clicked: Array<{ href: string; download: string }> = [];
    const revoked: string[] = [];
    const blobs: Blob[] = [];
    const env = {
      document: {
        body: document.body,
        createElement: (tag: string) => {
          const link = document.createElement(tag) as HTMLAnchorElement;
          link.click = () => clicked.push({ href: link.href, download: link.download });
          return link;
        },
      } as unknown as Document,
      URL: {
        createObjectURL: (blob: Blob) => (blobs.push(blob), "blob:dashboard/1"),
        revokeObjectURL: (url: string) => void revoked.push(url),
      } as unknown as typeof URL,
    };
    downloadTextFile("earnings.csv", "day,amount\n", undefined, env);
    expect(clicked).toEqual([{ href: "blob:dashboard/1", download: "earnings.csv" }]);
    expect(await blobs[0]!.text()).toBe("day,amount\n");
    expect(document.querySelector("a[download]")).toBeNull();
    await waitFor(() => expect(revoked).toEqual(["blob:dashboard/1"]));
  });
});
