import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { accessChangedChannel } from '@hexa/kit';
import { eventually, testRedisUrl, tokensOf } from '@hexa/testing';
import { ownerLogin, startStack, type Stack } from './stack.js';

// A cache that would hold a role for ten minutes: only an announcement can make the gateway see a change in time.
const tenMinutes = 600_000;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ accessCacheTtlMs: tenMinutes });
});
afterAll(() => stack.close());

/** Grants a role the way the platform does: through membership, which announces the change. */
async function makeAdmin(slug: string, workspaceId: string, userId: string): Promise<void> {
  const token = tokensOf('workspaces').sign({ audience: 'membership', operation: 'PUT /internal/workspaces/{slug}/creator/{userId}', caller: { kind: 'service', service: 'workspaces' } });
  const response = await stack.membership.inject({
    method: 'PUT',
    url: `/internal/workspaces/${slug}/creator/${userId}`,
    headers: { 'x-hexa-internal': token },
    payload: { workspaceId },
  });
  expect(response.json()).toEqual({ outcome: 'granted' });
}

describe('when a member\'s access changes while the gateway has it cached', () => {
  it('answers with the new role at once, long before the cache would expire', async () => {
    const owner = await stack.login(ownerLogin.email, ownerLogin.password);
    const created = await stack.call({ method: 'POST', url: '/api/workspaces', token: owner, payload: { name: 'Cache Watch' } });
    expect(created.statusCode).toBe(201);
    const workspace = created.json<{ id: string; slug: string }>();
    const member = await stack.createUser('mira@example.org', 'MEMBER');

    // Both answers below are now cached: a plain member may not create workspaces and cannot see this one.
    const refused = await stack.call({ method: 'POST', url: '/api/workspaces', token: member.token, payload: { name: 'Not Yet' } });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'forbidden' });
    const hidden = await stack.call({ method: 'GET', url: `/api/workspaces/${workspace.slug}`, token: member.token });
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json()).toMatchObject({ code: 'workspace_not_found' });

    await makeAdmin(workspace.slug, workspace.id, member.id);

    const seen = await eventually(async () => {
      const response = await stack.call({ method: 'GET', url: `/api/workspaces/${workspace.slug}`, token: member.token });
      return response.statusCode === 200 ? response : undefined;
    }, 5_000);
    expect(seen.json()).toMatchObject({ slug: workspace.slug, role: 'ADMIN', roleSource: 'member' });
    // Admin of one workspace now: the member may create workspaces too.
    const allowed = await stack.call({ method: 'POST', url: '/api/workspaces', token: member.token, payload: { name: 'Now Allowed' } });
    expect(allowed.statusCode).toBe(201);
    expect(allowed.json()).toMatchObject({ slug: 'now-allowed', role: 'ADMIN' });
  });
});

/**
 * Another gateway in front of the same services, once it listens for announcements: its cache is
 * emptied when that subscription comes up, which must not happen in the middle of a test.
 */
async function startListeningGateway(env: Record<string, string>): Promise<FastifyInstance> {
  const redis = new Redis(testRedisUrl);
  const channel = accessChangedChannel(stack.queuePrefix);
  const subscribers = async () => Number((await redis.pubsub('NUMSUB', channel))[1]);
  try {
    const before = await subscribers();
    const gateway = await stack.startGateway({ env });
    await eventually(async () => ((await subscribers()) > before ? true : undefined));
    return gateway;
  } finally {
    redis.disconnect();
  }
}

/** The gateway's `hexa_gateway_access_cache_entries` gauge, as Prometheus would scrape it. */
async function cachedRoles(gateway: FastifyInstance): Promise<number> {
  const metrics = (await gateway.inject({ method: 'GET', url: '/api/metrics' })).body;
  const value = /^hexa_gateway_access_cache_entries\{service="gateway"\} (\d+)$/m.exec(metrics)?.[1];
  if (value === undefined) throw new Error('no hexa_gateway_access_cache_entries in /api/metrics');
  return Number(value);
}

describe('when a signed-in user asks for many workspaces that do not exist', () => {
  it('keeps the gateway\'s cache within ACCESS_CACHE_MAX_ENTRIES, as its /metrics show', async () => {
    const maxEntries = 5;
    const gateway = await startListeningGateway({ ACCESS_CACHE_MAX_ENTRIES: String(maxEntries), ACCESS_CACHE_TTL_MS: String(tenMinutes) });
    const prober = await stack.createUser('prober@example.org', 'MEMBER');
    const probe = () => gateway.inject({ method: 'GET', url: `/api/workspaces/random-${randomBytes(6).toString('hex')}`, headers: { authorization: `Bearer ${prober.token}` } });

    expect(await cachedRoles(gateway)).toBe(0);
    for (let index = 0; index < 3; index += 1) expect((await probe()).statusCode).toBe(404);
    // Each answer is cached while there is room…
    expect(await cachedRoles(gateway)).toBe(3);
    for (let index = 0; index < 40; index += 1) expect((await probe()).statusCode).toBe(404);
    // …and no more than the bound however many slugs follow.
    expect(await cachedRoles(gateway)).toBe(maxEntries);
  });
});

interface HeldLookup {
  /** Which requests to hold: the first whose target matches. */
  matches: (url: string) => boolean;
  /** Called once membership has answered the held request (the answer is then kept back). */
  answered: () => void;
  /** The answer goes on to the gateway when this settles. */
  release: Promise<void>;
}

/**
 * A relay in front of membership that can hold back membership's answer to one request: a lookup
 * that membership answered, still on its way to the gateway.
 */
async function startMembershipRelay(target: string): Promise<{ url: string; targets: string[]; hold?: HeldLookup; close(): Promise<void> }> {
  const relay: { url: string; targets: string[]; hold?: HeldLookup; close(): Promise<void> } = {
    url: '',
    targets: [],
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  const server = createServer((incoming, outgoing) => {
    const url = incoming.url ?? '/';
    relay.targets.push(url);
    const hold = relay.hold?.matches(url) ? relay.hold : undefined;
    if (hold) delete relay.hold;
    const forwarded = httpRequest(new URL(url, target), { method: incoming.method, headers: incoming.headers }, (answer: IncomingMessage) => {
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.on('end', () => {
        void (async () => {
          if (hold) {
            hold.answered();
            await hold.release;
          }
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers).end(Buffer.concat(chunks));
        })();
      });
    });
    forwarded.on('error', () => outgoing.destroy());
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  relay.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return relay;
}

describe('when a member is removed while the gateway is looking up their role', () => {
  it('answers the request in flight, but does not cache that answer: the next request is refused at once', async () => {
    const relay = await startMembershipRelay(stack.urls.membership);
    try {
      // A cache that would keep the stale role ten minutes, were it stored.
      const gateway = await startListeningGateway({ MEMBERSHIP_URL: relay.url, ACCESS_CACHE_TTL_MS: String(tenMinutes) });
      const owner = await stack.login(ownerLogin.email, ownerLogin.password);
      const created = await stack.call({ method: 'POST', url: '/api/workspaces', token: owner, payload: { name: 'Race Track' } });
      expect(created.statusCode).toBe(201);
      const workspace = created.json<{ id: string; slug: string }>();
      const member = await stack.createUser('racer@example.org', 'MEMBER');
      await makeAdmin(workspace.slug, workspace.id, member.id);
      const asMember = () => gateway.inject({ method: 'GET', url: `/api/workspaces/${workspace.slug}`, headers: { authorization: `Bearer ${member.token}` } });
      const lookup = `/internal/access/${member.id}?workspace=${workspace.slug}`;

      let answered!: () => void;
      const membershipAnswered = new Promise<void>((resolve) => (answered = resolve));
      let release!: () => void;
      relay.hold = { matches: (url) => url === lookup, answered, release: new Promise<void>((resolve) => (release = resolve)) };
      const inFlight = asMember();
      // Membership has said "Admin"; that answer is still on its way to the gateway when the member is removed.
      await membershipAnswered;
      const removed = await gateway.inject({ method: 'DELETE', url: `/api/workspaces/${workspace.slug}/members/${member.id}`, headers: { authorization: `Bearer ${owner}` } });
      expect(removed.statusCode).toBe(204);
      release();
      // The request that was already under way is answered with what membership said then.
      expect((await inFlight).statusCode).toBe(200);

      const lookupsBefore = relay.targets.filter((url) => url === lookup).length;
      const after = await asMember();
      expect(after.statusCode).toBe(404);
      expect(after.json()).toMatchObject({ code: 'workspace_not_found' });
      // The gateway asked membership again rather than trust the answer fetched before the removal.
      expect(relay.targets.filter((url) => url === lookup).length).toBe(lookupsBefore + 1);
    } finally {
      await relay.close();
    }
  });
});
