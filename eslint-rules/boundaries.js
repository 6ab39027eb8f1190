// @ts-check
/**
 * The import rules that keep InferSwarm's processes and modules apart (see docs/ARCHITECTURE.md):
 * - the core (src-main/* except shell) never imports `electron`: it must run headless;
 * - the renderer (src-renderer) never imports Node built-ins, `electron` or main-process files;
 * - the contract (src-contract: schemas shared by renderer, preload, shell and core) imports only zod and
 *   itself, so every process can load it;
 * - a core module is a room with one door: from outside its folder, import `src-main/<module>/index.js`,
 *   never a file inside it.
 */
import { builtinModules } from "node:module";
import path from "node:path";

const nodeBuiltins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

/** @param {string} file @param {string} root */
function locate(file, root) {
  const rel = path.relative(root, file).split(path.sep);
  if (rel[0] === "src-renderer") return { process: "renderer", module: undefined };
  if (rel[0] === "src-contract") return { process: "contract", module: undefined };
  if (rel[0] === "src-main" && rel.length > 2) {
    return { process: rel[1] === "shell" ? "shell" : "core", module: rel[1] };
  }
  if (rel[0] === "src-main") return { process: "core", module: undefined };
  return { process: "tools", module: undefined };
}

/** @type {import("eslint").Rule.RuleModule} */
export const boundariesRule = {
  meta: {
    type: "problem",
    docs: { description: "Keep process boundaries (core/shell/renderer) and module doors intact" },
    messages: {
      electronInCore:
        "The core (src-main/{{module}}) must not import 'electron': it also runs headless. Put Electron code in src-main/shell and pass what the core needs through its factory.",
      nodeInRenderer:
        "The renderer must not import the Node module '{{name}}': it runs sandboxed. Ask the core through the typed API client instead.",
      electronInRenderer: "The renderer must not import 'electron'; use the API exposed by the preload.",
      mainInRenderer: "The renderer must not import main-process code ('{{name}}'); share only schemas/types through a contract module.",
      rendererInMain: "Main-process code must not import renderer code ('{{name}}').",
      contractImport:
        "The contract (src-contract) is loaded by every process: it may import only 'zod' and its own files, not '{{name}}'.",
      privateModuleFile:
        "Import the module's door 'src-main/{{target}}/index.js', not '{{name}}': a module's other files are private to it.",
    },
    schema: [{ type: "object", properties: { root: { type: "string" } }, additionalProperties: false }],
  },
  create(context) {
    const root = context.options[0]?.root ?? context.cwd;
    const file = context.filename;
    const here = locate(file, root);

    /** @param {import("estree").Node} node @param {unknown} source */
    function check(node, source) {
      if (typeof source !== "string") return;
      const name = source;
      const isElectron = name === "electron" || name.startsWith("electron/");
      if (here.process === "core" && isElectron) {
        context.report({ node, messageId: "electronInCore", data: { module: here.module ?? "" } });
        return;
      }
      if (here.process === "renderer") {
        if (isElectron) return context.report({ node, messageId: "electronInRenderer" });
        if (nodeBuiltins.has(name) || nodeBuiltins.has(name.split("/")[0] ?? "")) {
          return context.report({ node, messageId: "nodeInRenderer", data: { name } });
        }
      }
      if (here.process === "contract") {
        const inside = name.startsWith(".") && locate(path.resolve(path.dirname(file), name), root).process === "contract";
        if (!inside && name !== "zod") return context.report({ node, messageId: "contractImport", data: { name } });
        return;
      }
      if (!name.startsWith(".")) return;
      const target = locate(path.resolve(path.dirname(file), name), root);
      if (here.process === "renderer" && target.process !== "renderer" && target.process !== "tools" && target.process !== "contract") {
        return context.report({ node, messageId: "mainInRenderer", data: { name } });
      }
      if (here.process !== "renderer" && here.process !== "tools" && target.process === "renderer") {
        return context.report({ node, messageId: "rendererInMain", data: { name } });
      }
      const resolved = path.relative(root, path.resolve(path.dirname(file), name)).split(path.sep);
      const crossesIntoModule =
        resolved[0] === "src-main" && resolved.length > 2 && target.module !== undefined && target.module !== here.module;
      if (crossesIntoModule && !(resolved.length === 3 && /^index\.[cm]?[jt]s$/.test(resolved[2] ?? ""))) {
        context.report({ node, messageId: "privateModuleFile", data: { name, target: target.module ?? "" } });
      }
    }

    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === "Literal" && check(node, node.source.value),
    };
  },
};

export default { rules: { boundaries: boundariesRule } };
