/// <reference types="vitest/config" />
import { defineConfig } from "vite";

// The bundle is committed and embedded in the server binary: file names carry only content
// hashes, so the same sources always build the same files.
export default defineConfig({
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: "es2020",
  },
  server: { proxy: { "/api": "http://127.0.0.1:3000" } },
  test: { environment: "happy-dom", include: ["src/**/*.test.{ts,tsx}"] },
});
