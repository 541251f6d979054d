import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInternalTokens, internalTokenHeader } from '@hexa/kit';
import type { Platform } from '../../deploy/local/test/platform.js';
import { load, median, type Figure } from '../load.js';
import { ratio, type Section } from '../report.js';

const connections = 50;

/**
 * Authorized `GET /api/workspaces/{slug}` through the gateway, against the same
 * request straight to the workspaces service (with the internal token the
 * gateway would have minted), against a bare Fastify hello.
 */
export async function gatewayOverhead(platform: Platform, settings: { duration: number; runs: number }): Promise<Section> {
  const token = await platform.login();
  const authorization = `Bearer ${token}`;
  const created = await fetch(`${platform.url}/api/workspaces`, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Bench Gateway' }) });
  const { slug } = (await created.json()) as { slug: string };
  const me = (await (await fetch(`${platform.url}/api/me`, { headers: { authorization } })).json()) as { id: string };

  const keys = join(platform.stateDir, 'service-keys');
  const gatewayTokens = createInternalTokens({
    service: 'gateway',
    privateKey: readFileSync(join(keys, 'gateway-private.pem'), 'utf8'),
    publicKeys: JSON.parse(readFileSync(join(keys, 'public-keys.json'), 'utf8')) as Record<string, string>,
  });
  // Lives 30 s: minted again before each run.
  const internalToken = () =>
    gatewayTokens.sign({
      audience: 'workspaces',
      operation: 'GET /workspaces/{slug}',
      caller: { kind: 'user', userId: me.id, organizationRole: 'OWNER', adminSomewhere: true, workspace: { slug, role: 'ADMIN', source: 'member' } },
    });

  const helloPort = platform.ports.gateway! + 50;
  const hello = fork(fileURLToPath(new URL('../hello.ts', import.meta.url)), [], { env: { ...process.env, PORT: String(helloPort) }, execArgv: ['--import', 'tsx'] });
  await new Promise((resolve) => hello.once('message', resolve));

  const runs: Record<string, Figure[]> = { gateway: [], direct: [], hello: [] };
  try {
    for (let run = 0; run < settings.runs; run += 1) {
      runs.gateway!.push(await load('through the gateway', { url: `${platform.url}/api/workspaces/${slug}`, headers: { authorization }, connections, duration: settings.duration }));
      runs.direct!.push(await load('straight to the workspaces service', { url: `http://127.0.0.1:${platform.ports.workspaces}/workspaces/${slug}`, headers: { [internalTokenHeader]: internalToken() }, connections, duration: Math.min(settings.duration, 25) }));
      runs.hello!.push(await load('bare Fastify hello', { url: `http://127.0.0.1:${helloPort}/hello`, connections, duration: settings.duration }));
    }
  } finally {
    hello.kill('SIGTERM');
  }
  const [gateway, direct, bare] = [median(runs.gateway!), median(runs.direct!), median(runs.hello!)];
  return {
    title: 'Gateway overhead',
    method: `Authorized \`GET /api/workspaces/{slug}\` at ${connections} connections: through the gateway (token verified, role resolved and cached, internal token minted, streamed to the service), against the same request sent straight to the workspaces service with the internal token the gateway would mint, against a bare Fastify hello in its own process.`,
    figures: [gateway, direct, bare],
    ratios: [
      ratio('gateway ÷ direct (throughput)', gateway.requestsPerSecond / direct.requestsPerSecond, { atLeast: 0.5 }),
      ratio('direct ÷ bare hello (throughput)', direct.requestsPerSecond / bare.requestsPerSecond, { atLeast: 0.3 }),
    ],
  };
}
