import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { attestationBodySchema, hashScores, hashTokens, type AttestationBody } from "./attestation.js";

describe("attestation hashes and schema", () => {
  it("hashes token ids as little-endian u32, as receipts do", () => {
    const bytes = Buffer.alloc(12);
    [1, 300, 70_000].forEach((token, i) => bytes.writeUInt32LE(token, i * 4));
    expect(hashTokens([1, 300, 70_000])).toBe(createHash("sha256").update(bytes).digest("hex"));
    expect(hashTokens([])).toBe(createHash("sha256").update(Buffer.alloc(0)).digest("hex"));
  });

  it("hashes scores by value, not by key order", () => {
    const a = hashScores({ topK: 8, positions: [[0, 0, 1]], end: null });
    expect(hashScores(JSON.parse('{"end":null,"positions":[[0,0,1]],"topK":8}'))).toBe(a);
    expect(hashScores({ topK: 8, positions: [[1, 0, 1]], end: null })).not.toBe(a);
  });

  it("keeps a signed body small: a summary, never per-position data", () => {
    const body: AttestationBody = {
      jobId: "job-12345678",
      validatorPeerId: "12D3KooWExample",
      modelSha256: "a".repeat(64),
      quantization: "F32",
      promptSha256: "b".repeat(64),
      outputSha256: "c".repeat(64),
      scoresSha256: "d".repeat(64),
      finishReason: "length",
      maxTokens: 4096,
      verdict: "fail",
      reasons: ["positions", "length-mismatch"],
      stats: { count: 4096, failing: 4000, allowedFailing: 0, maxMargin: 312.5, meanMargin: 120.25, outsideTopK: 3900, endPlausible: null },
      at: 1_700_000_000_000,
    };
    expect(attestationBodySchema.parse(body)).toEqual(body);
    expect(JSON.stringify(body).length).toBeLessThan(1024);
    expect(attestationBodySchema.safeParse({ ...body, extra: 1 }).success).toBe(false);
  });
});
