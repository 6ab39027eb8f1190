import path from "node:path";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

// Lints snippets as if they lived at the given paths, through the project's real eslint.config.js,
// so this checks both the rule and that the config applies it where it should.
const root = path.resolve(import.meta.dirname, "..");
const eslint = new ESLint({ cwd: root });

async function boundaryErrors(relativePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, relativePath) });
  return (result?.messages ?? []).filter((m) => m.ruleId === "inferswarm/boundaries").map((m) => m.message);
}

describe("import boundaries", () => {
  it("stops the core from importing electron", async () => {
    const errors = await boundaryErrors("src-main/engine/x.ts", 'import { app } from "electron";\nexport const a = app;\n');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/must not import 'electron'/);
  });

  it("lets the Electron shell import electron", async () => {
    expect(await boundaryErrors("src-main/shell/x.ts", 'import { app } from "electron";\nexport const a = app;\n')).toEqual([]);
  });

  it("stops the renderer from importing Node built-ins, electron and main-process code", async () => {
    expect(await boundaryErrors("src-renderer/x.tsx", 'import fs from "node:fs";\nexport const a = fs;\n')).toHaveLength(1);
    expect(await boundaryErrors("src-renderer/x.tsx", 'import fs from "fs/promises";\nexport const a = fs;\n')).toHaveLength(1);
    expect(await boundaryErrors("src-renderer/x.tsx", 'import { ipcRenderer } from "electron";\nexport const a = ipcRenderer;\n')).toHaveLength(1);
    expect(
      await boundaryErrors("src-renderer/pages/x.tsx", 'import { createEngine } from "../../src-main/engine/index.js";\nexport const a = createEngine;\n'),
    ).toHaveLength(1);
    expect(await boundaryErrors("src-renderer/x.tsx", 'import { create } from "zustand";\nexport const a = create;\n')).toEqual([]);
  });

  it("allows a module's door and forbids its private files", async () => {
    expect(
      await boundaryErrors("src-main/cli/x.ts", 'import { createEngine } from "../engine/index.js";\nexport const a = createEngine;\n'),
    ).toEqual([]);
    const errors = await boundaryErrors("src-main/cli/x.ts", 'import { x } from "../engine/llama-runtime.js";\nexport const a = x;\n');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/src-main\/engine\/index\.js/);
    // Files inside one module may reach each other freely.
    expect(
      await boundaryErrors("src-main/models/synthetic/x.ts", 'import { x } from "../gguf/gguf-reader.js";\nexport const a = x;\n'),
    ).toEqual([]);
  });

  it("lets every process read the contract, and keeps the contract free of Node, electron and main code", async () => {
    const useContract = 'import { dashboardCalls } from "../src-contract/index.js";\nexport const a = dashboardCalls;\n';
    expect(await boundaryErrors("src-renderer/x.tsx", useContract)).toEqual([]);
    expect(await boundaryErrors("src-main/x.ts", useContract)).toEqual([]);
    expect(await boundaryErrors("src-contract/x.ts", 'import { z } from "zod";\nimport { y } from "./y.js";\nexport const a = [z, y];\n')).toEqual([]);
    expect(await boundaryErrors("src-contract/x.ts", 'import fs from "node:fs";\nexport const a = fs;\n')).toHaveLength(1);
    expect(await boundaryErrors("src-contract/x.ts", 'import { app } from "electron";\nexport const a = app;\n')).toHaveLength(1);
    expect(await boundaryErrors("src-contract/x.ts", 'import { x } from "../src-main/engine/index.js";\nexport const a = x;\n')).toHaveLength(1);
  });
});
