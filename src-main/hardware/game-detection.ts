import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { createSilentLogger, type Logger } from "../common/index.js";
import { underRoot } from "./fs-root.js";
import type { GameLibraryPaths } from "./game-library-paths.js";
import type { GpuProcess, GpuProcessesResult } from "./gpu-processes.js";
import { errorMessage } from "./hardware-errors.js";
import type { ProcessInfo, ProcessLister } from "./process-lister.js";
import { steamLibraryPathsFromVdf } from "./steam-library-folders.js";

/** Well-known games by executable name; case does not matter and ".exe" is optional. */
export const DEFAULT_GAME_EXECUTABLES: readonly string[] = [
  "cs2",
  "csgo_linux64",
  "dota2",
  "hl2_linux",
  "r5apex",
  "r5apex_dx12",
  "FortniteClient-Win64-Shipping",
  "VALORANT-Win64-Shipping",
  "League of Legends",
  "RocketLeague",
  "Overwatch",
  "GTA5",
  "GTA5_Enhanced",
  "RDR2",
  "eldenring",
  "Cyberpunk2077",
  "bg3",
  "bg3_dx11",
  "RobloxPlayerBeta",
  "Minecraft.Windows",
  "destiny2",
  "TslGame",
  "FactoryGame-Win64-Shipping",
  "witcher3",
  "starfield",
  "Palworld-Win64-Shipping",
  "HogwartsLegacy",
  "Warframe.x64",
  "PathOfExile",
  "PathOfExile_x64",
];

/** Launchers, clients and their helpers: they live near games but are not games. */
export const DEFAULT_NOT_GAME_EXECUTABLES: readonly string[] = [
  "steam",
  "steamwebhelper",
  "steamservice",
  "steamerrorreporter",
  "steamerrorreporter64",
  "gameoverlayui",
  "gameoverlayui64",
  "reaper",
  "pressure-vessel-wrap",
  "pv-bwrap",
  "srt-logger",
  "steam-runtime-launcher-service",
  "EpicGamesLauncher",
  "EpicWebHelper",
  "EpicOnlineServicesHost",
  "UnrealCEFSubProcess",
  "heroic",
  "legendary",
  "gogdl",
  "lutris",
  "lutris-wrapper",
  "GalaxyClient",
  "GalaxyClient Helper",
];

/** The desktop's own GPU users; always present, so they say nothing about a game or another job. */
export const DEFAULT_DESKTOP_GPU_PROCESSES: readonly string[] = [
  "Xorg",
  "Xwayland",
  "gnome-shell",
  "kwin_wayland",
  "kwin_x11",
  "plasmashell",
  "plasma-keyboard",
  "xwaylandvideobridge",
  "mutter",
  "sway",
  "Hyprland",
  "weston",
  "cinnamon",
  "xfwm4",
  "picom",
  "dwm.exe",
  "explorer.exe",
  "TextInputHost.exe",
  "SearchHost.exe",
  "StartMenuExperienceHost.exe",
  "ShellExperienceHost.exe",
  "SystemSettings.exe",
  "WindowServer",
];

export type GameReason = "listed-executable" | "steam-library" | "game-folder";

export interface DetectedGame {
  pid: number;
  name: string;
  reason: GameReason;
  /** What matched: the listed name, or the library/folder the process runs from. */
  evidence: string;
}

export interface GameDetection {
  gameRunning: boolean;
  games: DetectedGame[];
  /** Other processes with a context on an NVIDIA GPU: not ours, not the desktop's own. */
  otherGpuUsers: { pid: number; name: string; kind: GpuProcess["kind"]; vramBytes: number | null }[];
  /** Why otherGpuUsers may be incomplete (nvidia-smi failing); absent when it is complete. */
  gpuProcessesError?: string;
}

export interface GameDetector {
  detect(): Promise<GameDetection>;
}

export interface GameDetectorOptions {
  processLister: ProcessLister;
  libraryPaths: GameLibraryPaths;
  /** NVIDIA GPU users (listNvidiaGpuProcesses bound to a runner); omitted where there is no NVIDIA tooling. */
  listGpuProcesses?: () => Promise<GpuProcessesResult>;
  /** This node's own processes (the core, its workers): never a game, never "another" GPU user. */
  ownPids?: readonly number[];
  gameExecutables?: readonly string[];
  notGameExecutables?: readonly string[];
  desktopGpuProcesses?: readonly string[];
  /** Where the machine's `/` is, for reading libraryfolders.vdf; tests point it at a temp dir. */
  fsRoot?: string;
  platform?: NodeJS.Platform;
  logger?: Logger;
}

const normalizeName = (name: string) => name.trim().toLowerCase().replace(/\.exe$/, "");
const LINUX_COMM_LENGTH = 15;

/** Wine shows Windows paths; its Z: drive is the Linux root. */
function wineToUnix(candidate: string): string | null {
  const match = /^[zZ]:\\(.*)$/.exec(candidate);
  return match ? `/${match[1]!.replace(/\\/g, "/")}` : null;
}

export function createGameDetector(options: GameDetectorOptions): GameDetector {
  const platform = options.platform ?? process.platform;
  const flavor = platform === "win32" ? path.win32 : path.posix;
  const caseless = platform === "win32" || platform === "darwin";
  const logger = options.logger ?? createSilentLogger();
  const ownPids = new Set(options.ownPids ?? [process.pid]);
  const games = new Set((options.gameExecutables ?? DEFAULT_GAME_EXECUTABLES).map(normalizeName));
  const notGames = new Set((options.notGameExecutables ?? DEFAULT_NOT_GAME_EXECUTABLES).map(normalizeName));
  const desktop = new Set((options.desktopGpuProcesses ?? DEFAULT_DESKTOP_GPU_PROCESSES).map(normalizeName));
  const fsRoot = options.fsRoot ?? "/";

  const comparable = (p: string) => {
    const normalized = flavor.normalize(p).replace(/[\\/]+$/, "");
    return caseless ? normalized.toLowerCase() : normalized;
  };
  const isInside = (child: string, parent: string) => {
    const c = comparable(child);
    const p = comparable(parent);
    return c.startsWith(p + flavor.sep);
  };

  async function readLibraryFolders(root: string): Promise<string[]> {
    for (const candidate of ["steamapps/libraryfolders.vdf", "config/libraryfolders.vdf", "SteamApps/libraryfolders.vdf"]) {
      const file = underRoot(fsRoot, flavor.join(root, candidate));
      try {
        if ((await stat(file)).size > 1024 * 1024) continue;
        return steamLibraryPathsFromVdf(await readFile(file, "utf8"));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") logger.debug({ file, error: errorMessage(error) }, "unreadable libraryfolders.vdf");
      }
    }
    return [];
  }

  /** Every steamapps/common folder: the default roots', the configured ones', and those the VDFs list. */
  async function steamCommonFolders(): Promise<string[]> {
    const roots = new Set([...options.libraryPaths.steamRoots, ...options.libraryPaths.steamLibraries]);
    for (const listed of await Promise.all(options.libraryPaths.steamRoots.map(readLibraryFolders))) for (const root of listed) roots.add(root);
    return [...roots].map((root) => flavor.join(root, "steamapps", "common"));
  }

  function matchListed(info: ProcessInfo): string | undefined {
    const names = [info.name, info.exe ? flavor.basename(info.exe) : "", info.cmdline[0]?.split(/[\\/]/).at(-1) ?? ""].map(normalizeName);
    for (const name of names) {
      if (name === "") continue;
      if (games.has(name)) return name;
      // The kernel cuts comm to 15 characters: "FortniteClient-Win64-Shipping" reads "FortniteClient-".
      if (name.length === LINUX_COMM_LENGTH) for (const game of games) if (game.startsWith(name)) return game;
    }
    return undefined;
  }

  function isNotGame(info: ProcessInfo): boolean {
    const names = [info.name, info.exe ? flavor.basename(info.exe) : ""].map(normalizeName);
    return names.some((name) => name !== "" && notGames.has(name));
  }

  return {
    async detect() {
      const [processes, commonFolders, gpu] = await Promise.all([
        options.processLister.list(),
        steamCommonFolders(),
        options.listGpuProcesses?.() ?? Promise.resolve<GpuProcessesResult>({ status: "absent" }),
      ]);

      const found: DetectedGame[] = [];
      for (const info of processes) {
        if (ownPids.has(info.pid) || isNotGame(info)) continue;
        const listed = matchListed(info);
        if (listed) {
          found.push({ pid: info.pid, name: info.name, reason: "listed-executable", evidence: listed });
          continue;
        }
        const places = [info.exe, info.cwd, info.cmdline[0] ? (wineToUnix(info.cmdline[0]) ?? info.cmdline[0]) : null].filter(
          (p): p is string => !!p && flavor.isAbsolute(p),
        );
        const steam = commonFolders.find((folder) => places.some((place) => isInside(place, folder)));
        if (steam) {
          found.push({ pid: info.pid, name: info.name, reason: "steam-library", evidence: steam });
          continue;
        }
        const folder = options.libraryPaths.gameFolders.find((f) => places.some((place) => isInside(place, f.path)));
        if (folder) found.push({ pid: info.pid, name: info.name, reason: "game-folder", evidence: `${folder.label}: ${folder.path}` });
      }

      const detection: GameDetection = { gameRunning: found.length > 0, games: found, otherGpuUsers: [] };
      if (gpu.status === "ok") {
        detection.otherGpuUsers = gpu.processes
          .filter((p) => !ownPids.has(p.pid) && !desktop.has(normalizeName(p.name)))
          .map(({ pid, name, kind, vramBytes }) => ({ pid, name, kind, vramBytes }));
      } else if (gpu.status === "error") {
        detection.gpuProcessesError = gpu.error;
      }
      return detection;
    },
  };
}
