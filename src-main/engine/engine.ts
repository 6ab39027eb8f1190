import os from "node:os";
import { createSilentLogger, type Logger } from "../common/index.js";
import { EngineError } from "./engine-errors.js";
import { getLlamaRuntime, type LlamaRuntime } from "./llama-runtime.js";
import { createLoadedModel, type LoadedModel } from "./loaded-model.js";
import { isBufferLine, judgeLoadMode, readMemoryCounters } from "./load-mode.js";
import { planModelFit, type FitPlan, type FitRequest } from "./fit-planner.js";
import { describeModelFile, type ModelInfo } from "./model-info.js";
import { calibrateThreads, type ThreadCalibration } from "./thread-calibration.js";

export interface EngineOptions {
  logger?: Logger;
  /** "auto" uses the best GPU backend a prebuilt binary offers; false forces the CPU. */
  gpu?: "auto" | false;
}

export interface LoadModelOptions {
  /** "mmap" (default) maps the file; "pinned" copies the weights into RAM locked with mlock. */
  residence?: "mmap" | "pinned";
  /** Tokens per sequence (prompt + answer); defaults to min(the model's trained context, 2048). */
  contextSize?: number;
  /** Jobs that run at once: one context sequence each. */
  maxActiveJobs?: number;
  /** Jobs that may wait for a free sequence; beyond this `generate` fails with ENGINE_BUSY. */
  maxQueuedJobs?: number;
  /** A thread count, or "calibrate" (default) to measure the fastest one on this machine. */
  threads?: number | "calibrate";
  /** Layers offloaded to the GPU ("auto" fits what VRAM allows); ignored on CPU. */
  gpuLayers?: number | "auto";
  signal?: AbortSignal;
}

export interface EngineDescription {
  gpu: LlamaRuntime["gpu"];
  cpuMathCores: number;
  loadedModels: number;
}

/** What llama.cpp sees of the GPU: the hardware module merges it with its own inventory. */
export interface LlamaGpuState {
  backend: "cuda" | "vulkan" | "metal" | false;
  deviceNames: string[];
  vram: { totalBytes: number; usedBytes: number; freeBytes: number };
}

export interface Engine {
  loadModel(path: string, options?: LoadModelOptions): Promise<LoadedModel>;
  /** Checks a model file and describes it (content hash cached while the file is unchanged). */
  describeModel(path: string): Promise<ModelInfo>;
  /** Would this GGUF fit here, with how many GPU layers, which context and how many sequences? */
  planFit(path: string, request?: FitRequest): Promise<FitPlan>;
  readGpuState(): Promise<LlamaGpuState>;
  describe(): EngineDescription;
  close(): Promise<void>;
}

const DEFAULT_CONTEXT_SIZE = 2048;
const LOAD_LOG_GRACE_MS = 500;

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition() && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** The engine: node-llama-cpp behind one door. The runtime underneath is shared by the whole process. */
export async function createEngine(options: EngineOptions = {}): Promise<Engine> {
  const logger = options.logger ?? createSilentLogger();
  const runtime = await getLlamaRuntime({ gpu: options.gpu ?? "auto", logger });
  const loaded = new Set<LoadedModel>();
  // Thread calibration is per model file and machine; a reload should not pay for it again.
  const calibrations = new Map<string, ThreadCalibration>();

  async function loadModel(path: string, load: LoadModelOptions = {}): Promise<LoadedModel> {
    const info = await describeModelFile(path);
    const residence = load.residence ?? "mmap";
    const logLines: string[] = [];
    const stopListening = runtime.onLog((_level, message) => logLines.push(message));
    const before = await readMemoryCounters();
    let model;
    try {
      model = await runtime.llama.loadModel({
        modelPath: path,
        useMmap: residence === "mmap",
        useMlock: residence === "pinned",
        gpuLayers: runtime.gpu === false ? 0 : (load.gpuLayers ?? "auto"),
        loadSignal: load.signal,
      });
      // llama.cpp's log reaches JS through a thread-safe callback, sometimes after loadModel resolves.
      await waitFor(() => logLines.some(isBufferLine), LOAD_LOG_GRACE_MS);
    } catch (error) {
      throw new EngineError("ENGINE_MODEL_LOAD_FAILED", `llama.cpp could not load ${path}: ${(error as Error).message}`, { cause: error });
    } finally {
      stopListening();
    }
    const loadMode = judgeLoadMode({ requested: residence, logLines, before, after: await readMemoryCounters(), weightsBytes: info.fileSizeBytes });
    logger.info({ model: info.name, sha256: info.sha256.slice(0, 12), loadMode: loadMode.actual, evidence: loadMode.evidence }, "model loaded");

    try {
      let calibration: ThreadCalibration | undefined;
      let threads: number;
      if (typeof load.threads === "number") {
        if (!Number.isInteger(load.threads) || load.threads < 1) throw new EngineError("ENGINE_BAD_REQUEST", `threads must be a positive integer, got ${load.threads}.`);
        threads = load.threads;
      } else {
        calibration = calibrations.get(info.sha256) ?? (await calibrateThreads(model, { signal: load.signal }));
        calibrations.set(info.sha256, calibration);
        threads = calibration.threads;
        logger.info({ model: info.name, threads, measurements: calibration.measurements }, "threads calibrated");
      }
      const contextSize = load.contextSize ?? Math.min(info.contextLength, DEFAULT_CONTEXT_SIZE);
      const context = await model.createContext({
        contextSize,
        sequences: load.maxActiveJobs ?? 1,
        threads,
        // Off everywhere so every node computes the same numerics: flash attention moves logits by up to 0.36.
        flashAttention: false,
        createSignal: load.signal,
      });
      const handle = createLoadedModel({
        model,
        context,
        info,
        loadMode,
        threads,
        calibration,
        maxQueuedJobs: load.maxQueuedJobs ?? 16,
        logger: logger.child({ model: info.name }),
        onClose: () => loaded.delete(handle),
      });
      loaded.add(handle);
      return handle;
    } catch (error) {
      await model.dispose();
      throw error;
    }
  }

  return {
    loadModel,
    describeModel: describeModelFile,
    planFit: (path, request) => planModelFit(runtime.llama, path, request),
    async readGpuState() {
      const [deviceNames, vram] = await Promise.all([runtime.llama.getGpuDeviceNames(), runtime.llama.getVramState()]);
      return { backend: runtime.gpu, deviceNames, vram: { totalBytes: vram.total, usedBytes: vram.used, freeBytes: vram.free } };
    },
    describe: () => ({ gpu: runtime.gpu, cpuMathCores: runtime.llama.cpuMathCores ?? os.availableParallelism(), loadedModels: loaded.size }),
    async close() {
      await Promise.all([...loaded].map((model) => model.close()));
    },
  };
}
