// @vitest-environment happy-dom
import { cleanup, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { DashboardCallError } from "../../../src-contract/index.js";
import { fixtureStatus, FIXTURE_NOW } from "../../test-support/dashboard-fixtures.js";
import { createFakeDashboardApi } from "../../test-support/fake-dashboard-api.js";
import { renderWithStores } from "../../test-support/render-with-stores.js";
import { OverviewPage } from "./overview-page.js";

afterEach(cleanup);

describe("Overview", () => {
  it("shows the tray state, the decision's reason, peer id, peers, workers, jobs and served models", async () => {
    renderWithStores(<OverviewPage now={() => FIXTURE_NOW} />);
    expect(await screen.findByText("Contributing")).toBeTruthy();
    expect(screen.getByText(fixtureStatus().decision!.reason)).toBeTruthy();
    expect(screen.getByText(fixtureStatus().peerId)).toBeTruthy();
    const node = screen.getByRole("region", { name: "This node" });
    expect(within(node).getByText("Peers connected").nextElementSibling?.textContent).toBe("7");
    expect(within(node).getByText("Workers seen").nextElementSibling?.textContent).toBe("5");
    expect(within(node).getByText("Running for").nextElementSibling?.textContent).toBe("3 h 25 min");
    const jobs = screen.getByRole("region", { name: "Jobs served" });
    expect(within(jobs).getByText("Answered").nextElementSibling?.textContent).toBe("128");
    expect(within(jobs).getByText("Failed").nextElementSibling?.textContent).toBe("3");
    expect(screen.getByRole("rowheader", { name: "Llama-3.2-3B-Instruct" })).toBeTruthy();
  });

  it("pauses with the switch, then shows the status the node returned", async () => {
    const { api, user } = renderWithStores(<OverviewPage />);
    const pause = await screen.findByRole("switch", { name: /pause contributing/i });
    expect(pause.getAttribute("aria-checked")).toBe("false");
    await user.click(pause);
    expect(api.callsTo("setPaused")).toEqual([{ paused: true }]);
    await waitFor(() => expect(pause.getAttribute("aria-checked")).toBe("true"));
    expect(screen.getByText("Paused", { selector: ".tray-state" })).toBeTruthy();
    expect(screen.getByText(/paused contributing from the dashboard/)).toBeTruthy();
    await user.click(pause);
    expect(api.callsTo("setPaused")).toEqual([{ paused: true }, { paused: false }]);
    await waitFor(() => expect(pause.getAttribute("aria-checked")).toBe("false"));
  });

  it("toggles from the keyboard (Space on the focused switch)", async () => {
    const { api, user } = renderWithStores(<OverviewPage />);
    const pause = await screen.findByRole("switch", { name: /pause/i });
    pause.focus();
    await user.keyboard(" ");
    expect(api.callsTo("setPaused")).toEqual([{ paused: true }]);
  });

  it("changes the mode through the labelled select", async () => {
    const { api, user } = renderWithStores(<OverviewPage />);
    const mode = (await screen.findByLabelText("Mode")) as HTMLSelectElement;
    expect(mode.value).toBe("when-idle");
    await user.selectOptions(mode, "always");
    expect(api.callsTo("setMode")).toEqual([{ mode: "always" }]);
    await waitFor(() => expect(mode.value).toBe("always"));
  });

  it("follows status events", async () => {
    const { api } = renderWithStores(<OverviewPage />);
    await screen.findByText("Contributing");
    api.emit({ type: "status", status: { ...fixtureStatus(), tray: "too-hot", decision: { contribute: false, reasonCode: "too-hot", reason: "Too hot: the GPU is at 84 °C (limit 83 °C).", at: FIXTURE_NOW } } });
    expect(await screen.findByText("Too hot")).toBeTruthy();
    expect(screen.getByText("Too hot: the GPU is at 84 °C (limit 83 °C).")).toBeTruthy();
  });

  it("shows the node's message when it refuses a change", async () => {
    const api = createFakeDashboardApi({
      handlers: {
        setPaused: async () => {
          throw new DashboardCallError("NO_MODELS_SERVED", "This node serves no model, so there is nothing to pause or schedule; start it with a model (--model).");
        },
      },
    });
    const { user } = renderWithStores(<OverviewPage />, { api });
    await user.click(await screen.findByRole("switch", { name: /pause/i }));
    expect((await screen.findByRole("alert")).textContent).toMatch(/serves no model/);
    expect(screen.getByRole("switch", { name: /pause/i }).getAttribute("aria-checked")).toBe("false");
  });

  it("shows a load error with a retry that loads again", async () => {
    let fail = true;
    const api = createFakeDashboardApi({
      handlers: {
        getStatus: async () => {
          if (fail) throw new DashboardCallError("BRIDGE_UNREACHABLE", "The dashboard cannot reach the node.");
          return fixtureStatus();
        },
      },
    });
    const { user } = renderWithStores(<OverviewPage />, { api });
    expect((await screen.findByRole("alert")).textContent).toMatch(/cannot reach the node/);
    fail = false;
    await user.click(screen.getByRole("button", { name: "Try again" }));
    expect(await screen.findByText("Contributing")).toBeTruthy();
  });
});
