// The cli module's door: the `inferswarm` command line, run by bin/inferswarm.js and `npm run cli`.
export { buildProgram, runCli, type CliDeps } from "./program.js";
export { EXIT, CliError, type CliIo } from "./cli-context.js";
