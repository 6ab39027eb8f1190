import { readdir, readFile, readlink } from "node:fs/promises";
import path from "node:path";
import si from "systeminformation";
import { z } from "zod";
import { underRoot } from "./fs-root.js";

export interface ProcessInfo {
  pid: number;
  /** Linux: /proc/<pid>/comm (cut to 15 characters by the kernel); elsewhere the image name. */
  name: string;
  /** Full path of the executable when readable. */
  exe: string | null;
  cmdline: string[];
  /** Working directory when readable (Linux only). */
  cwd: string | null;
}

export interface ProcessLister {
  list(): Promise<ProcessInfo[]>;
}

const BATCH = 64;

async function readOrNull<T>(read: () => Promise<T>): Promise<T | null> {
  try {
    return await read();
  } catch {
    return null;
  }
}

/**
 * Processes from /proc under an injected root. Another user's `exe` and `cwd` links are unreadable
 * (EACCES) and a process may exit mid-read: those fields become null, or the process is skipped.
 */
export function createLinuxProcessLister(options: { fsRoot?: string } = {}): ProcessLister {
  const proc = underRoot(options.fsRoot ?? "/", "/proc");
  async function readProcess(pid: number): Promise<ProcessInfo | null> {
    const dir = path.join(proc, String(pid));
    const comm = await readOrNull(() => readFile(path.join(dir, "comm"), "utf8"));
    if (comm === null) return null;
    const cmdline = (await readOrNull(() => readFile(path.join(dir, "cmdline"), "utf8"))) ?? "";
    const exe = await readOrNull(() => readlink(path.join(dir, "exe")));
    const cwd = await readOrNull(() => readlink(path.join(dir, "cwd")));
    return {
      pid,
      name: comm.replace(/\n$/, ""),
      // A replaced binary reads as "/path/game (deleted)".
      exe: exe?.replace(/ \(deleted\)$/, "") ?? null,
      cmdline: cmdline.split("\0").filter((part) => part !== ""),
      cwd,
    };
  }
  return {
    async list() {
      const pids = ((await readOrNull(() => readdir(proc))) ?? []).filter((entry) => /^\d+$/.test(entry)).map(Number);
      const found: ProcessInfo[] = [];
      for (let i = 0; i < pids.length; i += BATCH) {
        const batch = await Promise.all(pids.slice(i, i + BATCH).map(readProcess));
        for (const info of batch) if (info) found.push(info);
      }
      return found;
    },
  };
}

const siProcessSchema = z.object({
  pid: z.number(),
  name: z.string().default(""),
  command: z.string().default(""),
  params: z.string().default(""),
  path: z.string().default(""),
});
const siProcessesSchema = z.object({ list: z.array(siProcessSchema) });

/**
 * Processes from systeminformation, for Windows and macOS. On Windows `path` is the executable itself;
 * on macOS it is the executable's directory and `command` its name. No working directories there.
 */
export function createSystemInformationProcessLister(
  options: { processes?: () => Promise<unknown>; platform?: NodeJS.Platform } = {},
): ProcessLister {
  const platform = options.platform ?? process.platform;
  const read = options.processes ?? (() => si.processes());
  const flavor = platform === "win32" ? path.win32 : path.posix;
  return {
    async list() {
      const { list } = siProcessesSchema.parse(await read());
      return list.map((entry) => {
        let exe: string | null = entry.path || null;
        if (exe && platform !== "win32" && entry.command && flavor.basename(exe) !== entry.command) exe = flavor.join(exe, entry.command);
        const cmdline = [entry.command, ...(entry.params ? [entry.params] : [])].filter((part) => part !== "");
        return { pid: entry.pid, name: entry.name, exe, cmdline, cwd: null };
      });
    },
  };
}
