import { describe, expect, it } from "vitest";
import { judgeLoadMode } from "./load-mode.js";
import { chooseThreads, threadCandidates } from "./thread-calibration.js";

const MiB = 2 ** 20;

describe("judgeLoadMode", () => {
  it("believes llama.cpp's mapped-buffer line over the requested mode", () => {
    const report = judgeLoadMode({ requested: "pinned", logLines: ["load_tensors:   CPU_Mapped model buffer size =     3.50 MiB\n"], weightsBytes: 4 * MiB });
    expect(report).toMatchObject({ requested: "pinned", actual: "mmap" });
    expect(report.evidence).toMatch(/CPU_Mapped/);
  });

  it("recognises a copied (mlocked) load from llama.cpp's plain CPU buffer line", () => {
    expect(judgeLoadMode({ requested: "pinned", logLines: ["load_tensors:          CPU model buffer size =    3.50 MiB"], weightsBytes: 4 * MiB }).actual).toBe("copied-mlock");
    expect(judgeLoadMode({ requested: "mmap", logLines: ["load_tensors:          CPU model buffer size =    3.50 MiB"], weightsBytes: 4 * MiB }).actual).toBe("copied");
  });

  it("falls back to the growth of anonymous vs file-backed memory", () => {
    const before = { rssFileBytes: 10 * MiB, rssAnonBytes: 50 * MiB };
    expect(judgeLoadMode({ requested: "mmap", logLines: [], before, after: { rssFileBytes: 110 * MiB, rssAnonBytes: 52 * MiB }, weightsBytes: 100 * MiB }).actual).toBe("mmap");
    expect(judgeLoadMode({ requested: "mmap", logLines: [], before, after: { rssFileBytes: 11 * MiB, rssAnonBytes: 150 * MiB }, weightsBytes: 100 * MiB }).actual).toBe("copied");
    expect(judgeLoadMode({ requested: "mmap", logLines: [], weightsBytes: 100 * MiB }).actual).toBe("unknown");
  });
});

describe("threadCandidates", () => {
  it("tries powers of two up to the core count, and the core count itself", () => {
    expect(threadCandidates(1)).toEqual([1]);
    expect(threadCandidates(2)).toEqual([1, 2]);
    expect(threadCandidates(6)).toEqual([1, 2, 4, 6]);
    expect(threadCandidates(16)).toEqual([1, 2, 4, 8, 16]);
  });
});

describe("chooseThreads", () => {
  it("takes more threads only when they are clearly faster", () => {
    expect(chooseThreads([{ threads: 1, tokensPerSecond: 300 }, { threads: 2, tokensPerSecond: 320 }])).toBe(1);
    expect(chooseThreads([{ threads: 1, tokensPerSecond: 300 }, { threads: 2, tokensPerSecond: 400 }])).toBe(2);
    expect(chooseThreads([{ threads: 4, tokensPerSecond: 900 }, { threads: 1, tokensPerSecond: 300 }, { threads: 2, tokensPerSecond: 500 }])).toBe(4);
    expect(chooseThreads([{ threads: 1, tokensPerSecond: 300 }, { threads: 2, tokensPerSecond: 40 }])).toBe(1);
  });
});
