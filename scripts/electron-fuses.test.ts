import { FuseV1Options } from "@electron/fuses";
import { describe, expect, it, vi } from "vitest";
import afterPack, { fuseConfigFor } from "./electron-fuses.mjs";

describe("the packaged app's Electron fuses", () => {
  it("closes the doors a shipped app does not need", () => {
    const fuses = fuseConfigFor({});
    expect(fuses[FuseV1Options.RunAsNode]).toBe(false);
    expect(fuses[FuseV1Options.EnableCookieEncryption]).toBe(true);
    expect(fuses[FuseV1Options.EnableNodeOptionsEnvironmentVariable]).toBe(false);
    expect(fuses[FuseV1Options.EnableNodeCliInspectArguments]).toBe(false);
    expect(fuses[FuseV1Options.EnableEmbeddedAsarIntegrityValidation]).toBe(true);
    expect(fuses[FuseV1Options.OnlyLoadAppFromAsar]).toBe(true);
  });

  it("keeps --inspect only in builds Playwright drives", () => {
    expect(fuseConfigFor({ INFERSWARM_E2E_BUILD: "1" })[FuseV1Options.EnableNodeCliInspectArguments]).toBe(true);
    expect(fuseConfigFor({ INFERSWARM_E2E_BUILD: "0" })[FuseV1Options.EnableNodeCliInspectArguments]).toBe(false);
  });

  it("flips them through electron-builder's packager in the afterPack hook", async () => {
    const addElectronFuses = vi.fn(async () => 0);
    const context = { electronPlatformName: "linux", packager: { addElectronFuses } };
    await afterPack(context);
    expect(addElectronFuses).toHaveBeenCalledWith(context, expect.objectContaining({ [FuseV1Options.RunAsNode]: false, resetAdHocDarwinSignature: false }));
    expect(fuseConfigFor({}, "darwin").resetAdHocDarwinSignature).toBe(true);
  });
});
