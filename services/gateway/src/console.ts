import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { httpError } from '@hexa/kit';

export interface ConsoleOptions {
  /** The console's build folder (apps/console/dist): index.html and assets/. */
  root: string;
  /** The API's prefix; nothing under it is ever answered with the console. */
  apiPrefix: string;
}

/**
 * What the console's page may load: its own scripts and styles only (the
 * build has no inline script), the API on the same origin, and images from
 * anywhere over https (a workspace's home page may show some). Markdown is
 * sanitised as well; this is the second wall.
 */
const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: https:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const notBuilt = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Hexa</title>
<p>The Hexa console is not built. Run <code>pnpm console:build</code> (<code>npm start</code> does it), then reload.</p>
<p>The API is at <a href="/api/docs">/api/docs</a>.</p></html>`;

/**
 * Serves the console's build at `/`: a file of the build when one matches
 * (hashed `assets/` cached for a year), `index.html` for every other path (the
 * console routes in the browser), and never anything under the API's prefix,
 * where an unknown path stays a problem+json `route_not_found`. A missing
 * build is not an error at boot (tests start gateways without one): the page
 * then says how to build it.
 */
export async function registerConsole(app: FastifyInstance, options: ConsoleOptions): Promise<void> {
  const root = resolve(options.root);
  const index = resolve(root, 'index.html');
  if (!existsSync(index)) app.log.warn({ root }, 'console build not found: / answers 503 until it is built');

  const config = app.initialConfig as { maxParamLength?: number; routerOptions?: { maxParamLength?: number } };
  const maxParamLength = config.routerOptions?.maxParamLength ?? config.maxParamLength ?? 100;

  // Its own scope: @fastify/swagger-ui registers @fastify/static too, and reply decorators may not clash.
  await app.register(async (scope) => {
    await scope.register(fastifyStatic, { root, serve: false });

    const page = (reply: FastifyReply) =>
      reply
        .header('content-security-policy', contentSecurityPolicy)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'same-origin')
        .header('x-frame-options', 'DENY');

    scope.get('/*', { schema: { hide: true } }, async (request, reply) => {
      const path = `/${(request.params as { '*': string })['*']}`;
      if (path === options.apiPrefix || path.startsWith(`${options.apiPrefix}/`)) {
        const rawPath = request.url.split('?')[0] ?? '';
        // The router falls back to this wildcard when a path parameter is longer than it allows: answer as it would have.
        if (rawPath.split('/').some((segment) => segment.length > maxParamLength)) throw httpError('uri_too_long', 'A part of the path is longer than any valid value.');
        throw httpError('route_not_found', `No operation ${request.method} ${rawPath}.`);
      }
      const file = await buildFile(root, path);
      if (file) {
        // Vite names every asset after its content, so a year-long immutable cache is safe.
        const hashed = file.startsWith(`assets${sep}`);
        return page(reply).sendFile(file, hashed ? { maxAge: '365d', immutable: true } : { maxAge: '1h' });
      }
      if (!existsSync(index)) return page(reply).code(503).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(notBuilt);
      // Always revalidated: a new build's index.html names new assets.
      return page(reply).header('cache-control', 'no-cache').sendFile('index.html', { cacheControl: false });
    });
  });
}

/** The path as a file of the build, relative to it; undefined for a folder, a dotfile, a missing file or a path that leaves the folder. */
async function buildFile(root: string, path: string): Promise<string | undefined> {
  const segments = path.split('/').filter(Boolean);
  if (segments.length === 0 || segments.some((segment) => segment.startsWith('.') || segment.includes('\\') || segment.includes('\0'))) return undefined;
  const full = resolve(root, ...segments);
  if (!full.startsWith(`${root}${sep}`)) return undefined;
  try {
    return (await stat(full)).isFile() ? full.slice(root.length + 1) : undefined;
  } catch {
    return undefined;
  }
}
