import type { ModelTokenizer } from "../engine/index.js";
import type { CapacityAdvertBody } from "../swarm/index.js";
import { OpenAiHttpError } from "./openai-errors.js";
import type { ModelObject } from "./openai-schemas.js";

/** The adverts the gateway reads (the swarm's AdvertService). */
export interface AdvertSource {
  freshAdverts(): CapacityAdvertBody[];
}

/** The part of a tokenizer the gateway uses (the engine's vocab-only model). */
export type GatewayTokenizer = Pick<ModelTokenizer, "info" | "chatTemplate" | "tokenizePrompt" | "renderChat">;

export interface ResolvedModel {
  /** The id clients use and responses carry. */
  id: string;
  sha256: string;
  tokenizer: GatewayTokenizer;
  /** Prompt + answer tokens a request may use. */
  contextSize: number;
  /** "adverts": the smallest context among the workers advertising it; "gguf": the file's trained context (no fresh advert). */
  contextSource: "adverts" | "gguf";
}

export interface ModelCatalog {
  /** Models the swarm serves (fresh adverts) that this gateway can tokenize. */
  list(created: number): ModelObject[];
  /** The model a request names: its id, its full sha256, or `<name>@<sha256 prefix>`. Throws a 404 otherwise. */
  resolve(requested: string): ResolvedModel;
  /** Fresh adverts that list the model. */
  advertsFor(sha256: string): CapacityAdvertBody[];
}

/**
 * Ids are the name the GGUF (and so every advert) carries. Two held files with the same name (another
 * seed or quantization) would collide, so then each is `<name>@<first 12 hex of its sha256>`.
 */
function idsOf(tokenizers: readonly GatewayTokenizer[]): Map<string, string> {
  const byName = new Map<string, number>();
  for (const t of tokenizers) byName.set(t.info.name, (byName.get(t.info.name) ?? 0) + 1);
  return new Map(tokenizers.map((t) => [t.info.sha256, (byName.get(t.info.name) ?? 0) > 1 ? `${t.info.name}@${t.info.sha256.slice(0, 12)}` : t.info.name]));
}

export function createModelCatalog(tokenizers: readonly GatewayTokenizer[], adverts: AdvertSource): ModelCatalog {
  const held = new Map(tokenizers.map((t) => [t.info.sha256, t]));
  const ids = idsOf([...held.values()]);

  const advertsFor = (sha256: string) => adverts.freshAdverts().filter((advert) => advert.models.some((model) => model.sha256 === sha256));

  function describe(tokenizer: GatewayTokenizer): ResolvedModel {
    const sha256 = tokenizer.info.sha256;
    const contexts = advertsFor(sha256).flatMap((advert) => advert.models.filter((m) => m.sha256 === sha256).map((m) => m.contextSize));
    // The scheduler may hand the job to any of them (and fail over to another): it must fit the smallest.
    return contexts.length > 0
      ? { id: ids.get(sha256)!, sha256, tokenizer, contextSize: Math.min(...contexts), contextSource: "adverts" }
      : { id: ids.get(sha256)!, sha256, tokenizer, contextSize: tokenizer.info.contextLength, contextSource: "gguf" };
  }

  function heldMatches(requested: string): GatewayTokenizer[] {
    const lower = requested.toLowerCase();
    if (/^[0-9a-f]{64}$/.test(lower)) return held.has(lower) ? [held.get(lower)!] : [];
    const at = requested.lastIndexOf("@");
    if (at > 0 && /^[0-9a-f]{8,64}$/.test(requested.slice(at + 1))) {
      const [name, prefix] = [requested.slice(0, at), requested.slice(at + 1)];
      return [...held.values()].filter((t) => t.info.name === name && t.info.sha256.startsWith(prefix));
    }
    return [...held.values()].filter((t) => ids.get(t.info.sha256) === requested || t.info.name === requested);
  }

  return {
    list(created) {
      return [...held.values()].flatMap((tokenizer) => {
        const serving = advertsFor(tokenizer.info.sha256);
        if (serving.length === 0) return [];
        const model = describe(tokenizer);
        return [
          {
            id: model.id,
            object: "model" as const,
            created,
            owned_by: "inferswarm",
            sha256: model.sha256,
            name: tokenizer.info.name,
            quantization: tokenizer.info.quantization,
            context_length: model.contextSize,
            workers: serving.length,
            available_workers: serving.filter((advert) => advert.policy.contribute).length,
          },
        ];
      });
    },
    resolve(requested) {
      const matches = heldMatches(requested);
      if (matches.length === 1) return describe(matches[0]!);
      if (matches.length > 1) {
        const choices = matches.map((t) => ids.get(t.info.sha256)).join(", ");
        throw new OpenAiHttpError("API_MODEL_NOT_FOUND", `The model name ${requested} is ambiguous here: use one of ${choices} (or the full sha256).`, { param: "model" });
      }
      const advertised = adverts
        .freshAdverts()
        .filter((advert) => advert.models.some((m) => m.name === requested || m.sha256 === requested.toLowerCase() || `${m.name}@${m.sha256.slice(0, 12)}` === requested));
      if (advertised.length > 0) {
        throw new OpenAiHttpError(
          "API_MODEL_NOT_HELD",
          `The model ${requested} is served by ${advertised.length} worker(s), but this gateway holds no copy of its GGUF, and it needs one to tokenize prompts (tokens are what workers and validators check). Give the gateway the model file, or use a node that serves it.`,
          { param: "model" },
        );
      }
      throw new OpenAiHttpError("API_MODEL_NOT_FOUND", `The model ${requested} does not exist in this swarm; GET /v1/models lists the models it serves.`, { param: "model" });
    },
    advertsFor,
  };
}
