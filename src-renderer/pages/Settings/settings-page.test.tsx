// @vitest-environment happy-dom
import { cleanup, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fixtureSettings } from "../../test-support/dashboard-fixtures.js";
import { createFakeDashboardApi } from "../../test-support/fake-dashboard-api.js";
import { renderWithStores } from "../../test-support/render-with-stores.js";
import { SettingsPage } from "./settings-page.js";

afterEach(cleanup);

const input = (label: string | RegExp) => screen.getByLabelText(label) as HTMLInputElement;

describe("Settings", () => {
  it("fills the labelled policy fields from the node, fractions as percentages", async () => {
    renderWithStores(<SettingsPage />);
    expect((await screen.findByLabelText("Maximum GPU temperature (°C)") as HTMLInputElement).value).toBe("83");
    expect(input("Resume margin below the maximum (°C)").value).toBe("8");
    expect(input("Power cap per GPU (W)").value).toBe("");
    expect(input("Share of the card's power limit (%)").value).toBe("90");
    expect(input("Share of VRAM this node may use (%)").value).toBe("80");
    expect(input("Jobs at once").value).toBe("2");
    expect(input("Idle time before contributing (seconds)").value).toBe("300");
    expect((screen.getByLabelText("Mode") as HTMLSelectElement).value).toBe("when-idle");
    expect(input("Pause while a game is running").checked).toBe(true);
    expect(input("Start InferSwarm when I log in").checked).toBe(false);
    expect(screen.getByText("Mon, Tue, Wed, Thu, Fri 22:00–07:00")).toBeTruthy();
  });

  it("saves only the fields that changed", async () => {
    const { api, user } = renderWithStores(<SettingsPage />);
    const temperature = await screen.findByLabelText("Maximum GPU temperature (°C)");
    await user.clear(temperature);
    await user.type(temperature, "78");
    await user.clear(input("Share of VRAM this node may use (%)"));
    await user.type(input("Share of VRAM this node may use (%)"), "70");
    await user.click(input("Pause while a game is running"));
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(api.callsTo("updateSettings")).toEqual([{ policy: { pauseWhenGameRunning: false, limits: { maxTemperatureC: 78, vramShare: 0.7 } } }]);
    expect(await screen.findByText("Saved.")).toBeTruthy();
    expect(input("Maximum GPU temperature (°C)").value).toBe("78");
  });

  it("sends nothing when nothing changed", async () => {
    const { api, user } = renderWithStores(<SettingsPage />);
    await user.click(await screen.findByRole("button", { name: "Save" }));
    expect(api.callsTo("updateSettings")).toEqual([]);
    expect(screen.getByText(/Nothing to save/)).toBeTruthy();
  });

  it("shows the node's field error beside the field and its message as an alert", async () => {
    const { user } = renderWithStores(<SettingsPage />);
    const temperature = await screen.findByLabelText("Maximum GPU temperature (°C)");
    await user.clear(temperature);
    await user.type(temperature, "130");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect((await screen.findByRole("alert")).textContent).toMatch(/contribution settings are invalid/);
    await waitFor(() => expect(temperature.getAttribute("aria-invalid")).toBe("true"));
    const describedBy = temperature.getAttribute("aria-describedby")!;
    expect(document.getElementById(describedBy)?.textContent).toBe("Too big: expected number to be <=110");
    await user.click(screen.getByRole("button", { name: "Discard changes" }));
    expect(screen.queryByRole("alert")).toBeNull();
    expect(input("Maximum GPU temperature (°C)").value).toBe("83");
    expect(input("Maximum GPU temperature (°C)").getAttribute("aria-invalid")).toBeNull();
  });

  it("refuses an empty number field before asking the node", async () => {
    const { api, user } = renderWithStores(<SettingsPage />);
    await user.clear(await screen.findByLabelText("Idle time before contributing (seconds)"));
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(api.callsTo("updateSettings")).toEqual([]);
    expect(input("Idle time before contributing (seconds)").getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByText("Enter a number.")).toBeTruthy();
  });

  it("edits the schedule: remove a window, add one, save the whole list", async () => {
    const { api, user } = renderWithStores(<SettingsPage />);
    await user.click(await screen.findByRole("button", { name: "Remove window Mon, Tue, Wed, Thu, Fri 22:00–07:00" }));
    expect(screen.getByText(/No windows/)).toBeTruthy();
    const addForm = screen.getByRole("group", { name: "Add a window" });
    for (const day of ["Mon", "Tue", "Wed", "Thu", "Fri"]) await user.click(within(addForm).getByLabelText(day));
    await user.click(within(addForm).getByLabelText("Sat"));
    await user.click(within(addForm).getByLabelText("Sun"));
    await user.click(screen.getByRole("button", { name: "Add window" }));
    expect(screen.getByText("Sun, Sat 22:00–07:00")).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(api.callsTo("updateSettings")).toEqual([{ policy: { schedule: [{ days: [0, 6], start: "22:00", end: "07:00" }] } }]);
  });

  it("shows the swarm, the identity storage and the API read-only, with copy buttons", async () => {
    const writeText = vi.fn(async () => {});
    const { user } = renderWithStores(<SettingsPage clipboard={{ writeText }} />);
    expect(await screen.findByText(fixtureSettings().swarm.swarmKeyFile!)).toBeTruthy();
    expect(screen.getByText(/only peers holding the same swarm key/)).toBeTruthy();
    expect(screen.getByText(fixtureSettings().identityStorage.note, { exact: false })).toBeTruthy();
    expect(input("API URL").readOnly).toBe(true);
    await user.click(screen.getByRole("button", { name: "Copy API key" }));
    expect(writeText).toHaveBeenCalledWith(fixtureSettings().api!.key);
    expect(screen.getByText("API key copied.")).toBeTruthy();
  });

  it("says the API is not enabled and hides start at login on a headless node", async () => {
    const api = createFakeDashboardApi({ data: { settings: { ...fixtureSettings(), api: null, startAtLogin: null } } });
    renderWithStores(<SettingsPage />, { api });
    expect(await screen.findByText("Not enabled on this node.")).toBeTruthy();
    expect(screen.queryByLabelText("Start InferSwarm when I log in")).toBeNull();
    expect(screen.queryByRole("button", { name: /copy/i })).toBeNull();
  });

  it("sends start at login when it is toggled", async () => {
    const { api, user } = renderWithStores(<SettingsPage />);
    await user.click(await screen.findByLabelText("Start InferSwarm when I log in"));
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(api.callsTo("updateSettings")).toEqual([{ startAtLogin: true }]);
  });
});
