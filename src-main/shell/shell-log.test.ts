import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openShellLog } from "./shell-log.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "inferswarm-log-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("the app's log file", () => {
  it("holds the shell's structured lines and the core's output", async () => {
    const log = openShellLog({ dir: path.join(dir, "logs"), alsoStderr: false });
    log.logger.warn({ code: 134 }, "the node stopped");
    log.append('{"name":"inferswarm-core","msg":"serving model"}\n');
    log.flush();
    const lines = (await readFile(log.file, "utf8")).trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toEqual([expect.objectContaining({ name: "inferswarm-shell", msg: "the node stopped", code: 134 }), { name: "inferswarm-core", msg: "serving model" }]);
  });

  it("keeps the previous run's log as .1 once it grows past the bound", async () => {
    const file = path.join(dir, "inferswarm.log");
    await writeFile(file, "x".repeat(2_000));
    const log = openShellLog({ dir, alsoStderr: false, maxBytes: 1_000 });
    log.append("fresh\n");
    log.flush();
    expect(await readFile(file, "utf8")).toBe("fresh\n");
    expect((await readFile(`${file}.1`, "utf8")).length).toBe(2_000);
  });

  it("appends to a small log instead", async () => {
    const file = path.join(dir, "inferswarm.log");
    await writeFile(file, "old\n");
    const log = openShellLog({ dir, alsoStderr: false });
    log.append("new\n");
    log.flush();
    expect(await readFile(file, "utf8")).toBe("old\nnew\n");
  });
});
