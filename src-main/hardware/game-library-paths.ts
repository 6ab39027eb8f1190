import path from "node:path";

/** A folder games are installed into, and what to call it when a game is found there. */
export interface GameFolder {
  label: string;
  path: string;
}

export interface GameLibraryPaths {
  /** Steam installations: each one's steamapps/common is a library, and its libraryfolders.vdf lists more. */
  steamRoots: string[];
  /** Extra Steam library roots (the folder that holds steamapps/). */
  steamLibraries: string[];
  /** Folders whose every process is a game: Epic, Heroic, Lutris, GOG. */
  gameFolders: GameFolder[];
}

export interface DefaultPathsInput {
  platform: NodeJS.Platform;
  homeDir: string;
  env?: Record<string, string | undefined>;
}

/** Where the launchers install by default on each platform. Every entry can be replaced by configuration. */
export function defaultGameLibraryPaths({ platform, homeDir, env = {} }: DefaultPathsInput): GameLibraryPaths {
  if (platform === "win32") {
    const join = path.win32.join;
    const programFiles = env.ProgramFiles ?? "C:\\Program Files";
    const programFilesX86 = env["ProgramFiles(x86)"] ?? "C:\\Program Files (x86)";
    return {
      steamRoots: [join(programFilesX86, "Steam"), join(programFiles, "Steam")],
      steamLibraries: [],
      gameFolders: [
        { label: "Epic Games", path: join(programFiles, "Epic Games") },
        { label: "GOG Galaxy", path: join(programFilesX86, "GOG Galaxy", "Games") },
        { label: "Heroic", path: join(homeDir, "Games", "Heroic") },
      ],
    };
  }
  const join = path.posix.join;
  if (platform === "darwin") {
    return {
      steamRoots: [join(homeDir, "Library", "Application Support", "Steam")],
      steamLibraries: [],
      gameFolders: [
        { label: "Epic Games", path: "/Users/Shared/Epic Games" },
        { label: "Heroic", path: join(homeDir, "Games", "Heroic") },
      ],
    };
  }
  return {
    steamRoots: [
      join(homeDir, ".steam", "steam"),
      join(homeDir, ".steam", "root"),
      join(homeDir, ".local", "share", "Steam"),
      join(homeDir, ".steam", "debian-installation"),
      join(homeDir, ".var", "app", "com.valvesoftware.Steam", ".local", "share", "Steam"),
      join(homeDir, "snap", "steam", "common", ".local", "share", "Steam"),
    ],
    steamLibraries: [],
    gameFolders: [
      { label: "Heroic", path: join(homeDir, "Games", "Heroic") },
      // Lutris (and legendary) install into ~/Games by default.
      { label: "Lutris", path: join(homeDir, "Games") },
    ],
  };
}
