// The contract's door: schemas and types shared by the renderer, the preload, the Electron shell and the core.
export * from "./dashboard-api.js";
