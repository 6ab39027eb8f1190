import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { createEngine, describeModelFile, type FitPlan } from "../engine/index.js";
import { createHardwareProbe, type GpuInventory } from "../hardware/index.js";
import { createModelCatalog, createModelStore, defaultModelCacheDir, ggmlTypeName, inspectGgufFile, PRESET_NAMES, type GgufFileSummary } from "../models/index.js";
import { isInferSwarmError } from "../common/index.js";
import { CliError, EXIT, homeOption, nodePathsFor, type CliContext } from "./cli-context.js";
import { resolveModelPath } from "./model-argument.js";
import { runModelsFetch } from "./models-fetch-command.js";
import { checkSwarmKey } from "./node-command.js";
import { collect, fraction, multiaddrs, positiveInt } from "./option-parsers.js";

export interface ModelsListOptions {
  home?: string;
  json?: boolean;
}

export interface ModelsInspectOptions {
  json?: boolean;
}

export interface ModelsFitOptions {
  quantization: string;
  seedModel: number;
  vramShare?: number;
  ramShare?: number;
  context?: number;
  sequences?: number;
  vramGib?: number;
  json?: boolean;
}

/** Registers `models` and its subcommands; returns the group so other files can add theirs (`models fetch`). */
export function registerModelsCommand(program: Command, context: CliContext): Command {
  const models = program.command("models").summary("list, inspect, fetch, and check what fits on this machine").description("The models this machine holds: list them, inspect a GGUF file, fetch one from the swarm, and check what fits here.");

  models
    .command("list")
    .description(
      "List the models this node holds (its store in <data dir>/models, hashed and shareable), other GGUF files in that folder, models its catalog knows how to fetch, " +
        "and the generated presets (.cache/models). Reads headers only; `models inspect` hashes a file.",
    )
    .addOption(homeOption())
    .option("--json", "print one JSON array")
    .action(async (options: ModelsListOptions) => {
      context.exitCode = await runModelsList(options, context);
    });

  models
    .command("inspect")
    .description("Check a GGUF file (a truncated or malformed file is refused with the reason) and summarize it: metadata, size and sha256, the model's identity in the swarm.")
    .argument("<file>", "a GGUF file")
    .option("--json", "print one JSON object")
    .action(async (file: string, options: ModelsInspectOptions) => {
      context.exitCode = await runModelsInspect(file, options, context);
    });

  models
    .command("fit")
    .description(
      "Would this model fit on this machine, and how: GPU layers, context and parallel jobs within the owner's VRAM and RAM shares (node-llama-cpp's estimates, not measurements). " +
        "Exits 1 when it does not fit.",
    )
    .argument("<file|preset>", `a GGUF file or a generated preset (${PRESET_NAMES.join(", ")})`)
    .option("--quantization <q>", "for presets: F32, F16 or Q8_0", "F32")
    .option("--seed-model <n>", "for presets: the weights' seed", positiveInt("--seed-model"), 1)
    .option("--vram-share <0..1>", "share of the GPU's VRAM the node may use (default 0.8)", fraction("--vram-share"))
    .option("--ram-share <0..1>", "share of the free RAM the node may use (default 0.5)", fraction("--ram-share"))
    .option("--context <tokens>", "tokens per job (default: min(trained context, 2048))", positiveInt("--context"))
    .option("--sequences <n>", "jobs at once wanted (fewer are planned if they do not fit)", positiveInt("--sequences"))
    .option("--vram-gib <GiB>", "plan for a GPU with this much free VRAM instead of this machine's (e.g. 24 for a 4090)", positiveInt("--vram-gib"))
    .option("--json", "print one JSON object: {model, hardware, plan}")
    .action(async (model: string, options: ModelsFitOptions) => {
      context.exitCode = await runModelsFit(model, options, context);
    });

  models
    .command("fetch")
    .summary("fetch a model from peers (and HTTP mirrors) into the store, verified piece by piece")
    .description(
      "Fetch a model into this node's store (<data dir>/models) from peers serving it, and HTTP mirrors if known, checking every piece against the model's manifest. " +
        "Prints the model file's path on stdout; Ctrl-C keeps verified pieces, and running it again resumes.",
    )
    .argument("<model>", "a manifest root (64 hex digits), or a name or sha256 from the catalog (`inferswarm models list`)")
    .addOption(homeOption())
    .option("--bootstrap <multiaddr>", "peer to join through, with /p2p/<id> (repeatable; default: LAN discovery)", multiaddrs("--bootstrap", { peerId: true }), [])
    .option("--http-url <url>", "an HTTP(S) mirror, one per part in order (repeatable; default: the catalog's)", collect, [])
    .option("--swarm-key <file>", "the private swarm's key file")
    .option("--listen <multiaddr>", "listen address (repeatable; default /ip4/0.0.0.0/tcp/0)", multiaddrs("--listen"), [])
    .action(async (model: string, options: ModelsFetchCommandOptions) => {
      context.exitCode = await runModelsFetchCommand(model, options, context);
    });

  return models;
}

export interface ModelsFetchCommandOptions {
  home?: string;
  bootstrap: string[];
  httpUrl: string[];
  swarmKey?: string;
  listen: string[];
}

export async function runModelsFetchCommand(model: string, options: ModelsFetchCommandOptions, context: CliContext): Promise<number> {
  const swarmKeyFile = options.swarmKey && path.resolve(options.swarmKey);
  await checkSwarmKey(swarmKeyFile);
  const interruption = context.interruption();
  try {
    await runModelsFetch({
      model,
      dataDir: nodePathsFor(options.home).dataDir,
      ...(options.bootstrap.length && { bootstrap: options.bootstrap }),
      ...(options.httpUrl.length && { httpUrls: options.httpUrl }),
      ...(swarmKeyFile && { swarmKeyFile }),
      ...(options.listen.length && { listen: options.listen }),
      signal: interruption.signal,
      io: context.io,
      logger: context.logger(),
    });
    return EXIT.ok;
  } catch (error) {
    if (interruption.signal.aborted) throw interruption.signal.reason;
    // A name nobody knows or a bad key file is the caller's to fix (2); a download that fails is a failure (1).
    if (isInferSwarmError(error) && !/^(MODELS_FETCH_UNKNOWN_MODEL|SWARM_KEY_INVALID)$/.test(error.code)) throw new CliError(error.code, error.message, EXIT.failure, { cause: error });
    throw error;
  } finally {
    interruption.dispose();
  }
}

interface ListedModel {
  /** store: held (hashed, served and shared in pieces); file: a GGUF in the models folder the store does not hold; catalog: known, fetchable; generated: a test preset. */
  source: "store" | "file" | "catalog" | "generated";
  name: string;
  /** The tensor type holding most of the weights' bytes (F32, F16, Q8_0, Q4_K…), or the catalog's quantization. */
  weights: string;
  parameters: number | null;
  fileBytes: number;
  path: string | null;
  /** The first part's sha256 (how adverts and jobs name a model), when known without hashing. */
  sha256: string | null;
  /** The manifest root (how the swarm fetches it), for held and catalog models. */
  root: string | null;
}

export async function runModelsList(options: ModelsListOptions, context: CliContext): Promise<number> {
  const storeDir = path.join(nodePathsFor(options.home).dataDir, "models");
  const generatedDir = defaultModelCacheDir();
  const listed: ListedModel[] = [];
  const problems: string[] = [];
  const held = await createModelStore({ dir: storeDir })
    .list()
    .catch((error: unknown) => {
      problems.push(`the store ${storeDir} could not be read: ${(error as Error).message}`);
      return [];
    });
  for (const model of held) {
    const { manifest } = model;
    listed.push({
      source: "store",
      name: manifest.metadata.name ?? manifest.parts[0]!.fileName,
      weights: manifest.metadata.mainTensorType ?? "?",
      parameters: manifest.metadata.parameterCount,
      fileBytes: manifest.parts.reduce((total, part) => total + part.size, 0),
      path: model.paths[0]!,
      sha256: manifest.parts[0]!.sha256,
      root: manifest.root,
    });
  }
  const heldPaths = new Set(held.flatMap((model) => model.paths.map((p) => path.resolve(p))));
  const catalog = await createModelCatalog({ file: path.join(storeDir, "catalog.json") })
    .list()
    .catch((error: unknown) => {
      problems.push(`the catalog in ${storeDir} could not be read: ${(error as Error).message}`);
      return [];
    });
  for (const entry of catalog.filter((e) => !held.some((model) => model.manifest.root === e.root))) {
    listed.push({ source: "catalog", name: entry.name, weights: entry.quantization, parameters: null, fileBytes: entry.size, path: null, sha256: entry.sha256 ?? null, root: entry.root });
  }
  for (const [source, dir] of [["file", storeDir], ["generated", generatedDir]] as const) {
    for (const file of await ggufFilesIn(dir)) {
      if (heldPaths.has(path.resolve(file))) continue;
      try {
        listed.push({ source, path: file, sha256: null, root: null, ...describeHeader(await inspectGgufFile(file), file) });
      } catch (error) {
        problems.push(`skipped (not a usable GGUF) ${file}: ${(error as Error).message}`);
      }
    }
  }
  if (options.json) {
    context.out(JSON.stringify(listed));
  } else {
    if (listed.length === 0) context.out(`No models in ${storeDir} or ${generatedDir}. Put GGUF files in the first, fetch one (\`inferswarm models fetch\`), or run a preset (\`inferswarm generate -m tiny -p hi\`).`);
    for (const m of listed) {
      const parameters = m.parameters === null ? "" : formatParameters(m.parameters);
      const where = m.path ?? `fetch with: inferswarm models fetch ${m.root}`;
      context.out(`${m.source.padEnd(9)} ${m.name.padEnd(32)} ${m.weights.padEnd(6)} ${parameters.padStart(7)} ${formatBytes(m.fileBytes).padStart(9)}  ${where}`);
    }
  }
  for (const line of problems) context.err(line);
  return EXIT.ok;
}

async function ggufFilesIn(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const files: string[] = [];
  for (const name of names.filter((n) => n.endsWith(".gguf")).sort()) {
    const file = path.join(dir, name);
    if ((await stat(file).catch(() => undefined))?.isFile()) files.push(file);
  }
  return files;
}

function describeHeader(summary: GgufFileSummary, file: string): Pick<ListedModel, "name" | "weights" | "parameters" | "fileBytes"> {
  const bytesByType = new Map<number, number>();
  for (const tensor of summary.tensors) bytesByType.set(tensor.type, (bytesByType.get(tensor.type) ?? 0) + tensor.byteSize);
  const dominant = [...bytesByType].sort((a, b) => b[1] - a[1])[0];
  const name = summary.kv.get("general.name");
  return {
    name: typeof name === "string" ? name : path.basename(file),
    parameters: summary.tensors.reduce((total, t) => total + t.dims.reduce((a, b) => a * b, 1), 0),
    weights: dominant ? ggmlTypeName(dominant[0]) : "none",
    fileBytes: summary.fileSize,
  };
}

export async function runModelsInspect(file: string, options: ModelsInspectOptions, context: CliContext): Promise<number> {
  const started = performance.now();
  // Both refuse a bad file with a ModelFileError that says what is wrong with it (exit 2).
  const summary = await inspectGgufFile(file);
  const info = await describeModelFile(file);
  const chatTemplate = summary.kv.get("tokenizer.chat_template");
  const tokenizer = summary.kv.get("tokenizer.ggml.model");
  const details = {
    ...info,
    path: path.resolve(file),
    ggufVersion: summary.version,
    tensors: summary.tensors.length,
    metadataKeys: summary.kv.size,
    tokenizer: typeof tokenizer === "string" ? tokenizer : null,
    hasChatTemplate: typeof chatTemplate === "string",
  };
  if (options.json) {
    context.out(JSON.stringify(details));
    return EXIT.ok;
  }
  const out = context.out;
  out(`${details.name} (${details.path})`);
  out(`  sha256        ${details.sha256}`);
  out(`  size          ${formatBytes(details.fileSizeBytes)} (${details.fileSizeBytes} bytes)`);
  out(`  architecture  ${details.architecture}, ${formatParameters(details.parameterCount)} parameters, ${details.layerCount} layers, embedding ${details.embeddingLength}`);
  out(`  quantization  ${details.quantization}`);
  out(`  context       ${details.contextLength} tokens (trained)`);
  out(`  vocabulary    ${details.vocabularySize} tokens (${details.tokenizer ?? "unknown"} tokenizer)${details.hasChatTemplate ? ", chat template" : ", no chat template"}`);
  out(`  file          GGUF v${details.ggufVersion}, ${details.tensors} tensors, ${details.metadataKeys} metadata keys; read and hashed in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return EXIT.ok;
}

export async function runModelsFit(model: string, options: ModelsFitOptions, context: CliContext): Promise<number> {
  const file = await resolveModelPath(model, { quantization: options.quantization, seed: options.seedModel, log: context.err });
  const logger = context.logger();
  const engine = await createEngine({ logger: logger.child({ module: "engine" }) });
  let inventory: GpuInventory;
  let plan: FitPlan;
  try {
    const hardware = createHardwareProbe({ logger, readLlamaGpuState: () => engine.readGpuState(), ownPids: [process.pid] });
    try {
      inventory = await hardware.detectInventory();
    } finally {
      hardware.close();
    }
    const vram = options.vramGib === undefined ? undefined : { totalBytes: options.vramGib * 2 ** 30, freeBytes: options.vramGib * 2 ** 30 };
    plan = await engine.planFit(file, {
      ...(options.vramShare !== undefined && { vramShare: options.vramShare }),
      ...(options.ramShare !== undefined && { ramShare: options.ramShare }),
      ...(options.context !== undefined && { contextSize: options.context }),
      ...(options.sequences !== undefined && { sequences: options.sequences }),
      ...(vram && { vram }),
    });
  } finally {
    await engine.close();
  }
  const hardwareLine = inventory.cpuOnly
    ? `CPU only (${inventory.cpu.model}, ${inventory.cpu.cores} cores, ${formatBytes(inventory.ramBytes)} RAM)${inventory.gpus.length ? `; GPUs llama.cpp cannot use here: ${inventory.gpus.map((g) => g.model).join(", ")}` : ""}`
    : inventory.gpus.map((g) => `${g.vendor} ${g.model}${g.vramBytes ? ` ${formatBytes(g.vramBytes)}` : ""} (${g.computeBackend})`).join(", ");
  if (options.json) {
    context.out(JSON.stringify({ model: file, hardware: inventory, plannedFor: options.vramGib === undefined ? "this machine" : `${options.vramGib} GiB of VRAM`, plan }));
  } else {
    context.out(`model: ${file}`);
    context.out(`hardware: ${hardwareLine}${options.vramGib !== undefined ? ` (planning for ${options.vramGib} GiB of VRAM as asked)` : ""}`);
    context.out(plan.reason);
    if (plan.fits) context.out(`serve it with: inferswarm node -m ${model}${plan.sequences > 1 ? ` --max-jobs ${plan.sequences}` : ""}`);
  }
  return plan.fits ? EXIT.ok : EXIT.failure;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  return `${(bytes / 1024).toFixed(0)} KiB`;
}

function formatParameters(count: number): string {
  return count >= 1e9 ? `${(count / 1e9).toFixed(1)}B` : `${(count / 1e6).toFixed(1)}M`;
}

