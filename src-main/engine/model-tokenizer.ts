import { JinjaTemplateChatWrapper, type ChatHistoryItem, type LlamaModel } from "node-llama-cpp";
import { createSilentLogger, type Logger } from "../common/index.js";
import { EngineError } from "./engine-errors.js";
import { asTokens } from "./llama-tokens.js";
import { getLlamaRuntime } from "./llama-runtime.js";
import { describeModelFile, type ModelInfo } from "./model-info.js";

/** One chat message as a requester gives it; "system" also stands for OpenAI's "developer" role. */
export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface RenderedChat {
  /** The prompt the model sees, with BOS when the model wants one: what worker and validators evaluate. */
  tokens: number[];
  /** The rendered template as text (special markers included), for tests and debugging; never logged. */
  text: string;
}

/**
 * A model's vocabulary without weights or a context: the requester side (the OpenAI gateway) tokenizes
 * prompts and renders chats for models it routes into the swarm but does not run.
 */
export interface ModelTokenizer {
  readonly info: ModelInfo;
  /** The GGUF's `tokenizer.chat_template` (Jinja), if it has one. */
  readonly chatTemplate: string | undefined;
  /** Prompt text as generation sees it: BOS, then the text without an added leading space (as `LoadedModel.tokenizePrompt`). */
  tokenizePrompt(text: string): number[];
  /** The chat rendered with the model's own template, ending with the assistant's turn opened. */
  renderChat(messages: readonly ChatMessage[]): RenderedChat;
  detokenize(tokens: readonly number[]): string;
  close(): Promise<void>;
}

export interface LoadModelTokenizerOptions {
  logger?: Logger;
  /** Passed on to the process's shared llama runtime when this call creates it (as `createEngine`'s option). */
  gpu?: "auto" | false;
  signal?: AbortSignal;
}

/**
 * Loads only the vocabulary of a GGUF (node-llama-cpp `vocabOnly`: no weights, no context; ~0.1 s). The
 * file is checked by the models module's reader first, like every load, and its content hash is the
 * model's identity in the swarm.
 */
export async function loadModelTokenizer(path: string, options: LoadModelTokenizerOptions = {}): Promise<ModelTokenizer> {
  const logger = (options.logger ?? createSilentLogger()).child({ module: "engine", component: "tokenizer" });
  const info = await describeModelFile(path);
  const runtime = await getLlamaRuntime({ gpu: options.gpu ?? "auto", logger });
  let model: LlamaModel;
  try {
    model = await runtime.llama.loadModel({ modelPath: path, vocabOnly: true, loadSignal: options.signal });
  } catch (error) {
    throw new EngineError("ENGINE_MODEL_LOAD_FAILED", `llama.cpp could not load the vocabulary of ${path}: ${(error as Error).message}`, { cause: error });
  }
  const template = model.fileInfo.metadata.tokenizer?.chat_template;
  const chatTemplate = typeof template === "string" && template.length > 0 ? template : undefined;
  // Messages are rendered as written: no trimming, so the tokens match what the client sent.
  const wrapper = chatTemplate === undefined ? undefined : new JinjaTemplateChatWrapper({ template: chatTemplate, trimLeadingWhitespaceInResponses: false, tokenizer: model.tokenizer });
  logger.debug({ model: info.name, sha256: info.sha256.slice(0, 12), chatTemplate: chatTemplate !== undefined }, "vocabulary loaded");

  const withBos = (tokens: number[]) => {
    const bos = model.tokens.bos;
    if (bos !== null && model.tokens.shouldPrependBosToken && tokens[0] !== bos) tokens.unshift(bos);
    return tokens;
  };

  return {
    info,
    chatTemplate,
    tokenizePrompt: (text) => withBos([...model.tokenize(text, false, "trimLeadingSpace")]),
    renderChat(messages) {
      if (!wrapper) {
        throw new EngineError("ENGINE_BAD_REQUEST", `Model ${info.name} has no chat template (tokenizer.chat_template) in its GGUF; send a plain prompt instead.`);
      }
      const chatHistory: ChatHistoryItem[] = messages.map((message) =>
        message.role === "assistant" ? { type: "model", response: [message.content] } : { type: message.role, text: message.content },
      );
      // An empty model turn at the end makes the template open the assistant's turn (add_generation_prompt).
      chatHistory.push({ type: "model", response: [] });
      let rendered;
      try {
        rendered = wrapper.generateContextState({ chatHistory }).contextText;
      } catch (error) {
        throw new EngineError("ENGINE_BAD_REQUEST", `Model ${info.name}'s chat template could not render these messages: ${(error as Error).message}`, { cause: error });
      }
      // Message text is tokenized as plain text (a user cannot forge the template's special markers);
      // only the template's own parts may become special tokens.
      return { tokens: withBos([...rendered.tokenize(model.tokenizer, "trimLeadingSpace")]), text: rendered.toString() };
    },
    detokenize: (tokens) => model.detokenize(asTokens(tokens), false),
    close: () => model.dispose(),
  };
}
