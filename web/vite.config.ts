/**
 * @module Vite build of the web app: `vite build web` writes `web/dist/index.html` and
 * content-hashed files under `web/dist/assets/` (the edge caches those for a year).
 */
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
  },
  // The operator plans are shared with the CLI: src/orchestration/plan.ts, outside web/.
  server: { fs: { allow: ['..'] } },
});
