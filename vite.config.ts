import path from "node:path";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

// The dashboard renderer (src-renderer) → out/renderer. Relative asset URLs (base "./") so the same build
// works under Electron's app://dashboard/ protocol and from the headless node's HTTP root.
const root = path.resolve(import.meta.dirname, "src-renderer");

/** The dev server injects an inline React Refresh preamble, which the page's CSP would block; builds keep the CSP. */
function dropCspInDev(): Plugin {
  return {
    name: "inferswarm:drop-csp-in-dev",
    apply: "serve",
    transformIndexHtml: (html) => html.replace(/<meta\s+http-equiv="Content-Security-Policy"[\s\S]*?\/>/, ""),
  };
}

export default defineConfig({
  root,
  base: "./",
  plugins: [react(), dropCspInDev()],
  build: {
    outDir: path.resolve(import.meta.dirname, "out/renderer"),
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    chunkSizeWarningLimit: 1024,
  },
  server: {
    host: "127.0.0.1",
    // `npm run dev:renderer` against a running `inferswarm node` (dashboard on 7480); open the dev URL with its #token=.
    proxy: {
      "/bridge": { target: `http://127.0.0.1:${process.env.INFERSWARM_DASHBOARD_PORT ?? "7480"}`, changeOrigin: true, ws: true },
    },
  },
});
