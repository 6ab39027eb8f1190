import { describe, expect, it } from "vitest";
import { fixtureSettings } from "../../test-support/dashboard-fixtures.js";
import { buildSettingsUpdate, toDraft } from "./settings-draft.js";

describe("settings draft", () => {
  it("round-trips without changes", () => {
    const settings = fixtureSettings();
    expect(buildSettingsUpdate(settings, toDraft(settings))).toEqual({ update: {}, errors: {}, changed: false });
  });

  it("turns percentages back into fractions and an empty power cap into null", () => {
    const settings = fixtureSettings();
    settings.policy.limits.maxPowerW = 250;
    const draft = toDraft(settings);
    draft.limits.maxPowerFractionOfLimit = "85";
    draft.limits.maxPowerW = " ";
    expect(buildSettingsUpdate(settings, draft).update).toEqual({ policy: { limits: { maxPowerFractionOfLimit: 0.85, maxPowerW: null } } });
  });

  it("does not count a percentage's float noise as a change", () => {
    const settings = fixtureSettings();
    settings.policy.limits.vramShare = 0.07;
    expect(toDraft(settings).limits.vramShare).toBe("7");
    expect(buildSettingsUpdate(settings, toDraft(settings)).changed).toBe(false);
  });

  it("names fields that are not numbers, or not whole where they must be", () => {
    const settings = fixtureSettings();
    const draft = toDraft(settings);
    draft.limits.maxTemperatureC = "hot";
    draft.limits.maxConcurrentJobs = "2.5";
    expect(buildSettingsUpdate(settings, draft).errors).toEqual({ "limits.maxTemperatureC": "Enter a number.", "limits.maxConcurrentJobs": "Enter a whole number." });
  });
});
