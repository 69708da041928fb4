// Builds portal/ into dist/portal/: index.html plus content-hashed files under assets/, served by
// the server under / (src/gateway/portal-static.ts). No inline script or style in the output, so
// the page runs under the server's strict Content-Security-Policy.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/portal', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    // Never inline assets as data: URLs (the CSP allows none).
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'es2022',
    sourcemap: false,
  },
});
