import { describe, expect, it } from "vitest";
import { createLogger, redactPromptFields } from "./logger.js";

function capture() {
  const lines: string[] = [];
  return { lines, destination: { write: (line: string) => lines.push(line) } };
}

describe("createLogger", () => {
  it("redacts prompt fields at any depth unless the owner asks, keeping their length", () => {
    const { lines, destination } = capture();
    const logger = createLogger({ format: "json", level: "info", destination });
    logger.info({ prompt: "tell me a secret", request: { messages: [{ role: "user", content: "hi" }], maxTokens: 8 }, promptTokens: 4 }, "job submitted");
    const record = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(record.prompt).toBe("[redacted 16 chars]");
    expect(record.request).toEqual({ messages: `[redacted ${JSON.stringify([{ role: "user", content: "hi" }]).length} chars]`, maxTokens: 8 });
    expect(record.promptTokens).toBe(4);
    expect(lines[0]).not.toContain("secret");

    const open = capture();
    createLogger({ format: "json", level: "info", logPrompts: true, destination: open.destination }).info({ prompt: "tell me a secret" }, "job");
    expect(JSON.parse(open.lines[0]!).prompt).toBe("tell me a secret");
  });

  it("redacts child bindings too", () => {
    const { lines, destination } = capture();
    createLogger({ format: "json", destination }).child({ module: "api", text: "abc" }).warn("x");
    expect(JSON.parse(lines[0]!)).toMatchObject({ module: "api", text: "[redacted 3 chars]" });
  });

  it("filters by level and writes human lines by default", () => {
    const { lines, destination } = capture();
    const logger = createLogger({ level: "warn", destination }).child({ module: "engine" });
    logger.info("hidden");
    logger.warn({ threads: 1, text: "secret answer", where: "on the CPU" }, "slow decode");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN engine: slow decode threads=1 text="\[redacted 13 chars\]" where="on the CPU"\n$/);
  });

  it("leaves errors and non-plain objects alone", () => {
    const error = new Error("boom");
    const out = redactPromptFields({ err: error, when: new Date(0), list: [{ text: "ab" }] });
    expect(out.err).toBe(error);
    expect(out.list).toEqual([{ text: "[redacted 2 chars]" }]);
  });
});
