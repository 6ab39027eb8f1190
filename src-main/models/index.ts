/** The models module: GGUF files (inspect, hash, write) and synthetic test models. */
export { ModelFileError } from "./errors.js";
export type { ModelFileErrorCode } from "./errors.js";
export { inspectGgufFile, GGUF_READ_LIMITS } from "./gguf/gguf-reader.js";
export type { GgufFileSummary, GgufTensorSummary } from "./gguf/gguf-reader.js";
export { writeGgufFile } from "./gguf/gguf-writer.js";
export type { GgufTensorSpec, GgufWriteInput, GgufWriteResult } from "./gguf/gguf-writer.js";
export { GgmlType, GgufValueType, ggmlTypeName } from "./gguf/gguf-types.js";
export { ggufValue } from "./gguf/gguf-values.js";
export type { GgufTypedValue, GgufValue } from "./gguf/gguf-values.js";
export { hashModelFile } from "./model-hash.js";
export { PRESETS, PRESET_NAMES, countParameters } from "./synthetic/presets.js";
export type { ModelShape, PresetName } from "./synthetic/presets.js";
export {
  QUANTIZATIONS,
  SYNTHETIC_GENERATOR_VERSION,
  normalizeSyntheticModelSpec,
  syntheticModelSpecSchema,
  wrongModelSpec,
} from "./synthetic/synthetic-spec.js";
export type { NormalizedSyntheticModelSpec, SyntheticQuantization, SyntheticModelSpec } from "./synthetic/synthetic-spec.js";
export { buildVocabulary } from "./synthetic/vocabulary.js";
export type { Vocabulary } from "./synthetic/vocabulary.js";
export { writeSyntheticModel } from "./synthetic/synthetic-model.js";
export type { SyntheticModelFile } from "./synthetic/synthetic-model.js";
export { defaultModelCacheDir, ensureSyntheticModel } from "./synthetic/model-cache.js";
export type { CachedSyntheticModel, EnsureSyntheticModelOptions } from "./synthetic/model-cache.js";
export {
  MANIFEST_LIMITS,
  MANIFEST_ROOT_FORMAT,
  modelManifestSchema,
  buildManifest,
  computeManifestRoot,
  parseManifest,
  pieceSpans,
  manifestTotalBytes,
  hashPiece,
} from "./store/model-manifest.js";
export type { ModelManifest, ManifestPart, ManifestMetadata, PieceSpan } from "./store/model-manifest.js";
export { createModelCatalog, catalogEntrySchema, catalogFileSchema, httpSourceSchema } from "./store/model-catalog.js";
export type { CatalogEntry, HttpSource, ModelCatalog } from "./store/model-catalog.js";
export { createModelStore } from "./store/model-store.js";
export type { HeldModel, ModelStore, PieceReader } from "./store/model-store.js";
export type { PartialDownload, PartialDownloadOptions } from "./store/partial-download.js";
export { ModelStoreError } from "./store/store-files.js";
export type { ModelStoreErrorCode } from "./store/store-files.js";
