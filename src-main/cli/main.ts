// Entry point for `tsx src-main/cli/main.ts …` (npm scripts).
import { runCli } from "./index.js";

await runCli(process.argv);
