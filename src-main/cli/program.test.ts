import { afterEach, describe, expect, it } from "vitest";
import { runCapturing } from "./cli.test-support.js";

const COMMANDS = ["node", "gateway", "models", "models list", "models inspect", "models fit", "models fetch", "status", "ledger", "ledger earnings", "ledger export", "ledger verify", "bench", "keygen", "generate"];

describe("inferswarm", () => {
  afterEach(() => {
    process.exitCode = undefined;
  });

  it("lists every command in --help and exits 0", async () => {
    const run = await runCapturing(["--help"]);
    expect(run.code).toBe(0);
    for (const name of ["node", "gateway", "models", "status", "ledger", "bench", "keygen", "generate"]) expect(run.stdout).toMatch(new RegExp(`^  ${name} `, "m"));
    expect(run.stdout).toContain("Exit codes: 0 ok, 1 failure, 2 usage or bad input, 130 interrupted.");
  });

  it.each(COMMANDS)("has --help for `%s`", async (command) => {
    const run = await runCapturing([...command.split(" "), "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Usage: inferswarm ${command}`);
  });

  it("exits 2 on an unknown command or option, saying where help is", async () => {
    const unknown = await runCapturing(["bogus"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'bogus'");
    expect(unknown.stderr).toContain("--help");
    const option = await runCapturing(["keygen", "--bogus"]);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("unknown option '--bogus'");
  });

  it("exits 2 when a command group is given no subcommand", async () => {
    const run = await runCapturing(["ledger"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("Usage: inferswarm ledger");
  });

  it("takes the global log options after the command too, and refuses a bad level", async () => {
    const ok = await runCapturing(["keygen", "--help", "--log-level", "debug"]);
    expect(ok.code).toBe(0);
    const bad = await runCapturing(["status", "--log-level", "loud"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("Allowed choices are error, warn, info, debug, trace, silent");
  });

  it("leaves process.exitCode alone when asked to, and sets it by default", async () => {
    const { runCli } = await import("./program.js");
    const code = await runCli(["node", "inferswarm", "bogus"], { io: { stdout: () => {}, stderr: () => {} } });
    expect(code).toBe(2);
    expect(process.exitCode).toBe(2);
  });
});
