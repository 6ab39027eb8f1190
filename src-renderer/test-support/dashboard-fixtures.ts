/**
 * Realistic dashboard data for tests and e2e: a desktop node with an RTX 4080 SUPER serving a 3B model,
 * as the contract shapes it. Plain data (no test-runner imports), so a Playwright init script can reuse it.
 */
import type { EarningsSummary, JobView, ModelsView, NodeStatusView, ReputationView, SettingsView, TelemetryHistory, TelemetryPoint } from "../../src-contract/index.js";

/** 2025-06-14 18:00:00 UTC: every fixture time is relative to this. */
export const FIXTURE_NOW = Date.UTC(2025, 5, 14, 18, 0, 0);

export const LLAMA_SHA256 = "9b1c3f0e6a4d2c8b7e5f1a3d9c0b2e4f6a8d1c3e5b7f9a0c2e4d6b8f1a3c5e7d";
export const QWEN_SHA256 = "1f2e3d4c5b6a79880716253443526170f1e2d3c4b5a6978877665544332211a0";
/** A model root (the sha256 of its manifest), how models are fetched over the swarm. */
export const MISTRAL_ROOT = "5d0c7e2a9b14f3c68e21a7d4b05f9c3e6a18d27b4c90e5f3a6b2d81c7e4f0a95";
export const GPU_NAME = "NVIDIA GeForce RTX 4080 SUPER";
const GIB = 1024 ** 3;
/** 16376 MiB, what nvidia-smi reports as memory.total for this card. */
export const GPU_VRAM_TOTAL_BYTES = 16_376 * 1024 ** 2;

export function fixtureStatus(): NodeStatusView {
  return {
    peerId: "12D3KooWRk7yYb7pWQAn3GxCv9Qv3Mwtr7kS9gS1AuUWy2h1fQ4e",
    addresses: ["/ip4/192.168.1.23/tcp/40123/p2p/12D3KooWRk7yYb7pWQAn3GxCv9Qv3Mwtr7kS9gS1AuUWy2h1fQ4e", "/ip4/192.168.1.23/tcp/40124/ws/p2p/12D3KooWRk7yYb7pWQAn3GxCv9Qv3Mwtr7kS9gS1AuUWy2h1fQ4e"],
    mode: "when-idle",
    resumeMode: "when-idle",
    tray: "contributing",
    decision: { contribute: true, reasonCode: "contributing", reason: "Contributing: you have been away for 12 minutes and the GPU is at 64 °C.", at: FIXTURE_NOW - 4_000 },
    models: [{ name: "Llama-3.2-3B-Instruct", sha256: LLAMA_SHA256, quantization: "Q4_K_M", threads: 8, tokensPerSecond: 41.7, active: 1, queued: 0 }],
    peers: 7,
    workersSeen: 5,
    jobs: { answered: 128, failed: 3, gone: 2, tokensGenerated: 45_210 },
    startedAt: FIXTURE_NOW - 3 * 3600_000 - 25 * 60_000,
  };
}

/** One RTX 4080 SUPER sample every 2 s under a steady inference load. */
export function fixtureTelemetryPoint(index: number, at = FIXTURE_NOW - (59 - index) * 2000): TelemetryPoint {
  const wave = Math.sin(index / 6);
  return {
    at,
    gpus: [
      {
        id: "0000:01:00.0",
        name: GPU_NAME,
        temperatureC: Math.round(64 + 5 * wave),
        utilizationPercent: Math.round(78 + 15 * wave),
        powerW: Math.round((236 + 40 * wave) * 10) / 10,
        powerLimitW: 320,
        vramUsedBytes: Math.round((9.2 + 0.3 * wave) * GIB),
        vramTotalBytes: GPU_VRAM_TOTAL_BYTES,
      },
    ],
    errors: [],
  };
}

export function fixtureTelemetry(): TelemetryHistory {
  return {
    source: "fixture",
    intervalMs: 2000,
    samples: Array.from({ length: 60 }, (_, i) => fixtureTelemetryPoint(i)),
    limits: { maxTemperatureC: 83, temperatureResumeMarginC: 8, maxPowerW: null, maxPowerFractionOfLimit: 0.9, vramShare: 0.8 },
  };
}

const day = (offset: number) => new Date(FIXTURE_NOW - offset * 86_400_000).toISOString().slice(0, 10);

export function fixtureEarnings(): EarningsSummary {
  const perDay = [6, 5, 4, 3, 2, 1, 0].map((offset, i) => ({
    day: day(offset),
    pending: offset === 0 ? 4.2 : offset < 3 ? 1.5 : 0,
    held: offset === 1 ? 0.8 : 0,
    payable: offset === 0 ? 0 : 6 + i,
    forfeited: offset === 4 ? 0.5 : 0,
    tokens: 9_000 + i * 1_250,
  }));
  return {
    available: true,
    unit: "credits",
    totals: {
      today: { pending: 4.2, held: 0, payable: 0, forfeited: 0 },
      last7Days: { pending: 7.2, held: 0.8, payable: 51, forfeited: 0.5 },
      last30Days: { pending: 7.2, held: 0.8, payable: 183.4, forfeited: 2.5 },
    },
    perDay,
    perModel: [
      { model: "Llama-3.2-3B-Instruct", pending: 6.1, held: 0.8, payable: 160.2, forfeited: 2.5, tokens: 301_220, jobs: 1_104 },
      { model: "Qwen2.5-1.5B-Instruct", pending: 1.1, held: 0, payable: 23.2, forfeited: 0, tokens: 88_400, jobs: 512 },
    ],
  };
}

export function unavailableEarnings(): EarningsSummary {
  const zero = { pending: 0, held: 0, payable: 0, forfeited: 0 };
  return { available: false, unit: "credits", totals: { today: zero, last7Days: zero, last30Days: zero }, perDay: [], perModel: [] };
}

export function fixtureReputation(): ReputationView {
  return {
    available: true,
    score: 0.94,
    tier: "trusted",
    history: [
      { at: FIXTURE_NOW - 600_000, kind: "verification", verdict: "pass", detail: "Answer re-scored by 2 validators: top-1 agreement 99.2%" },
      { at: FIXTURE_NOW - 3_600_000, kind: "challenge", verdict: "pass", detail: "Canary prompt answered with the expected tokens" },
      { at: FIXTURE_NOW - 7_200_000, kind: "stall", verdict: "fail", detail: "No token for 30 s during job 7f3a…; the requester failed over" },
    ],
  };
}

export function unavailableReputation(): ReputationView {
  return { available: false, score: null, tier: null, history: [] };
}

export function fixtureJobs(): JobView[] {
  return [
    { jobId: "job-7f3a9c21", model: "Llama-3.2-3B-Instruct", requester: "k9Qp3xZa", state: "running", generatedTokens: 84, startedAt: FIXTURE_NOW - 5_000, endedAt: null, detail: null },
    { jobId: "job-51d0e8b4", model: "Llama-3.2-3B-Instruct", requester: "Tm2rW8cD", state: "answered", generatedTokens: 256, startedAt: FIXTURE_NOW - 60_000, endedAt: FIXTURE_NOW - 52_000, detail: "length" },
    { jobId: "job-0c6b2a17", model: "Llama-3.2-3B-Instruct", requester: "Hx4nB7uE", state: "failed", generatedTokens: 12, startedAt: FIXTURE_NOW - 120_000, endedAt: FIXTURE_NOW - 118_500, detail: "ENGINE_PREEMPTED" },
  ];
}

export function fixtureModels(): ModelsView {
  return {
    installed: [
      {
        name: "Llama-3.2-3B-Instruct",
        sha256: LLAMA_SHA256,
        quantization: "Q4_K_M",
        fileBytes: 2_019_377_696,
        parameters: 3_212_749_824,
        contextSize: 4096,
        serving: true,
        fit: { gpuLayers: 29, onGpu: true, note: "All 29 layers on the RTX 4080 SUPER within 80% of its VRAM" },
      },
      {
        name: "Qwen2.5-1.5B-Instruct",
        sha256: QWEN_SHA256,
        quantization: "Q8_0",
        fileBytes: 1_646_574_336,
        parameters: 1_543_714_304,
        contextSize: 8192,
        serving: false,
        fit: { gpuLayers: 29, onGpu: true, note: "Fits on the GPU; not served (not in this node's model list)" },
      },
    ],
    downloads: [
      {
        root: MISTRAL_ROOT,
        name: "Mistral-7B-Instruct-v0.3",
        state: "fetching",
        receivedBytes: 1_610_612_736,
        totalBytes: 4_368_439_296,
        peers: 3,
        bytesPerSecond: 12_582_912,
        etaSeconds: 220,
        error: null,
        startedAt: FIXTURE_NOW - 128_000,
      },
    ],
  };
}

export function fixtureSettings(): SettingsView {
  return {
    policy: {
      mode: "when-idle",
      pauseKind: "soft",
      idleAfterSeconds: 300,
      schedule: [{ days: [1, 2, 3, 4, 5], start: "22:00", end: "07:00" }],
      limits: { maxTemperatureC: 83, temperatureResumeMarginC: 8, maxPowerW: null, maxPowerFractionOfLimit: 0.9, vramShare: 0.8, maxConcurrentJobs: 2 },
      pauseWhenGameRunning: true,
    },
    swarm: { private: true, swarmKeyFile: "/home/sam/.config/inferswarm/swarm.key", bootstrap: ["/dns4/boot.example.net/tcp/4001/p2p/12D3KooWBootstrapPeerAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"] },
    api: { url: "http://127.0.0.1:7481/v1", key: "isk-4f9c2a7d1e8b3c6a5f0d" },
    identityStorage: { kind: "os-keyring", note: "Encrypted with the system keyring (gnome-libsecret)." },
    startAtLogin: false,
  };
}

export interface FakeDashboardData {
  status: NodeStatusView;
  telemetry: TelemetryHistory;
  earnings: EarningsSummary;
  reputation: ReputationView;
  jobs: JobView[];
  models: ModelsView;
  settings: SettingsView;
  csv: { fileName: string; csv: string };
}

export function fixtureData(): FakeDashboardData {
  return {
    status: fixtureStatus(),
    telemetry: fixtureTelemetry(),
    earnings: fixtureEarnings(),
    reputation: fixtureReputation(),
    jobs: fixtureJobs(),
    models: fixtureModels(),
    settings: fixtureSettings(),
    csv: { fileName: "inferswarm-earnings-2025-06-14.csv", csv: "day,model,state,amount,tokens\n2025-06-14,Llama-3.2-3B-Instruct,pending,4.2,9000\n" },
  };
}
