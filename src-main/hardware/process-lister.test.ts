import { describe, expect, it } from "vitest";
import { buildFakeProcTree } from "./fake-proc-tree.js";
import { createLinuxProcessLister, createSystemInformationProcessLister } from "./process-lister.js";

describe("createLinuxProcessLister", () => {
  it("reads comm, cmdline and the exe/cwd links, and skips processes that vanished", async () => {
    const root = await buildFakeProcTree([
      { pid: 42, comm: "factorio", cmdline: ["/games/factorio/bin/x64/factorio", "--fullscreen"], exe: "/games/factorio/bin/x64/factorio (deleted)", cwd: "/games/factorio" },
      { pid: 43, comm: "sshd" }, // another user's process: exe and cwd unreadable
      { pid: 44 }, // exited while we read
    ]);
    const processes = await createLinuxProcessLister({ fsRoot: root }).list();
    expect(processes.sort((a, b) => a.pid - b.pid)).toEqual([
      { pid: 42, name: "factorio", exe: "/games/factorio/bin/x64/factorio", cmdline: ["/games/factorio/bin/x64/factorio", "--fullscreen"], cwd: "/games/factorio" },
      { pid: 43, name: "sshd", exe: null, cmdline: [], cwd: null },
    ]);
  });

  it("returns nothing when there is no /proc", async () => {
    const root = await buildFakeProcTree([]);
    expect(await createLinuxProcessLister({ fsRoot: `${root}/nowhere` }).list()).toEqual([]);
  });
});

describe("createSystemInformationProcessLister", () => {
  it("takes Windows' path as the executable itself", async () => {
    const lister = createSystemInformationProcessLister({
      platform: "win32",
      processes: async () => ({ list: [{ pid: 7, name: "cs2.exe", command: '"D:\\Steam\\cs2.exe" -steam', params: "", path: "D:\\Steam\\cs2.exe" }] }),
    });
    expect(await lister.list()).toEqual([{ pid: 7, name: "cs2.exe", exe: "D:\\Steam\\cs2.exe", cmdline: ['"D:\\Steam\\cs2.exe" -steam'], cwd: null }]);
  });

  it("joins macOS's directory and command into the executable", async () => {
    const lister = createSystemInformationProcessLister({
      platform: "darwin",
      processes: async () => ({ list: [{ pid: 8, name: "Hades", command: "Hades", params: "-windowed", path: "/Users/me/Library/Application Support/Steam/steamapps/common/Hades/Hades.app/Contents/MacOS" }] }),
    });
    expect(await lister.list()).toEqual([
      { pid: 8, name: "Hades", exe: "/Users/me/Library/Application Support/Steam/steamapps/common/Hades/Hades.app/Contents/MacOS/Hades", cmdline: ["Hades", "-windowed"], cwd: null },
    ]);
  });
});
