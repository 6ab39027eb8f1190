/**
 * Builds the Electron app's own code into out/app (the renderer's build, out/renderer, is separate:
 * `npm run build:renderer`):
 * - main.js: the main process (ESM; Electron 28+ loads it as package.json says "type": "module");
 * - core.js: the node core for utilityProcess.fork (ESM);
 * - preload.cjs: the sandboxed preload, ONE CommonJS file with zod and the contract inlined (a sandboxed
 *   preload cannot load ESM nor require anything but electron);
 * - icons/ (tray and app icons) and fixtures/nvidia-smi (the recorded GPU captures `replayGpu` reads).
 * Every npm package stays external in main.js and core.js: electron-builder packages node_modules, and
 * node-llama-cpp must load its native binaries from app.asar.unpacked. main.js must not import the heavy
 * core packages at all; the build fails if it does.
 */
import { cp, mkdir, readdir, rm } from "node:fs/promises";
import path from "node:path";
import { build, type BuildOptions, type Metafile } from "esbuild";

const root = path.resolve(import.meta.dirname, "..");

/** Packages that belong to the core's process: importing them from main.js would load them twice. */
const CORE_ONLY_PACKAGES = [/^libp2p$/, /^@libp2p\//, /^@chainsafe\//, /^node-llama-cpp$/, /^systeminformation$/, /^fastify$/, /^@fastify\//];

export async function buildApp(options: { outDir?: string } = {}): Promise<string[]> {
  const outDir = options.outDir ?? path.join(root, "out", "app");
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });

  const node: BuildOptions = {
    bundle: true,
    platform: "node",
    format: "esm",
    // Electron 45 runs Node 22.
    target: "node22",
    packages: "external",
    sourcemap: "linked",
    metafile: true,
    logLevel: "warning",
    absWorkingDir: root,
  };
  const [main] = await Promise.all([
    build({ ...node, entryPoints: ["src-main/shell/main.ts"], outfile: path.join(outDir, "main.js") }),
    build({ ...node, entryPoints: ["src-main/node/utility-process-entry.ts"], outfile: path.join(outDir, "core.js") }),
    build({
      bundle: true,
      platform: "browser",
      format: "cjs",
      target: "chrome130",
      external: ["electron"],
      minify: true,
      logLevel: "warning",
      absWorkingDir: root,
      entryPoints: ["src-main/shell/preload.ts"],
      outfile: path.join(outDir, "preload.cjs"),
    }),
  ]);
  const heavy = externalImports(main.metafile!).filter((name) => CORE_ONLY_PACKAGES.some((pattern) => pattern.test(name)));
  if (heavy.length > 0) throw new Error(`main.js imports core-only packages (${heavy.join(", ")}); reach them through the core's utilityProcess instead.`);

  await mkdir(path.join(outDir, "icons"), { recursive: true });
  for (const file of await readdir(path.join(root, "assets", "tray"))) {
    if (file.endsWith(".png")) await cp(path.join(root, "assets", "tray", file), path.join(outDir, "icons", file));
  }
  await cp(path.join(root, "assets", "icon.png"), path.join(outDir, "icons", "icon.png"));
  await cp(path.join(root, "src-main", "hardware", "fixtures", "nvidia-smi"), path.join(outDir, "fixtures", "nvidia-smi"), { recursive: true });

  return (await readdir(outDir)).sort();
}

function externalImports(metafile: Metafile): string[] {
  const names = new Set<string>();
  for (const output of Object.values(metafile.outputs)) for (const item of output.imports) if (item.external) names.add(item.path);
  return [...names].sort();
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const files = await buildApp();
  console.log(`out/app: ${files.join(", ")}`);
}
