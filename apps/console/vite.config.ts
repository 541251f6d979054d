import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

/**
 * The console is a static build (dist/) that the gateway serves at `/` with an
 * SPA fallback (services/gateway/src/console.ts); it talks to the gateway's
 * `/api` on the same origin, so the refresh cookie (SameSite=Strict, path
 * `/api/auth`) travels without any CORS set-up. `npm run dev` proxies `/api`
 * to a running gateway for the same reason.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [vue()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The gateway serves assets/ with a year-long immutable cache: every name carries a content hash.
    assetsDir: 'assets',
    sourcemap: false,
  },
  server: {
    proxy: { '/api': process.env.HEXA_GATEWAY_URL ?? 'http://127.0.0.1:8080' },
  },
});
