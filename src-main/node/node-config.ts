import { readFile } from "node:fs/promises";
import { z } from "zod";
import { InferSwarmError } from "../common/index.js";
import { PRESET_NAMES, QUANTIZATIONS } from "../models/index.js";
import { DEFAULT_LISTEN } from "../swarm/index.js";
import { RECORDED_GPU_NAMES, type RecordedGpuName } from "../hardware/index.js";
import { apiKeyConfigSchema, DEFAULT_OPENAI_PORT } from "../api/index.js";
import { speculationConfigSchema } from "./node-speculative.js";

/** A model this node serves: a GGUF file, or a generated preset (demo and test swarms). */
export const servedModelSchema = z
  .object({
    path: z.string().min(1).optional(),
    preset: z.enum(PRESET_NAMES).optional(),
    quantization: z.enum(QUANTIZATIONS).default("F32"),
    seed: z.number().int().nonnegative().default(1),
    pricePer1kTokens: z.number().nonnegative().default(0.2),
    maxActiveJobs: z.number().int().min(1).max(64).default(2),
    maxQueuedJobs: z.number().int().min(0).max(1024).default(8),
    contextSize: z.number().int().min(64).optional(),
  })
  .strict()
  .refine((m) => (m.path === undefined) !== (m.preset === undefined), "give exactly one of `path` (a GGUF file) or `preset`");

/** node.json: the headless node's settings; CLI flags override them. */
export const nodeConfigSchema = z
  .object({
    listen: z.array(z.string()).default([...DEFAULT_LISTEN]),
    bootstrap: z.array(z.string()).default([]),
    /** LAN discovery (multicast): on for desktop nodes, off in tests. */
    mdns: z.boolean().default(true),
    nat: z.boolean().default(false),
    /** A private swarm's key file (`inferswarm keygen`); peers without it cannot connect. */
    swarmKeyFile: z.string().optional(),
    serve: z.array(servedModelSchema).default([]),
    /** Passed to the policy module, which fills in its own defaults. */
    policy: z.record(z.string(), z.unknown()).default({}),
    threads: z.union([z.literal("calibrate"), z.number().int().min(1)]).default("calibrate"),
    /** Poll GPU telemetry and game detection (nvidia-smi, sysfs, /proc). */
    hardware: z.boolean().default(true),
    /** The dashboard in a browser (headless rigs): loopback only, behind a token. */
    dashboard: z
      .object({
        enabled: z.boolean().default(true),
        port: z.number().int().min(0).max(65_535).default(7480),
      })
      .strict()
      .prefault({}),
    /** Speculative decoding: draft for other nodes' verifiers, and verify served targets with a paired draft. */
    speculation: speculationConfigSchema.prefault({}),
    /** Sharing held models' pieces with peers that fetch them: the owner's upstream is precious. */
    uploads: z
      .object({
        /** Bytes per second for all uploads together; unset: no cap. */
        maxUploadBytesPerSecond: z.number().int().positive().optional(),
        /** Peers served at once (0: never upload); more get a "busy" answer and try another seeder. */
        maxConcurrentUploads: z.number().int().min(0).max(64).default(4),
      })
      .strict()
      .prefault({}),
    /** The OpenAI-compatible API into the swarm: loopback only, behind a key (`<dataDir>/api.key` plus `keys`). */
    api: z
      .object({
        enabled: z.boolean().default(true),
        port: z.number().int().min(0).max(65_535).default(DEFAULT_OPENAI_PORT),
        /** GGUF files the API may serve besides the node's own models (it tokenizes, so it needs the file). */
        models: z.array(z.string().min(1)).default([]),
        keys: z.array(apiKeyConfigSchema).default([]),
        maxConcurrentRequestsPerKey: z.number().int().min(1).max(10_000).default(8),
      })
      .strict()
      .prefault({}),
    /** Validation of this node's requests, and hidden challenges it sends to other workers. */
    trust: z
      .object({
        /** Fraction of answers a validator re-checks; suspicious workers (new, too fast, often failing) are checked at `suspiciousVerifyFraction`. */
        verifyFraction: z.number().min(0).max(1).default(0.1),
        suspiciousVerifyFraction: z.number().min(0).max(1).default(0.5),
        /** Mean minutes between hidden challenges (only a node serving the model can send them); 0: none. */
        challengeEveryMinutes: z.number().min(0).max(10_080).default(10),
      })
      .strict()
      .prefault({}),
    /**
     * Replay a recorded nvidia-smi capture instead of reading the GPU, on machines that have none (demos,
     * the dashboard's e2e tests): the telemetry parser, the thermal charts and the policy's limits then run
     * on real recorded numbers, and the dashboard labels them as a recording.
     */
    replayGpu: z.enum(RECORDED_GPU_NAMES as [RecordedGpuName, ...RecordedGpuName[]]).optional(),
  })
  .strict();

export type NodeConfig = z.infer<typeof nodeConfigSchema>;
export type NodeConfigInput = z.input<typeof nodeConfigSchema>;
export type ServedModelConfig = z.infer<typeof servedModelSchema>;

export function parseNodeConfig(input: unknown, source = "the node config"): NodeConfig {
  const parsed = nodeConfigSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(top)"}: ${issue.message}`).join("; ");
  throw new InferSwarmError("NODE_CONFIG_INVALID", `${source} is invalid: ${problems}. Fix it or remove the field to use the default.`);
}

/** Reads a JSON config file; a missing optional file is an empty config. */
export async function readNodeConfigFile(file: string, options: { optional: boolean }): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT" && options.optional) return {};
    throw new InferSwarmError("NODE_CONFIG_UNREADABLE", `Cannot read the node config ${file}: ${(error as Error).message}.`, { cause: error });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new InferSwarmError("NODE_CONFIG_INVALID", `${file} is not valid JSON (${(error as Error).message}); fix it or delete it to start from defaults.`, { cause: error });
  }
}
