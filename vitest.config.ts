import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Unit and integration tests only: Playwright specs in e2e/ have their own runner.
    include: ["src-main/**/*.test.ts", "src-renderer/**/*.test.{ts,tsx}", "scripts/**/*.test.ts", "eslint-rules/**/*.test.ts"],
    // Native addons (node-llama-cpp) are safest in child processes, one file per fork.
    pool: "forks",
    // Two cores: integration tests that load models must not fight over them.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    env: {
      NODE_LLAMA_CPP_SKIP_DOWNLOAD: "true",
      NODE_LLAMA_CPP_GPU: "false",
    },
  },
});
