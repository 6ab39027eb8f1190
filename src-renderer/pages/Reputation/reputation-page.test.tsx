// @vitest-environment happy-dom
import { cleanup, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { unavailableReputation } from "../../test-support/dashboard-fixtures.js";
import { createFakeDashboardApi } from "../../test-support/fake-dashboard-api.js";
import { renderWithStores } from "../../test-support/render-with-stores.js";
import { ReputationPage } from "./reputation-page.js";

afterEach(cleanup);

describe("Reputation", () => {
  it("shows the score, the tier and the history", async () => {
    renderWithStores(<ReputationPage />);
    expect((await screen.findByText("Score")).nextElementSibling?.textContent).toBe("0.94");
    expect(screen.getByText("Tier").nextElementSibling?.textContent).toBe("trusted");
    const rows = within(screen.getByRole("table")).getAllByRole("row").slice(1);
    expect(rows).toHaveLength(3);
    expect(rows[2]!.textContent).toMatch(/Stall.*fail.*No token for 30 s/);
  });

  it("says reputation is not tracked yet when the trust module is absent", async () => {
    renderWithStores(<ReputationPage />, { api: createFakeDashboardApi({ data: { reputation: unavailableReputation() } }) });
    expect(await screen.findByText("Reputation is not tracked on this node yet")).toBeTruthy();
    expect(screen.queryByText("Score")).toBeNull();
  });
});
