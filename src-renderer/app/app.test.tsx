// @vitest-environment happy-dom
import { cleanup, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { renderWithStores } from "../test-support/render-with-stores.js";
import { App } from "./app.js";
import { NoTokenPage } from "./no-token-page.js";
import { PAGES } from "./pages.js";

afterEach(cleanup);

describe("App shell", () => {
  it("has a labelled navigation with one button per page, the current one marked", async () => {
    renderWithStores(<App />);
    const nav = screen.getByRole("navigation", { name: "Dashboard" });
    const buttons = within(nav).getAllByRole("button");
    expect(buttons.map((b) => b.textContent)).toEqual(PAGES.map((p) => p.title));
    expect(within(nav).getByRole("button", { name: "Overview" }).getAttribute("aria-current")).toBe("page");
    expect(buttons.filter((b) => b.hasAttribute("aria-current"))).toHaveLength(1);
    expect(await screen.findByRole("heading", { level: 1, name: "Overview" })).toBeTruthy();
  });

  it("opens every page, with its heading focused and marked current", async () => {
    const { user } = renderWithStores(<App />);
    const nav = screen.getByRole("navigation");
    for (const page of PAGES) {
      const button = within(nav).getByRole("button", { name: page.title });
      await user.click(button);
      const heading = await screen.findByRole("heading", { level: 1, name: page.title });
      expect(document.activeElement).toBe(heading);
      expect(button.getAttribute("aria-current")).toBe("page");
    }
  });

  it("works from the keyboard: Tab reaches the navigation, Enter opens a page", async () => {
    const { user } = renderWithStores(<App />);
    await screen.findByRole("heading", { level: 1, name: "Overview" });
    const thermals = within(screen.getByRole("navigation")).getByRole("button", { name: "Thermals" });
    for (let i = 0; i < 10 && document.activeElement !== thermals; i += 1) await user.tab();
    expect(document.activeElement).toBe(thermals);
    await user.keyboard("{Enter}");
    expect(await screen.findByRole("heading", { level: 1, name: "Thermals" })).toBeTruthy();
  });

  it("shows the tray state and the event connection in the sidebar", async () => {
    const { stores } = renderWithStores(<App />);
    expect(await screen.findByText("Contributing", { selector: ".tray-badge" })).toBeTruthy();
    stores.connection.getState().set("reconnecting");
    expect(await screen.findByText("Events: Reconnecting…")).toBeTruthy();
  });
});

describe("NoTokenPage", () => {
  it("explains how to open the dashboard with the URL the node printed", () => {
    render(<NoTokenPage origin="http://127.0.0.1:7480" />);
    expect(screen.getByRole("heading", { level: 1 }).textContent).toMatch(/Open the dashboard from your node/);
    expect(screen.getByText("inferswarm node")).toBeTruthy();
    expect(screen.getByText("http://127.0.0.1:7480/#token=…")).toBeTruthy();
  });
});
