import { readFile } from "node:fs/promises";

/** How llama.cpp really holds the weights: mapped from the file, or copied (pinned with mlock, or not). */
export type WeightsResidence = "mmap" | "copied" | "copied-mlock";

export interface LoadModeReport {
  requested: "mmap" | "pinned";
  actual: WeightsResidence | "unknown";
  /** What the verdict rests on: llama.cpp's log line, or the process's file-backed vs anonymous memory. */
  evidence: string;
}

interface MemoryCounters {
  rssFileBytes: number;
  rssAnonBytes: number;
}

/** RssFile grows when mapped weights are touched; RssAnon when they are copied into the heap. */
export async function readMemoryCounters(): Promise<MemoryCounters | undefined> {
  try {
    const status = await readFile("/proc/self/status", "utf8");
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
    const counters = { rssFileBytes: kib("RssFile"), rssAnonBytes: kib("RssAnon") };
    return Number.isFinite(counters.rssFileBytes) && Number.isFinite(counters.rssAnonBytes) ? counters : undefined;
  } catch {
    return undefined; // not Linux
  }
}

const MAPPED_LINE = /CPU_Mapped model buffer size/i;
const COPIED_LINE = /\bCPU model buffer size/i;

/** The llama.cpp log line that tells where the weights went. */
export const isBufferLine = (line: string): boolean => MAPPED_LINE.test(line) || COPIED_LINE.test(line);

/**
 * `model.useMmap` keeps saying true under mlock, so the verdict comes from what llama.cpp logged while
 * loading (its buffer names: "CPU_Mapped" for a mapping, "CPU" for a copy) and, failing that, from how
 * the process's memory grew.
 */
export function judgeLoadMode(input: {
  requested: "mmap" | "pinned";
  logLines: readonly string[];
  before?: MemoryCounters;
  after?: MemoryCounters;
  weightsBytes: number;
}): LoadModeReport {
  const { requested, logLines, before, after, weightsBytes } = input;
  const mappedLine = logLines.find((line) => MAPPED_LINE.test(line));
  const copiedLine = logLines.find((line) => COPIED_LINE.test(line));
  const copied: WeightsResidence = requested === "pinned" ? "copied-mlock" : "copied";
  if (mappedLine) return { requested, actual: "mmap", evidence: `llama.cpp: ${mappedLine.trim()}` };
  if (copiedLine) return { requested, actual: copied, evidence: `llama.cpp: ${copiedLine.trim()}` };
  if (before && after) {
    const anonGrowth = after.rssAnonBytes - before.rssAnonBytes;
    const fileGrowth = after.rssFileBytes - before.rssFileBytes;
    const evidence = `RssAnon +${mib(anonGrowth)} MiB, RssFile +${mib(fileGrowth)} MiB for ${mib(weightsBytes)} MiB of weights`;
    if (anonGrowth >= weightsBytes * 0.8) return { requested, actual: copied, evidence };
    if (anonGrowth < weightsBytes * 0.5) return { requested, actual: "mmap", evidence };
    return { requested, actual: "unknown", evidence };
  }
  return { requested, actual: "unknown", evidence: "llama.cpp logged no buffer line and /proc/self/status is unavailable" };
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
