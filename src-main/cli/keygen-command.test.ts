import { readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseSwarmKey } from "../swarm/index.js";
import { runCapturing, tempHome } from "./cli.test-support.js";

describe("inferswarm keygen", () => {
  let home: ReturnType<typeof tempHome>;
  beforeEach(() => void (home = tempHome()));
  afterEach(() => home.cleanup());

  it("writes a valid key (0600) into the config folder and says how to share it", async () => {
    const run = await runCapturing(["keygen", "--home", home.dir]);
    expect(run.code).toBe(0);
    const file = path.join(home.dir, "config", "swarm.key");
    expect(() => parseSwarmKey(readFileSync(file, "utf8"))).not.toThrow();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(run.stdout).toContain(`--swarm-key ${file}`);
    expect(run.stdout).toContain("swarmKeyFile");
  });

  it("refuses to overwrite a key without --force (exit 2), and replaces it with --force", async () => {
    const file = path.join(home.dir, "mine.key");
    writeFileSync(file, "old", { mode: 0o644 });
    const refused = await runCapturing(["keygen", "--out", file]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("already exists");
    expect(refused.stderr).toContain("--force");
    expect(readFileSync(file, "utf8")).toBe("old");

    const forced = await runCapturing(["keygen", "--out", file, "--force"]);
    expect(forced.code).toBe(0);
    expect(() => parseSwarmKey(readFileSync(file, "utf8"))).not.toThrow();
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});
