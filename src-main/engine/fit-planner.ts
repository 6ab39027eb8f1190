import { GgufInsights, readGgufFileInfo, type Llama } from "node-llama-cpp";
import { inspectGgufFile } from "../models/index.js";

export interface FitRequest {
  /** Share of the GPU's VRAM the owner lets us use (0..1, default 0.8). */
  vramShare?: number;
  /** Share of the free RAM we may use (0..1, default 0.5): the weights are paged in even when mapped. */
  ramShare?: number;
  /** Tokens per sequence (default min(trained context, 2048)). */
  contextSize?: number;
  /** Parallel sequences wanted (default 1); fewer are planned if they do not fit. */
  sequences?: number;
  /**
   * The GPU to plan for, e.g. from the hardware module's nvidia-smi reading. Given explicitly, it plans
   * for that GPU even where this process's llama.cpp build cannot offload ("would it fit?").
   */
  vram?: { totalBytes: number; freeBytes: number };
}

export interface FitPlan {
  fits: boolean;
  gpuLayers: number;
  totalLayers: number;
  contextSize: number;
  sequences: number;
  estimatedVramBytes: number;
  estimatedRamBytes: number;
  budget: { vramBytes: number; ramBytes: number };
  /** One line for the dashboard and CLI. */
  reason: string;
}

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const size = (bytes: number) => (bytes >= GiB ? `${(bytes / GiB).toFixed(1)} GiB` : `${Math.round(bytes / MiB)} MiB`);

/**
 * Which configuration of a GGUF fits this machine within the owner's shares: as many GPU layers as the
 * VRAM budget holds, then the most sequences (down to 1) whose context still fits. Memory figures are
 * node-llama-cpp's estimates (GgufInsights), not measurements.
 */
export async function planModelFit(llama: Llama, path: string, request: FitRequest = {}): Promise<FitPlan> {
  await inspectGgufFile(path); // a bad file gets our clear error, not a parser's
  const insights = await GgufInsights.from(await readGgufFileInfo(path), llama);
  const totalLayers = insights.totalLayers;
  const contextSize = Math.min(request.contextSize ?? 2048, insights.trainContextSize ?? 2048);
  const wantedSequences = Math.max(1, request.sequences ?? 1);

  const vram = request.vram ?? (llama.gpu === false ? undefined : await readVram(llama));
  const vramBudget = vram ? Math.min(vram.freeBytes, vram.totalBytes * (request.vramShare ?? 0.8)) : 0;
  const ram = await llama.getRamState();
  const ramBudget = ram.free * (request.ramShare ?? 0.5);
  const budget = { vramBytes: vramBudget, ramBytes: ramBudget };

  let smallest: { vram: number; ram: number } | undefined;
  for (let gpuLayers = vram ? totalLayers : 0; gpuLayers >= 0; gpuLayers--) {
    const model = await insights.estimateModelResourceRequirementsV2({ gpuLayers, useMmap: true });
    for (let sequences = wantedSequences; sequences >= 1; sequences--) {
      const context = await insights.estimateContextResourceRequirementsV2({ contextSize, modelGpuLayers: gpuLayers, sequences, flashAttention: false });
      const needVram = model.gpuVram + context.gpuVram;
      const needRam = model.cpuRam + context.cpuRam;
      if (gpuLayers === 0 && sequences === 1) smallest = { vram: needVram, ram: needRam };
      if (needVram <= vramBudget && needRam <= ramBudget) {
        const where = gpuLayers === 0 ? (vram ? "on the CPU (no layer fits the VRAM budget)" : "on the CPU (no GPU)") : gpuLayers === totalLayers ? "entirely on the GPU" : `partly on the GPU (${gpuLayers}/${totalLayers} layers)`;
        return {
          fits: true,
          gpuLayers,
          totalLayers,
          contextSize,
          sequences,
          estimatedVramBytes: needVram,
          estimatedRamBytes: needRam,
          budget,
          reason: `Fits ${where}: ${contextSize}-token context × ${sequences} sequence${sequences > 1 ? "s" : ""}, ~${size(needVram)} VRAM of ${size(vramBudget)} allowed, ~${size(needRam)} RAM of ${size(ramBudget)} allowed`,
        };
      }
    }
  }
  return {
    fits: false,
    gpuLayers: 0,
    totalLayers,
    contextSize,
    sequences: 0,
    estimatedVramBytes: smallest?.vram ?? 0,
    estimatedRamBytes: smallest?.ram ?? 0,
    budget,
    reason: `Does not fit: even on the CPU with one sequence it needs ~${size(smallest?.ram ?? 0)} of RAM and ${size(ramBudget)} is allowed; free memory, raise the RAM share, or pick a smaller/more quantized model`,
  };
}

async function readVram(llama: Llama): Promise<{ totalBytes: number; freeBytes: number }> {
  const state = await llama.getVramState();
  return { totalBytes: state.total, freeBytes: state.free };
}
