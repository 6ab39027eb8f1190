import { describe, expect, it } from "vitest";
import { formatFetchProgress } from "./models-fetch-command.js";

describe("models fetch progress bar", () => {
  it("shows share, bytes, sources, rate and ETA", () => {
    const line = formatFetchProgress({ bytesDone: 90e6, bytesTotal: 200e6, piecesDone: 86, piecesTotal: 191, peers: 4, httpSources: 1, bytesPerSecond: 85.3e6, etaSeconds: 125 }, 20);
    expect(line).toBe("[#########...........]  45.0%  90.0 MB / 200.0 MB  4 peers +http  85.3 MB/s  ETA 2:05");
  });

  it("says when the rate is not known yet and handles one peer", () => {
    const line = formatFetchProgress({ bytesDone: 0, bytesTotal: 3e9, piecesDone: 0, piecesTotal: 2861, peers: 1, httpSources: 0, bytesPerSecond: 0, etaSeconds: undefined }, 10);
    expect(line).toBe("[..........]   0.0%  0.0 MB / 3.00 GB  1 peer  0.0 MB/s  ETA --:--");
  });
});
