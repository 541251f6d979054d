import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createHttpApp } from '@hexa/kit';
import { registerConsole } from '../src/console.js';

/** A gateway-like app (kit conventions, one API route) serving a console build from `root`. */
async function appServing(root: string): Promise<FastifyInstance> {
  const app = createHttpApp({ service: 'gateway', logLevel: 'silent', platformPrefix: '/api' });
  app.get('/api/ping', async () => ({ pong: true }));
  await registerConsole(app, { root, apiPrefix: '/api' });
  await app.ready();
  return app;
}

describe('the console served by the gateway', () => {
  let root: string;
  let app: FastifyInstance;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'hexa-console-'));
    mkdirSync(join(root, 'assets'));
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>Hexa</title><div id="app"></div>');
    writeFileSync(join(root, 'assets', 'index-abc123.js'), 'console.log("hexa")');
    writeFileSync(join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    writeFileSync(join(root, '.env'), 'SECRET=1');
    app = await appServing(root);
  });
  afterAll(async () => {
    await app.close();
    rmSync(root, { recursive: true, force: true });
  });

  describe('when a browser opens the console', () => {
    it('answers index.html at /, always revalidated, with a strict content security policy', async () => {
      const response = await app.inject({ url: '/' });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.body).toContain('<div id="app">');
      expect(response.headers['cache-control']).toBe('no-cache');
      expect(response.headers['content-security-policy']).toContain("script-src 'self'");
      expect(response.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(response.headers['x-content-type-options']).toBe('nosniff');
    });

    it('answers index.html for a console route, so a reload or a shared link works', async () => {
      const response = await app.inject({ url: '/w/malaria-bf/settings?tab=general' });
      expect(response.statusCode).toBe(200);
      expect(response.body).toContain('<div id="app">');
    });

    it('serves hashed assets with a year-long immutable cache', async () => {
      const response = await app.inject({ url: '/assets/index-abc123.js' });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/javascript/);
      expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    });

    it('serves other files of the build with a short cache', async () => {
      const response = await app.inject({ url: '/favicon.svg' });
      expect(response.statusCode).toBe(200);
      expect(response.headers['cache-control']).toBe('public, max-age=3600');
    });
  });

  describe('when a path is under /api', () => {
    it('leaves the API alone', async () => {
      const response = await app.inject({ url: '/api/ping' });
      expect(response.json()).toEqual({ pong: true });
    });

    it('answers an unknown API path with problem+json, never the console', async () => {
      for (const url of ['/api/nope', '/api', '/api/workspaces/x/unknown']) {
        const response = await app.inject({ url });
        expect(response.statusCode).toBe(404);
        expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(response.json().code).toBe('route_not_found');
      }
    });
  });

  describe('when an API path has a part longer than any parameter may be', () => {
    it('answers 414 uri_too_long, as the router does without the console', async () => {
      const response = await app.inject({ url: `/api/workspaces/${'a'.repeat(10_000)}` });
      expect(response.statusCode).toBe(414);
      expect(response.json().code).toBe('uri_too_long');
    });
  });

  describe('when a path tries to leave the build or reach a dotfile', () => {
    it('answers the console page, never the file', async () => {
      for (const url of ['/.env', '/../package.json', '/%2e%2e/%2e%2e/etc/passwd', '/assets/..%2f..%2fpackage.json']) {
        const response = await app.inject({ url });
        expect(response.statusCode).toBe(200);
        expect(response.body).toContain('<div id="app">');
        expect(response.body).not.toContain('SECRET');
      }
    });
  });

  describe('when the console is not built', () => {
    it('says how to build it, and the API still works', async () => {
      const empty = mkdtempSync(join(tmpdir(), 'hexa-console-empty-'));
      const bare = await appServing(join(empty, 'dist'));
      try {
        const page = await bare.inject({ url: '/w/anything' });
        expect(page.statusCode).toBe(503);
        expect(page.body).toContain('pnpm console:build');
        expect((await bare.inject({ url: '/api/ping' })).statusCode).toBe(200);
      } finally {
        await bare.close();
        rmSync(empty, { recursive: true, force: true });
      }
    });
  });
});
