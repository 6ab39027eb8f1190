#!/usr/bin/env node
// Runs the TypeScript CLI through tsx's loader; packaged builds ship compiled JavaScript instead.
import { register } from "tsx/esm/api";

register();
const { runCli } = await import("../src-main/cli/index.ts");
await runCli(process.argv);
