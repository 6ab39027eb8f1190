// The hardware module's only door: what the machine has, how hot it runs, who else uses the GPU,
// and how fast this node decodes.
export { createHardwareProbe, type HardwareProbe, type HardwareProbeOptions } from "./hardware-probe.js";
export { HardwareError, type HardwareErrorCode } from "./hardware-errors.js";
export { createRealCommandRunner, type CommandOptions, type CommandResult, type CommandRunner } from "./command-runner.js";
export { normalizePciBusId } from "./pci-bus-id.js";

export {
  detectGpuInventory,
  gpuInventorySchema,
  inventoryGpuSchema,
  llamaGpuStateSchema,
  type GpuInventory,
  type GpuInventoryDeps,
  type InventoryGpu,
  type LlamaGpuState,
  type ReadLlamaGpuState,
  type SystemInformationReader,
} from "./gpu-inventory.js";

export {
  emptyReading,
  gpuReadingSchema,
  gpuVendorSchema,
  telemetrySampleSchema,
  type GpuReading,
  type GpuVendor,
  type TelemetryReadResult,
  type TelemetrySample,
  type TelemetrySource,
} from "./telemetry-types.js";
export {
  createNvidiaSmiLoopTelemetrySource,
  spawnWithoutShell,
  type LoopChildProcess,
  type NvidiaSmiLoopTelemetryOptions,
  type NvidiaSmiLoopTelemetrySource,
  type SpawnProcess,
} from "./nvidia-smi-loop-telemetry.js";
export { createNvidiaSmiTelemetrySource, parseNvidiaSmiGpuCsv, NVIDIA_SMI_GPU_QUERY_ARGS, type NvidiaSmiTelemetryOptions } from "./nvidia-smi-telemetry.js";
export { createAmdSysfsTelemetrySource, type AmdSysfsTelemetryOptions } from "./amd-sysfs-telemetry.js";
export {
  createTelemetrySampler,
  DEFAULT_TELEMETRY_HISTORY_LENGTH,
  DEFAULT_TELEMETRY_INTERVAL_MS,
  type TelemetryListener,
  type TelemetrySampler,
  type TelemetrySamplerOptions,
} from "./telemetry-sampler.js";

export { listNvidiaGpuProcesses, type GpuProcess, type GpuProcessesResult, type GpuProcessKind } from "./gpu-processes.js";
export { createLinuxProcessLister, createSystemInformationProcessLister, type ProcessInfo, type ProcessLister } from "./process-lister.js";
export { defaultGameLibraryPaths, type GameFolder, type GameLibraryPaths } from "./game-library-paths.js";
export {
  createGameDetector,
  DEFAULT_DESKTOP_GPU_PROCESSES,
  DEFAULT_GAME_EXECUTABLES,
  DEFAULT_NOT_GAME_EXECUTABLES,
  type DetectedGame,
  type GameDetection,
  type GameDetector,
  type GameDetectorOptions,
  type GameReason,
} from "./game-detection.js";
export { steamLibraryPathsFromVdf } from "./steam-library-folders.js";

export { createJsonFileStore, type JsonStore } from "./json-file-store.js";
export {
  CALIBRATION_STORE_KEY,
  describeThisMachine,
  ensureNodeCalibration,
  loadCalibration,
  machineFingerprintSchema,
  nodeCalibrationSchema,
  runNodeCalibration,
  type CalibrationEngine,
  type CalibrationModel,
  type MachineFingerprint,
  type NodeCalibration,
  type NodeCalibrationOptions,
} from "./node-calibration.js";
export { createRecordedGpuReplay, RECORDED_GPU_NAMES, type RecordedGpuName, type RecordedGpuReplay } from "./recorded-gpu-replay.js";
