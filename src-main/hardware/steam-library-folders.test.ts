import { describe, expect, it } from "vitest";
import { parseVdf, steamLibraryPathsFromVdf, VdfSyntaxError } from "./steam-library-folders.js";
import { fixtureText } from "./test-fixtures.js";

describe("steamLibraryPathsFromVdf", () => {
  it("lists every library of the current format (Linux)", () => {
    expect(steamLibraryPathsFromVdf(fixtureText("steam/libraryfolders-linux.vdf"))).toEqual(["/home/gamer/.local/share/Steam", "/mnt/games/SteamLibrary"]);
  });

  it("unescapes Windows paths", () => {
    expect(steamLibraryPathsFromVdf(fixtureText("steam/libraryfolders-windows.vdf"))).toEqual(["C:\\Program Files (x86)\\Steam", "D:\\Steam"]);
  });

  it("reads the pre-2021 format, where numbered keys hold the path and other keys are statistics", () => {
    expect(steamLibraryPathsFromVdf(fixtureText("steam/libraryfolders-old-format.vdf"))).toEqual(["G:\\SteamLibrary", "A:\\SteamLibrary"]);
  });

  it("returns nothing for a file of another kind", () => {
    expect(steamLibraryPathsFromVdf('"AppState" { "appid" "730" }')).toEqual([]);
  });
});

describe("parseVdf", () => {
  it("skips comments and nests blocks", () => {
    expect(parseVdf('// header\n"a" { "b" "1" // note\n "c" { } }')).toEqual({ a: { b: "1", c: {} } });
  });

  it("refuses broken input instead of guessing", () => {
    expect(() => parseVdf('"a" { "b" "1"')).toThrow(VdfSyntaxError);
    expect(() => parseVdf('"a" "unterminated')).toThrow(VdfSyntaxError);
    expect(() => parseVdf("}")).toThrow(VdfSyntaxError);
  });
});
