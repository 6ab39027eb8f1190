import os from "node:os";
import { type Clock, createSilentLogger, type Logger, type Timers } from "../common/index.js";
import { createAmdSysfsTelemetrySource } from "./amd-sysfs-telemetry.js";
import { createRealCommandRunner, type CommandRunner } from "./command-runner.js";
import { createGameDetector, type GameDetector } from "./game-detection.js";
import { defaultGameLibraryPaths, type GameLibraryPaths } from "./game-library-paths.js";
import { detectGpuInventory, type GpuInventory, type ReadLlamaGpuState, type SystemInformationReader } from "./gpu-inventory.js";
import { listNvidiaGpuProcesses } from "./gpu-processes.js";
import { createNvidiaSmiLoopTelemetrySource, type SpawnProcess } from "./nvidia-smi-loop-telemetry.js";
import { createNvidiaSmiTelemetrySource } from "./nvidia-smi-telemetry.js";
import { createLinuxProcessLister, createSystemInformationProcessLister, type ProcessLister } from "./process-lister.js";
import { createTelemetrySampler, DEFAULT_TELEMETRY_INTERVAL_MS, type TelemetrySampler } from "./telemetry-sampler.js";
import type { TelemetrySource } from "./telemetry-types.js";

export interface HardwareProbeOptions {
  runCommand?: CommandRunner;
  /** Where the machine's `/` is (sysfs, /proc, Steam files). Default "/". */
  fsRoot?: string;
  platform?: NodeJS.Platform;
  homeDir?: string;
  env?: Record<string, string | undefined>;
  systemInformation?: SystemInformationReader;
  /** The engine's `readGpuState`, wired by the composition root. Without it inference counts as CPU. */
  readLlamaGpuState?: ReadLlamaGpuState;
  /** This node's processes; default [process.pid]. */
  ownPids?: readonly number[];
  processLister?: ProcessLister;
  /** Replaces the default launcher folders field by field. */
  libraryPaths?: Partial<GameLibraryPaths>;
  gameExecutables?: readonly string[];
  notGameExecutables?: readonly string[];
  desktopGpuProcesses?: readonly string[];
  nvidiaSmiCommand?: string;
  /** Starts the long-running `nvidia-smi --loop-ms` reader; default child_process.spawn without a shell. */
  spawnProcess?: SpawnProcess;
  telemetry?: {
    intervalMs?: number;
    historyLength?: number;
    readTimeoutMs?: number;
    /**
     * "loop" (default): one long-running nvidia-smi printing every interval. "one-shot": one nvidia-smi
     * per read, through runCommand (each spawn costs a process that maps model weights decode speed).
     */
    nvidiaSmiMode?: "loop" | "one-shot";
  };
  clock?: Clock;
  timers?: Timers;
  logger?: Logger;
}

export interface HardwareProbe {
  readonly telemetrySources: readonly TelemetrySource[];
  /** Not started: the composition root starts and stops it. */
  readonly sampler: TelemetrySampler;
  readonly games: GameDetector;
  detectInventory(): Promise<GpuInventory>;
  /** Stops the sampler and the long-running nvidia-smi (no restart). Idempotent. */
  close(): void;
}

/** The hardware module wired for this machine: inventory, live telemetry and game detection. */
export function createHardwareProbe(options: HardwareProbeOptions = {}): HardwareProbe {
  const platform = options.platform ?? process.platform;
  const fsRoot = options.fsRoot ?? "/";
  const runCommand = options.runCommand ?? createRealCommandRunner();
  const logger = (options.logger ?? createSilentLogger()).child({ module: "hardware" });
  const readTimeoutMs = options.telemetry?.readTimeoutMs ?? 5000;
  const nvidiaSmiCommand = options.nvidiaSmiCommand ?? "nvidia-smi";

  const intervalMs = options.telemetry?.intervalMs ?? DEFAULT_TELEMETRY_INTERVAL_MS;

  const nvidiaLoop =
    (options.telemetry?.nvidiaSmiMode ?? "loop") === "loop"
      ? createNvidiaSmiLoopTelemetrySource({
          spawnProcess: options.spawnProcess,
          command: nvidiaSmiCommand,
          intervalMs,
          clock: options.clock,
          timers: options.timers,
          logger,
        })
      : undefined;
  const telemetrySources: TelemetrySource[] = [nvidiaLoop ?? createNvidiaSmiTelemetrySource({ runCommand, command: nvidiaSmiCommand, timeoutMs: readTimeoutMs })];
  if (platform === "linux") telemetrySources.push(createAmdSysfsTelemetrySource({ fsRoot }));

  const sampler = createTelemetrySampler({
    sources: telemetrySources,
    intervalMs,
    historyLength: options.telemetry?.historyLength,
    readTimeoutMs,
    clock: options.clock,
    timers: options.timers,
    logger,
  });

  const defaults = defaultGameLibraryPaths({ platform, homeDir: options.homeDir ?? os.homedir(), env: options.env ?? process.env });
  const games = createGameDetector({
    processLister: options.processLister ?? (platform === "linux" ? createLinuxProcessLister({ fsRoot }) : createSystemInformationProcessLister({ platform })),
    libraryPaths: { ...defaults, ...options.libraryPaths },
    listGpuProcesses: () => listNvidiaGpuProcesses({ runCommand, command: nvidiaSmiCommand, timeoutMs: readTimeoutMs }),
    ownPids: options.ownPids,
    gameExecutables: options.gameExecutables,
    notGameExecutables: options.notGameExecutables,
    desktopGpuProcesses: options.desktopGpuProcesses,
    fsRoot,
    platform,
    logger,
  });

  return {
    telemetrySources,
    sampler,
    games,
    detectInventory: () =>
      detectGpuInventory({
        systemInformation: options.systemInformation,
        readLlamaGpuState: options.readLlamaGpuState,
        telemetrySources,
        platform,
        readTimeoutMs,
        logger,
      }),
    close() {
      sampler.stop();
      nvidiaLoop?.close();
    },
  };
}
