import { describe, expect, it } from "vitest";
import { buildFakeProcTree, type FakeProcess } from "./fake-proc-tree.js";
import { createGameDetector } from "./game-detection.js";
import { defaultGameLibraryPaths } from "./game-library-paths.js";
import { mergeGpuProcesses, parseComputeAppsCsv, parseNvidiaSmiProcessTable } from "./gpu-processes.js";
import { createLinuxProcessLister, createSystemInformationProcessLister } from "./process-lister.js";
import { fixtureText } from "./test-fixtures.js";

const HOME = "/home/gamer";
const STEAM = `${HOME}/.local/share/Steam`;
const SECOND_LIBRARY = "/mnt/games/SteamLibrary/steamapps/common";
const OWN_PID = 4000;

const linuxProcesses: FakeProcess[] = [
  { pid: 1, comm: "systemd", cmdline: ["/sbin/init"], exe: "/usr/lib/systemd/systemd", cwd: "/" },
  { pid: 100, comm: "steam", exe: `${STEAM}/ubuntu12_32/steam`, cwd: HOME },
  { pid: 101, comm: "steamwebhelper", exe: `${STEAM}/ubuntu12_64/steamwebhelper`, cwd: `${STEAM}/ubuntu12_64` },
  { pid: 102, comm: "reaper", exe: `${STEAM}/ubuntu12_32/reaper`, cwd: `${SECOND_LIBRARY}/Factorio` },
  // Found only because libraryfolders.vdf lists the second library.
  { pid: 200, comm: "factorio", cmdline: [`${SECOND_LIBRARY}/Factorio/bin/x64/factorio`], exe: `${SECOND_LIBRARY}/Factorio/bin/x64/factorio`, cwd: `${SECOND_LIBRARY}/Factorio` },
  // A Proton game: wine's preloader in the default library, the game in Windows notation.
  {
    pid: 201,
    comm: "Hades.exe",
    cmdline: ["Z:\\mnt\\games\\SteamLibrary\\steamapps\\common\\Hades\\x64\\Hades.exe"],
    exe: `${STEAM}/steamapps/common/Proton 9.0 (Beta)/files/bin/wine64-preloader`,
    cwd: `${SECOND_LIBRARY}/Hades/x64`,
  },
  { pid: 202, comm: "cs2", exe: "/opt/cs2/game/bin/linuxsteamrt64/cs2", cwd: "/opt/cs2" },
  // The kernel cut the name; exe is unreadable (another user).
  { pid: 203, comm: "FortniteClient-" },
  { pid: 204, comm: "Celeste", exe: `${HOME}/Games/Heroic/Celeste/Celeste`, cwd: `${HOME}/Games/Heroic/Celeste` },
  { pid: 205, comm: "witcher3.bin", cwd: `${HOME}/Games/the-witcher-3` },
  { pid: OWN_PID, comm: "node", exe: "/usr/bin/node", cwd: `${HOME}/Games/inferswarm` },
  { pid: 207, comm: "firefox", exe: "/usr/lib/firefox/firefox", cwd: HOME },
  { pid: 208, comm: "tar", exe: "/usr/bin/tar", cwd: `${HOME}/GamesArchive` },
];

async function linuxDetector(options: { listGpuProcesses?: Parameters<typeof createGameDetector>[0]["listGpuProcesses"] } = {}) {
  const root = await buildFakeProcTree(linuxProcesses, { [`${STEAM}/steamapps/libraryfolders.vdf`]: fixtureText("steam/libraryfolders-linux.vdf") });
  return createGameDetector({
    processLister: createLinuxProcessLister({ fsRoot: root }),
    libraryPaths: defaultGameLibraryPaths({ platform: "linux", homeDir: HOME }),
    fsRoot: root,
    platform: "linux",
    ownPids: [OWN_PID, 5022],
    ...options,
  });
}

describe("createGameDetector on Linux (fake /proc)", () => {
  it("finds games by name, by Steam library (including those listed in libraryfolders.vdf) and by game folder", async () => {
    const detection = await (await linuxDetector()).detect();
    expect(detection.gameRunning).toBe(true);
    expect(detection.games.sort((a, b) => a.pid - b.pid)).toEqual([
      { pid: 200, name: "factorio", reason: "steam-library", evidence: SECOND_LIBRARY },
      { pid: 201, name: "Hades.exe", reason: "steam-library", evidence: `${STEAM}/steamapps/common` },
      { pid: 202, name: "cs2", reason: "listed-executable", evidence: "cs2" },
      { pid: 203, name: "FortniteClient-", reason: "listed-executable", evidence: "fortniteclient-win64-shipping" },
      { pid: 204, name: "Celeste", reason: "game-folder", evidence: `Heroic: ${HOME}/Games/Heroic` },
      { pid: 205, name: "witcher3.bin", reason: "game-folder", evidence: `Lutris: ${HOME}/Games` },
    ]);
  });

  it("reports no game when only Steam itself and ordinary programs run", async () => {
    const root = await buildFakeProcTree(linuxProcesses.filter((p) => p.pid < 200 || p.pid >= OWN_PID));
    const detector = createGameDetector({
      processLister: createLinuxProcessLister({ fsRoot: root }),
      libraryPaths: defaultGameLibraryPaths({ platform: "linux", homeDir: HOME }),
      fsRoot: root,
      platform: "linux",
      ownPids: [OWN_PID],
    });
    expect(await detector.detect()).toEqual({ gameRunning: false, games: [], otherGpuUsers: [] });
  });

  it("lists other GPU users without ours and without the desktop's own processes", async () => {
    const detector = await linuxDetector({
      listGpuProcesses: async () => ({
        status: "ok",
        processes: mergeGpuProcesses(
          parseNvidiaSmiProcessTable(fixtureText("nvidia-smi/table-rtx4080super-load.txt")),
          parseComputeAppsCsv(fixtureText("nvidia-smi/compute-apps-rtx4080super-load.csv")),
        ),
      }),
    });
    expect((await detector.detect()).otherGpuUsers).toEqual([{ pid: 5021, name: "ffmpeg", kind: "compute", vramBytes: 360 * 1024 * 1024 }]);
  });

  it("says why the GPU user list is missing when nvidia-smi fails", async () => {
    const detector = await linuxDetector({ listGpuProcesses: async () => ({ status: "error", error: "nvidia-smi exited with code 9" }) });
    expect(await detector.detect()).toMatchObject({ otherGpuUsers: [], gpuProcessesError: "nvidia-smi exited with code 9" });
  });

  it("honours a configured game list instead of the default one", async () => {
    const root = await buildFakeProcTree([{ pid: 9, comm: "factorio", exe: "/opt/factorio/bin/x64/factorio" }, { pid: 10, comm: "cs2" }]);
    const detector = createGameDetector({
      processLister: createLinuxProcessLister({ fsRoot: root }),
      libraryPaths: { steamRoots: [], steamLibraries: [], gameFolders: [] },
      gameExecutables: ["Factorio.EXE"],
      fsRoot: root,
      platform: "linux",
    });
    expect((await detector.detect()).games).toEqual([{ pid: 9, name: "factorio", reason: "listed-executable", evidence: "factorio" }]);
  });
});

describe("createGameDetector on Windows (systeminformation processes)", () => {
  it("matches paths case-insensitively and tells games from launchers", async () => {
    const list = [
      { pid: 1, name: "steam.exe", path: "C:\\Program Files (x86)\\Steam\\steam.exe" },
      { pid: 2, name: "SomeGame.exe", path: "d:\\steam\\SteamApps\\common\\Some Game\\SomeGame.exe" },
      { pid: 3, name: "FortniteClient-Win64-Shipping.exe", path: "C:\\Program Files\\Epic Games\\Fortnite\\FortniteGame\\Binaries\\Win64\\FortniteClient-Win64-Shipping.exe" },
      { pid: 4, name: "Celeste.exe", path: "C:\\Program Files\\Epic Games\\Celeste\\Celeste.exe" },
      { pid: 5, name: "EpicGamesLauncher.exe", path: "C:\\Program Files\\Epic Games\\Launcher\\Portal\\Binaries\\Win64\\EpicGamesLauncher.exe" },
      { pid: 6, name: "notepad.exe", path: "C:\\Windows\\System32\\notepad.exe" },
    ].map((p) => ({ ...p, command: p.name, params: "" }));
    const paths = defaultGameLibraryPaths({ platform: "win32", homeDir: "C:\\Users\\gamer", env: {} });
    const detector = createGameDetector({
      processLister: createSystemInformationProcessLister({ platform: "win32", processes: async () => ({ list }) }),
      libraryPaths: { ...paths, steamLibraries: ["D:\\Steam"] },
      platform: "win32",
      ownPids: [],
    });
    expect((await detector.detect()).games).toEqual([
      { pid: 2, name: "SomeGame.exe", reason: "steam-library", evidence: "D:\\Steam\\steamapps\\common" },
      { pid: 3, name: "FortniteClient-Win64-Shipping.exe", reason: "listed-executable", evidence: "fortniteclient-win64-shipping" },
      { pid: 4, name: "Celeste.exe", reason: "game-folder", evidence: "Epic Games: C:\\Program Files\\Epic Games" },
    ]);
  });
});
