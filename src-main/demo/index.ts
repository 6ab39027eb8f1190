// The demo module's door: the local swarm that `npm run demo` (and `npm start` without Electron) runs.
export { runLocalSwarmDemo, demoOptionsSchema, type DemoOptions, type DemoIo, type DemoSummary, type DemoWorkerLedger } from "./local-swarm-demo.js";
export { startLoadGenerator, sendChatCompletion, type LoadGenerator, type LoadGeneratorOptions, type LoadStats, type RequestResult } from "./load-generator.js";
export { describeProgress, formatCredits, type WorkerProgress } from "./demo-progress.js";
