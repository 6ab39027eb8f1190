import os from "node:os";
import { getLlama, LlamaLogLevel, type Llama } from "node-llama-cpp";
import type { Logger } from "../common/index.js";

export type LlamaLogListener = (level: LlamaLogLevel, message: string) => void;

export interface LlamaRuntime {
  readonly llama: Llama;
  /** The compute backend llama.cpp uses here: "cuda", "vulkan", "metal" or false for CPU. */
  readonly gpu: Llama["gpu"];
  /** Listen to llama.cpp's own log lines (used to tell which load mode it really chose). */
  onLog(listener: LlamaLogListener): () => void;
}

export interface LlamaRuntimeOptions {
  /** "auto" picks the best prebuilt backend; false forces CPU (tests and CI). */
  gpu?: "auto" | false;
  logger?: Logger;
}

let shared: Promise<LlamaRuntime> | undefined;
const QUIET_LEVEL = LlamaLogLevel.warn;
const LISTENING_LEVEL = LlamaLogLevel.info;

/**
 * getLlama() test-loads the native binary in a child process (0.6–1.3 s), so the runtime is created once
 * per process and shared. Downloads and source builds are always off: a missing prebuilt is an error to
 * report, never a reason to reach the network or spend 5 minutes compiling.
 */
export function getLlamaRuntime(options: LlamaRuntimeOptions = {}): Promise<LlamaRuntime> {
  shared ??= createRuntime(options).catch((error: unknown) => {
    shared = undefined;
    throw error;
  });
  return shared;
}

async function createRuntime({ gpu = "auto", logger }: LlamaRuntimeOptions): Promise<LlamaRuntime> {
  const listeners = new Set<LlamaLogListener>();
  const envGpu = process.env.NODE_LLAMA_CPP_GPU === "false" ? false : gpu;
  const llama = await getLlama({
    gpu: envGpu,
    build: "never",
    skipDownload: true,
    // The library's CPU default is max(4, cores): on 2 cores that oversubscribes and decodes ~100x slower.
    maxThreads: os.availableParallelism(),
    // Info-level logging costs ~60 µs per decoded token (measured: 4-5% of decode at 700 tok/s), so
    // llama.cpp logs at warn except while someone listens (model loads, to read the load mode).
    logLevel: QUIET_LEVEL,
    logger: (level, message) => {
      for (const listener of listeners) listener(level, message);
      if (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal) logger?.warn({ llama: message.trim() }, "llama.cpp");
      else logger?.trace({ llama: message.trim() }, "llama.cpp");
    },
  });
  return {
    llama,
    gpu: llama.gpu,
    onLog(listener) {
      listeners.add(listener);
      llama.logLevel = LISTENING_LEVEL;
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) llama.logLevel = QUIET_LEVEL;
      };
    },
  };
}
