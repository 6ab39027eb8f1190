import { mkdir, mkdtemp, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

/** One process in a fake /proc: `exe`/`cwd` become (possibly dangling) symlinks, as in the real one. */
export interface FakeProcess {
  pid: number;
  comm?: string;
  cmdline?: string[];
  exe?: string;
  cwd?: string;
}

/** Builds `<root>/proc/<pid>/{comm,cmdline,exe,cwd}` in a temp dir and returns the root. Test support. */
export async function buildFakeProcTree(processes: readonly FakeProcess[], files: Record<string, string> = {}): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), "inferswarm-proc-"));
  await mkdir(path.join(root, "proc", "self"), { recursive: true });
  for (const p of processes) {
    const dir = path.join(root, "proc", String(p.pid));
    await mkdir(dir, { recursive: true });
    if (p.comm !== undefined) await writeFile(path.join(dir, "comm"), `${p.comm}\n`);
    if (p.cmdline !== undefined) await writeFile(path.join(dir, "cmdline"), p.cmdline.map((arg) => `${arg}\0`).join(""));
    if (p.exe !== undefined) await symlink(p.exe, path.join(dir, "exe"));
    if (p.cwd !== undefined) await symlink(p.cwd, path.join(dir, "cwd"));
  }
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), text);
  }
  return root;
}
