import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { ModelStoreError } from "./store-files.js";

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "must be a lowercase hex sha256");

/** An HTTP(S) copy of one part (e.g. a Hugging Face file URL), checked against its whole-file sha256. */
export const httpSourceSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }).max(2048),
  sha256: sha256Hex,
});

export const catalogEntrySchema = z.strictObject({
  name: z.string().min(1).max(200),
  quantization: z.string().min(1).max(32),
  /** Total bytes over all parts. */
  size: z.number().int().positive(),
  /** The manifest root: how the swarm knows the model. */
  root: sha256Hex,
  /** The first part's sha256: how adverts and jobs name the model. */
  sha256: sha256Hex.optional(),
  /** One per part, in part order, where the model can also be had over HTTP. */
  httpSources: z.array(httpSourceSchema).max(64).optional(),
});

export const catalogFileSchema = z.strictObject({
  version: z.literal(1),
  models: z.array(catalogEntrySchema).max(10_000),
});

export type CatalogEntry = z.infer<typeof catalogEntrySchema>;
export type HttpSource = z.infer<typeof httpSourceSchema>;

export interface ModelCatalog {
  list(): Promise<CatalogEntry[]>;
  /** By root, first part's sha256, or name (first match). */
  find(key: string): Promise<CatalogEntry | undefined>;
  /** Adds or replaces the entry with the same root. */
  put(entry: CatalogEntry): Promise<void>;
}

/** Known models in one JSON file (written whole, atomically); a missing file is an empty catalog. */
export function createModelCatalog(options: { file: string }): ModelCatalog {
  async function read(): Promise<CatalogEntry[]> {
    let text: string;
    try {
      text = await readFile(options.file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    const parsed = catalogFileSchema.safeParse(JSON.parse(text));
    if (!parsed.success) {
      throw new ModelStoreError("MODEL_STORE_MANIFEST_INVALID", `The model catalog ${options.file} is invalid (${parsed.error.issues[0]?.message ?? "schema"}); fix or delete it.`, { cause: parsed.error });
    }
    return parsed.data.models;
  }

  return {
    list: read,
    async find(key) {
      const models = await read();
      return models.find((entry) => entry.root === key) ?? models.find((entry) => entry.sha256 === key) ?? models.find((entry) => entry.name === key);
    },
    async put(entry) {
      const checked = catalogEntrySchema.parse(entry);
      const models = (await read()).filter((existing) => existing.root !== checked.root);
      models.push(checked);
      await mkdir(path.dirname(options.file), { recursive: true });
      const temp = `${options.file}.tmp-${randomBytes(4).toString("hex")}`;
      try {
        await writeFile(temp, `${JSON.stringify({ version: 1, models }, null, 2)}\n`);
        await rename(temp, options.file);
      } finally {
        await rm(temp, { force: true });
      }
    },
  };
}
