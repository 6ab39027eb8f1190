// @vitest-environment happy-dom
import { cleanup, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { fixtureTelemetry, fixtureTelemetryPoint, GPU_NAME, GPU_VRAM_TOTAL_BYTES } from "../../test-support/dashboard-fixtures.js";
import { createFakeDashboardApi } from "../../test-support/fake-dashboard-api.js";
import { renderWithStores } from "../../test-support/render-with-stores.js";
import { limitsFor, seriesFor } from "./thermal-series.js";
import { ThermalsPage } from "./thermals-page.js";

afterEach(cleanup);

describe("Thermals", () => {
  it("names the source and the GPU, shows the latest readings and one chart per reading", async () => {
    renderWithStores(<ThermalsPage />);
    expect(await screen.findByRole("heading", { name: GPU_NAME })).toBeTruthy();
    expect(screen.getByText("Recorded fixture")).toBeTruthy();
    expect(screen.getByText(/replayed on a machine without a GPU/)).toBeTruthy();
    for (const title of ["Temperature (°C)", "Utilization (%)", "Power (W)", "VRAM used (GiB)"]) expect(screen.getByRole("figure", { name: title })).toBeTruthy();
    const last = fixtureTelemetry().samples.at(-1)!.gpus[0]!;
    expect(screen.getByText("Temperature").nextElementSibling?.textContent).toBe(`${last.temperatureC} °C`);
  });

  it("adds live telemetry points to the latest readings", async () => {
    const { api } = renderWithStores(<ThermalsPage />);
    await screen.findByRole("heading", { name: GPU_NAME });
    const next = fixtureTelemetryPoint(0, fixtureTelemetry().samples.at(-1)!.at + 2000);
    next.gpus[0]!.temperatureC = 79;
    api.emit({ type: "telemetry", point: next });
    expect((await screen.findByText("79 °C")).tagName).toBe("DD");
  });

  it("says so when there is no GPU to plot", async () => {
    const api = createFakeDashboardApi({ data: { telemetry: { ...fixtureTelemetry(), source: "none", samples: [] } } });
    renderWithStores(<ThermalsPage />, { api });
    expect(await screen.findByText("No GPU")).toBeTruthy();
    expect(screen.getByText(/nothing to plot/)).toBeTruthy();
    expect(screen.queryByRole("figure")).toBeNull();
  });

  it("shows what went wrong with the last reading, and a dash (not 0) for an unknown value", async () => {
    const telemetry = fixtureTelemetry();
    const last = telemetry.samples.at(-1)!;
    last.errors = ["nvidia-smi stopped reporting; restarting it in 2 s"];
    last.gpus[0]!.powerW = null;
    renderWithStores(<ThermalsPage />, { api: createFakeDashboardApi({ data: { telemetry } }) });
    const notice = await screen.findByRole("note");
    expect(within(notice).getByText(/nvidia-smi stopped reporting/)).toBeTruthy();
    expect(screen.getByText("Power").nextElementSibling?.textContent).toBe("—");
  });

  it("offers a GPU picker when the machine has several", async () => {
    const telemetry = fixtureTelemetry();
    for (const sample of telemetry.samples) sample.gpus.push({ ...sample.gpus[0]!, id: "0000:02:00.0", name: "AMD Radeon RX 7900 XTX" });
    const { user } = renderWithStores(<ThermalsPage />, { api: createFakeDashboardApi({ data: { telemetry } }) });
    await user.selectOptions(await screen.findByLabelText("GPU"), "0000:02:00.0");
    expect(screen.getByRole("heading", { name: "AMD Radeon RX 7900 XTX" })).toBeTruthy();
  });
});

describe("thermal series and limits", () => {
  it("draws power at maxPowerW, else the card's limit times the fraction; VRAM at total times the share", () => {
    const { samples, limits } = fixtureTelemetry();
    const drawn = limitsFor(limits, samples, "0000:01:00.0");
    expect(drawn.maxTemperatureC).toBe(83);
    expect(drawn.resumeTemperatureC).toBe(75);
    expect(drawn.powerLimitW).toBeCloseTo(320 * 0.9);
    expect(drawn.vramLimitGiB).toBeCloseTo((GPU_VRAM_TOTAL_BYTES * 0.8) / 1024 ** 3);
    expect(limitsFor({ ...limits, maxPowerW: 250 }, samples, "0000:01:00.0").powerLimitW).toBe(250);
    expect(limitsFor(limits, [], "0000:01:00.0")).toMatchObject({ powerLimitW: null, vramLimitGiB: null });
  });

  it("keeps unknown readings as gaps (null), never 0", () => {
    const point = fixtureTelemetryPoint(0);
    point.gpus[0]!.utilizationPercent = null;
    point.gpus[0]!.vramUsedBytes = null;
    const [plotted] = seriesFor([point], "0000:01:00.0");
    expect(plotted).toMatchObject({ utilizationPercent: null, vramUsedGiB: null });
    expect(seriesFor([point], "0000:09:00.0")[0]!.temperatureC).toBeNull();
  });
});
