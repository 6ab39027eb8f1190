import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { canonicalJson } from "../../common/index.js";
import { ModelFileError } from "../errors.js";
import { inspectGgufFile } from "../gguf/gguf-reader.js";
import { ggmlTypeName } from "../gguf/gguf-types.js";
import { ModelStoreError } from "./store-files.js";

export const MANIFEST_LIMITS = {
  defaultPieceBytes: 1024 * 1024,
  minPieceBytes: 64 * 1024,
  maxPieceBytes: 16 * 1024 * 1024,
  maxParts: 64,
  /** 200 GiB at the default piece size; the manifest then stays under ~14 MB of JSON. */
  maxPieces: 200_000,
  maxPartBytes: 2 ** 50,
  /** Bound for a manifest sent over the network. */
  maxManifestBytes: 16 * 1024 * 1024,
} as const;

/** The version tag inside the bytes the root hashes; a new construction gets a new tag. */
export const MANIFEST_ROOT_FORMAT = "inferswarm-model-root/1";

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "must be a lowercase hex sha256");
/** A bare file name: no directories, no dot names, nothing a path join could escape with. */
const fileName = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9._+-]+$/, "must be a plain file name")
  .refine((name) => name !== "." && name !== ".." && !name.startsWith("."), "must not start with a dot");

export const manifestPartSchema = z.strictObject({
  fileName,
  size: z.number().int().positive().max(MANIFEST_LIMITS.maxPartBytes),
  /** sha256 of this part's bytes: what hashModelFile gives, and how adverts and jobs name a model. */
  sha256: sha256Hex,
  /** sha256 of each piece of this part, in order; the last piece may be short. */
  pieces: z.array(sha256Hex).min(1).max(MANIFEST_LIMITS.maxPieces),
});

export const manifestMetadataSchema = z.strictObject({
  architecture: z.string().max(128).optional(),
  name: z.string().max(256).optional(),
  /** llama.cpp's general.file_type, when present. */
  fileType: z.number().int().nonnegative().optional(),
  /** The ggml type holding the most bytes (e.g. Q8_0). */
  mainTensorType: z.string().max(32).optional(),
  tensorCount: z.number().int().nonnegative(),
  parameterCount: z.number().int().nonnegative(),
});

export const modelManifestSchema = z
  .strictObject({
    version: z.literal(1),
    /** See computeManifestRoot. */
    root: sha256Hex,
    pieceSize: z
      .number()
      .int()
      .min(MANIFEST_LIMITS.minPieceBytes)
      .max(MANIFEST_LIMITS.maxPieceBytes)
      .refine((size) => (size & (size - 1)) === 0, "must be a power of two"),
    /** The first part is the file llama.cpp opens; a single-file model has one part. */
    parts: z.array(manifestPartSchema).min(1).max(MANIFEST_LIMITS.maxParts),
    /** Advisory: derived from the GGUF header, not covered by the root (the store re-reads it from the file). */
    metadata: manifestMetadataSchema,
  })
  .superRefine((manifest, context) => {
    const names = new Set<string>();
    let pieces = 0;
    manifest.parts.forEach((part, index) => {
      if (names.has(part.fileName)) context.addIssue({ code: "custom", path: ["parts", index, "fileName"], message: "part file names must be unique" });
      names.add(part.fileName);
      if (part.pieces.length !== Math.ceil(part.size / manifest.pieceSize)) {
        context.addIssue({ code: "custom", path: ["parts", index, "pieces"], message: `a part of ${part.size} bytes has ${Math.ceil(part.size / manifest.pieceSize)} pieces` });
      }
      pieces += part.pieces.length;
    });
    if (pieces > MANIFEST_LIMITS.maxPieces) context.addIssue({ code: "custom", path: ["parts"], message: `more than ${MANIFEST_LIMITS.maxPieces} pieces` });
  });

export type ModelManifest = z.infer<typeof modelManifestSchema>;
export type ManifestPart = z.infer<typeof manifestPartSchema>;
export type ManifestMetadata = z.infer<typeof manifestMetadataSchema>;

/**
 * The root: lowercase hex sha256 of the UTF-8 bytes of
 * `canonicalJson({ format: "inferswarm-model-root/1", pieceSize, parts: [{ fileName, size, sha256, pieces }] })`
 * (keys sorted, no whitespace, parts and pieces in order). It commits to every piece hash, each part's
 * whole-file sha256, sizes and names, so a manifest checked against its root can be trusted from any peer.
 * The metadata summary is left out so a better GGUF reader never changes a model's name.
 */
export function computeManifestRoot(manifest: Pick<ModelManifest, "pieceSize" | "parts">): string {
  const body = {
    format: MANIFEST_ROOT_FORMAT,
    pieceSize: manifest.pieceSize,
    parts: manifest.parts.map((part) => ({ fileName: part.fileName, size: part.size, sha256: part.sha256, pieces: part.pieces })),
  };
  return createHash("sha256").update(canonicalJson(body)).digest("hex");
}

/** Parses and checks a manifest from anywhere (a peer, a file); `expectedRoot` guards against a substitute. */
export function parseManifest(value: unknown, expectedRoot?: string): ModelManifest {
  const parsed = modelManifestSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join(".")}` : "";
    throw new ModelStoreError("MODEL_STORE_MANIFEST_INVALID", `The model manifest breaks its schema${where}: ${issue?.message ?? "invalid"}.`, { cause: parsed.error });
  }
  const manifest = parsed.data;
  const root = computeManifestRoot(manifest);
  if (root !== manifest.root) {
    throw new ModelStoreError("MODEL_STORE_MANIFEST_INVALID", `The manifest claims root ${manifest.root} but its pieces hash to ${root}; it was altered. Get it from another peer.`);
  }
  if (expectedRoot !== undefined && root !== expectedRoot) {
    throw new ModelStoreError("MODEL_STORE_MANIFEST_INVALID", `Asked for model ${expectedRoot} but got the manifest of ${root}; get it from another peer.`);
  }
  return manifest;
}

export interface PieceSpan {
  /** Index into manifest.parts. */
  readonly part: number;
  /** Byte offset inside that part. */
  readonly offset: number;
  readonly length: number;
  readonly sha256: string;
}

/** Where each global piece index lives: pieces are cut per part (never across a part boundary). */
export function pieceSpans(manifest: Pick<ModelManifest, "pieceSize" | "parts">): PieceSpan[] {
  const spans: PieceSpan[] = [];
  manifest.parts.forEach((part, partIndex) => {
    part.pieces.forEach((sha256, index) => {
      const offset = index * manifest.pieceSize;
      spans.push({ part: partIndex, offset, length: Math.min(manifest.pieceSize, part.size - offset), sha256 });
    });
  });
  return spans;
}

export function manifestTotalBytes(manifest: Pick<ModelManifest, "parts">): number {
  return manifest.parts.reduce((sum, part) => sum + part.size, 0);
}

export function hashPiece(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Cuts GGUF files (one, or the parts of a split model in order) into pieces and hashes them in one
 * pass, the whole-file sha256 of each part beside. Part file names are the files' base names.
 */
export async function buildManifest(partPaths: readonly string[], options: { pieceSize?: number } = {}): Promise<ModelManifest> {
  const pieceSize = options.pieceSize ?? MANIFEST_LIMITS.defaultPieceBytes;
  if (partPaths.length === 0 || partPaths.length > MANIFEST_LIMITS.maxParts) {
    throw new ModelStoreError("MODEL_STORE_MANIFEST_INVALID", `A model has 1 to ${MANIFEST_LIMITS.maxParts} parts; got ${partPaths.length}.`);
  }
  const parts: ManifestPart[] = [];
  for (const partPath of partPaths) parts.push(await hashPart(partPath, pieceSize));
  const metadata = await summarizeGguf(partPaths);
  const body = { pieceSize, parts };
  return parseManifest({ version: 1, root: computeManifestRoot(body), ...body, metadata });
}

async function hashPart(partPath: string, pieceSize: number): Promise<ManifestPart> {
  let size: number;
  try {
    size = (await stat(partPath)).size;
  } catch (error) {
    throw new ModelFileError("MODEL_NOT_FOUND", partPath, `Model file ${partPath} does not exist: check the path.`, { cause: error });
  }
  const whole = createHash("sha256");
  const pieces: string[] = [];
  let piece = createHash("sha256");
  let inPiece = 0;
  let seen = 0;
  for await (const chunk of createReadStream(partPath, { highWaterMark: pieceSize })) {
    const bytes = chunk as Buffer;
    whole.update(bytes);
    seen += bytes.byteLength;
    // Reads may not align with pieces: split each chunk at piece boundaries.
    let at = 0;
    while (at < bytes.byteLength) {
      const take = Math.min(pieceSize - inPiece, bytes.byteLength - at);
      piece.update(bytes.subarray(at, at + take));
      inPiece += take;
      at += take;
      if (inPiece === pieceSize) {
        pieces.push(piece.digest("hex"));
        piece = createHash("sha256");
        inPiece = 0;
      }
    }
  }
  if (inPiece > 0) pieces.push(piece.digest("hex"));
  if (seen !== size || size === 0) {
    throw new ModelStoreError("MODEL_STORE_MANIFEST_MISMATCH", `${partPath} changed while it was hashed (or is empty); try again once it is complete.`);
  }
  return { fileName: path.basename(partPath), size, sha256: whole.digest("hex"), pieces };
}

/** The first part carries the metadata; tensors may be spread over every part. */
async function summarizeGguf(partPaths: readonly string[]): Promise<ManifestMetadata> {
  const summaries = [];
  for (const partPath of partPaths) summaries.push(await inspectGgufFile(partPath));
  const first = summaries[0]!;
  const text = (key: string) => {
    const value = first.kv.get(key);
    return typeof value === "string" ? value.slice(0, 128) : undefined;
  };
  const fileTypeValue = first.kv.get("general.file_type");
  const fileType = typeof fileTypeValue === "number" ? fileTypeValue : typeof fileTypeValue === "bigint" ? Number(fileTypeValue) : undefined;
  const bytesByType = new Map<number, number>();
  let tensorCount = 0;
  let parameterCount = 0;
  for (const summary of summaries) {
    for (const tensor of summary.tensors) {
      tensorCount++;
      parameterCount += tensor.dims.reduce((a, b) => a * b, 1);
      bytesByType.set(tensor.type, (bytesByType.get(tensor.type) ?? 0) + tensor.byteSize);
    }
  }
  const main = [...bytesByType.entries()].sort((a, b) => b[1] - a[1])[0];
  return {
    architecture: text("general.architecture"),
    name: text("general.name"),
    fileType,
    mainTensorType: main ? ggmlTypeName(main[0]) : undefined,
    tensorCount,
    parameterCount,
  };
}
