/**
 * `npm start`: the desktop app where Electron can run; everywhere else the local swarm demo
 * (`npm run demo`), which is also what a machine without Electron's binary or a display gets.
 * Arguments after `--` go to the demo (see `inferswarm demo --help`).
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");

/** Why Electron cannot run here, or null when it can. */
function electronUnavailable(): string | null {
  const pathFile = path.join(root, "node_modules/electron/path.txt");
  if (!existsSync(pathFile)) return "Electron's binary is not installed (ELECTRON_SKIP_BINARY_DOWNLOAD, or no network to fetch it)";
  const binary = path.join(root, "node_modules/electron/dist", readFileSync(pathFile, "utf8").trim());
  if (!existsSync(binary)) return `Electron's binary ${binary} is missing`;
  if (process.platform === "linux" && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return "there is no display (DISPLAY and WAYLAND_DISPLAY are unset)";
  return null;
}

function run(command: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: "inherit" });
    // Ctrl-C reaches the child through the terminal; this process only waits for it to finish.
    const ignore = () => {};
    process.on("SIGINT", ignore);
    process.on("SIGTERM", () => child.kill("SIGTERM"));
    child.on("exit", (code, signal) => {
      process.removeListener("SIGINT", ignore);
      resolve(code ?? (signal === "SIGINT" ? 130 : 1));
    });
  });
}

const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const why = electronUnavailable();
if (why === null) {
  console.error("start: launching the desktop app (Electron)");
  for (const script of ["build:renderer", "build:app"]) {
    const code = await run(npm, ["run", "--silent", script]);
    if (code !== 0) process.exit(code);
  }
  process.exit(await run(path.join(root, "node_modules/.bin/electron"), ["."]));
}
console.error(`start: ${why}; running the local swarm demo instead (the same as \`npm run demo\`).`);
if (!existsSync(path.join(root, "out/renderer/index.html"))) {
  console.error("start: building the dashboard (vite build) once…");
  const code = await run(npm, ["run", "--silent", "build:renderer"]);
  if (code !== 0) process.exit(code);
}
process.exit(await run(process.execPath, [path.join(root, "bin/inferswarm.js"), "demo", ...process.argv.slice(2)]));
