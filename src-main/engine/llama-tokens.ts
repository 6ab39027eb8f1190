import type { Token } from "node-llama-cpp";

// node-llama-cpp brands token ids; ours are plain numbers because they cross the wire and the IPC. The
// engine checks them against the vocabulary before they reach llama.cpp.
export const asToken = (id: number): Token => id as Token;
export const asTokens = (ids: readonly number[]): Token[] => ids as Token[];
