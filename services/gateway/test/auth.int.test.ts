import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createSigner } from 'fast-jwt';
import { Redis } from 'ioredis';
import { accessChangedChannel, createRedis } from '@hexa/kit';
import { eventually, query, serviceKeyEnv, testRedisUrl, unreachableRedisUrl } from '@hexa/testing';
import { verifyPassword, type PasswordVerifier } from '@hexa/membership';
import { buildGatewayApp, loadGatewayConfig } from '../src/index.js';
import { ownerLogin, startStack, type Stack } from './stack.js';

const accountBudget = 3;
const addressBudgetPerMinute = 10;
// A personal access token stays cached for ten minutes: only an announcement can make a revocation count in time.
const tenMinutes = 600_000;

/** Membership's real argon2 verifier, counted. */
let passwordChecks = 0;
const countingVerifier: PasswordVerifier = async (hash, candidate) => {
  passwordChecks += 1;
  return verifyPassword(hash, candidate);
};

let stack: Stack;
let ownerToken: string;
beforeAll(async () => {
  stack = await startStack({
    membershipEnv: { LOGIN_MAX_FAILURES: String(accountBudget) },
    env: { LOGIN_RATE_LIMIT_PER_MINUTE: String(addressBudgetPerMinute), PERSONAL_ACCESS_TOKEN_CACHE_TTL_MS: String(tenMinutes) },
    verifyPassword: countingVerifier,
  });
  ownerToken = await stack.login(ownerLogin.email, ownerLogin.password);
});
afterAll(() => stack.close());

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A sign-in through the gateway from a given client address. */
function login(email: string, password: string, from: string, extra: { headers?: Record<string, string>; body?: Record<string, unknown> } = {}) {
  return stack.call({ method: 'POST', url: '/api/auth/login', remoteAddress: from, headers: extra.headers ?? {}, payload: { email, password, ...extra.body } });
}

function expectTooManyRequests(response: Awaited<ReturnType<Stack['call']>>): void {
  expect(response.statusCode).toBe(429);
  expect(response.headers['content-type']).toContain('application/problem+json');
  expect(response.json()).toMatchObject({ status: 429, code: 'too_many_requests' });
  expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
}

describe('when an access token is not one membership signed for this API', () => {
  const iat = () => Math.floor(Date.now() / 1000);
  it.each([
    ['signed with HS256 (the algorithm is pinned to EdDSA)', () => createSigner({ key: 'a shared secret', algorithm: 'HS256' })({ sub: 'x', iss: 'hexa-membership', aud: 'hexa-api', exp: iat() + 60 })],
    ['for another audience', () => createSigner({ key: stack.keys.privateKey, algorithm: 'EdDSA' })({ sub: 'x', iss: 'hexa-membership', aud: 'another-api', exp: iat() + 60 })],
    ['from another issuer', () => createSigner({ key: stack.keys.privateKey, algorithm: 'EdDSA' })({ sub: 'x', iss: 'someone-else', aud: 'hexa-api', exp: iat() + 60 })],
    ['without a subject', () => createSigner({ key: stack.keys.privateKey, algorithm: 'EdDSA' })({ iss: 'hexa-membership', aud: 'hexa-api', exp: iat() + 60 })],
    ['without an expiry', () => createSigner({ key: stack.keys.privateKey, algorithm: 'EdDSA' })({ sub: 'x', iss: 'hexa-membership', aud: 'hexa-api' })],
    ['not a token at all', () => 'not-a-jwt'],
  ])('answers 401 invalid_token for a token %s', async (_case, token) => {
    const response = await stack.call({ method: 'GET', url: '/api/me', token: token() });
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect([response.statusCode, response.json().code]).toEqual([401, 'invalid_token']);
  });

  it.each([['Basic b3duZXI6cGFzcw=='], ['Bearer two parts'], ['Bearer']])('answers 401 invalid_token for `Authorization: %s`', async (authorization) => {
    const response = await stack.call({ method: 'GET', url: '/api/me', headers: { authorization } });
    expect([response.statusCode, response.json().code]).toEqual([401, 'invalid_token']);
  });

  it('accepts the same valid token again and again (served from the verified-token cache)', async () => {
    const answers = await Promise.all(Array.from({ length: 5 }, () => stack.call({ method: 'GET', url: '/api/me', token: ownerToken })));
    expect(answers.map((answer) => answer.statusCode)).toEqual([200, 200, 200, 200, 200]);
  });

  it('checks a token\'s signature once: the verifier that requests use answers it again from its cache', async () => {
    const token = await stack.login(ownerLogin.email, ownerLogin.password);
    expect((await stack.call({ method: 'GET', url: '/api/me', token })).statusCode).toBe(200);
    // Without options, `jwt.verify` and `request.jwtVerify()` share @fastify/jwt's one verifier. A verifier without a
    // cache parses and checks the token anew each time (a new object); a cached one hands back what it kept.
    const first = stack.gateway.jwt.verify<{ sub: string }>(token);
    expect(first.sub).toEqual(expect.any(String));
    expect(stack.gateway.jwt.verify(token)).toBe(first);
  });
});

describe('when 40 wrong passwords for one account arrive at once, from 40 addresses', () => {
  it('checks at most the account\'s budget of them and answers 429 with Retry-After to the rest', async () => {
    await stack.createUser('besieged@example.org', 'MEMBER');
    passwordChecks = 0;
    const responses = await Promise.all(Array.from({ length: 40 }, (_, index) => login('besieged@example.org', `guess ${index}`, `192.0.2.${index + 1}`)));
    expect(passwordChecks).toBeLessThanOrEqual(accountBudget);
    const refused = responses.filter((response) => response.statusCode === 429);
    expect(responses.filter((response) => response.statusCode === 401)).toHaveLength(passwordChecks);
    expect(refused).toHaveLength(40 - passwordChecks);
    for (const response of refused) expectTooManyRequests(response);
  });
});

describe('when fifty wrong logins for made-up e-mails come from one address', () => {
  it('slows that address, while a real account still signs in from another, its own budget untouched', async () => {
    const colleague = 'colleague@example.org';
    await stack.createUser(colleague, 'MEMBER');
    passwordChecks = 0;
    const attack = await Promise.all(Array.from({ length: 50 }, (_, index) => login(`made-up-${index}@example.org`, 'guess', '198.51.100.1')));
    const refused = attack.filter((response) => response.statusCode === 429);
    expect(refused).toHaveLength(50 - addressBudgetPerMinute);
    for (const response of refused) expectTooManyRequests(response);
    // Refused at the gateway: membership checked no password for them.
    expect(passwordChecks).toBe(addressBudgetPerMinute);
    // Counted in Redis, where every gateway replica sees the same budget.
    const redis = new Redis(testRedisUrl);
    try {
      expect(await redis.keys(`${stack.queuePrefix}:rate-limit:*`)).not.toEqual([]);
    } finally {
      redis.disconnect();
    }

    const signedIn = await login(colleague, `password of ${colleague}`, '198.51.100.2');
    expect(signedIn.statusCode).toBe(200);
    expect(await query(`select * from "${stack.schemas.membership}".login_failures where key = $1`, [`email:${colleague}`])).toEqual([]);
    // The attacked address stays slowed for everyone until its minute is over.
    expectTooManyRequests(await login(colleague, `password of ${colleague}`, '198.51.100.1'));
  });
});

describe('when clients sign in through a load balancer the gateway trusts (HEXA_TRUST_PROXY)', () => {
  const balancer = '192.0.2.250';
  const budget = 3;
  let behindBalancer: Awaited<ReturnType<Stack['startGateway']>>;
  beforeAll(async () => {
    behindBalancer = await stack.startGateway({ env: { HEXA_TRUST_PROXY: balancer, LOGIN_RATE_LIMIT_PER_MINUTE: String(budget) } });
  });
  let attempt = 0;
  /** A wrong sign-in for a made-up account (no account's own budget is spent), from `peer`, naming `forwardedFor`. */
  const wrongLogin = (peer: string, forwardedFor: string) =>
    behindBalancer.inject({ method: 'POST', url: '/api/auth/login', remoteAddress: peer, headers: { 'x-forwarded-for': forwardedFor }, payload: { email: `nobody-${(attempt += 1)}@example.org`, password: 'guess' } });
  const statuses = async (count: number, send: (index: number) => ReturnType<typeof wrongLogin>) => {
    const answers: number[] = [];
    for (let index = 0; index < count; index += 1) answers.push((await send(index)).statusCode);
    return answers;
  };

  it('gives each client behind it its own per-address budget', async () => {
    expect(await statuses(budget + 1, () => wrongLogin(balancer, '203.0.113.10'))).toEqual([401, 401, 401, 429]);
    // Another client through the same balancer is not slowed by the first one's attempts.
    expect(await statuses(budget, () => wrongLogin(balancer, '203.0.113.11'))).toEqual([401, 401, 401]);
    expectTooManyRequests(await wrongLogin(balancer, '203.0.113.10'));
  });

  it('does not let a peer it does not trust dodge the limit with a made-up X-Forwarded-For', async () => {
    const answers = await statuses(budget + 2, (index) => wrongLogin('198.51.100.77', `203.0.113.${100 + index}`));
    expect(answers).toEqual([401, 401, 401, 429, 429]);
  });
});

describe('when Redis is down', () => {
  it('still signs people in: the per-address limit is skipped, never a wall', async () => {
    const address = (app: Stack['membership']) => `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const gateway = await buildGatewayApp({
      config: loadGatewayConfig({
        ...serviceKeyEnv('gateway'),
        REDIS_URL: unreachableRedisUrl,
        HEXA_QUEUE_PREFIX: stack.queuePrefix,
        LOG_LEVEL: 'silent',
        HEXA_JWT_PUBLIC_KEY: stack.keys.publicKey,
        MEMBERSHIP_URL: address(stack.membership),
        WORKSPACES_URL: address(stack.workspaces),
        LOGIN_RATE_LIMIT_PER_MINUTE: '2',
      }),
      redis: createRedis(unreachableRedisUrl),
      subscriber: createRedis(unreachableRedisUrl, 'subscriber'),
    });
    try {
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const response = await gateway.inject({ method: 'POST', url: '/api/auth/login', remoteAddress: '198.51.100.9', payload: ownerLogin });
        expect(response.statusCode).toBe(200);
      }
    } finally {
      await gateway.close();
    }
  });
});

describe('when a browser signs in and refreshes through the gateway', () => {
  it('keeps the refresh token in the cookie even when the page asks for it in the body', async () => {
    const browser = await login(ownerLogin.email, ownerLogin.password, '198.51.100.20', { headers: { origin: 'http://localhost:8080', 'sec-fetch-site': 'same-origin' }, body: { refreshTokenIn: 'body' } });
    expect(browser.statusCode).toBe(200);
    expect(browser.json()).not.toHaveProperty('refreshToken');
    expect(browser.cookies.find((cookie) => cookie.name === 'hexa_refresh')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });

    const script = await login(ownerLogin.email, ownerLogin.password, '198.51.100.20', { body: { refreshTokenIn: 'body' } });
    expect(script.json().refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(script.cookies).toEqual([]);
  });

  it('answers 200 to two tabs refreshing the same cookie at once, and both go on', async () => {
    const signedIn = await login(ownerLogin.email, ownerLogin.password, '198.51.100.21', { headers: { origin: 'http://localhost:8080' } });
    const cookie = `hexa_refresh=${signedIn.cookies.find((item) => item.name === 'hexa_refresh')!.value}`;
    const tabs = await Promise.all([0, 1].map(() => stack.call({ method: 'POST', url: '/api/auth/refresh', headers: { cookie, origin: 'http://localhost:8080' } })));
    expect(tabs.map((tab) => tab.statusCode)).toEqual([200, 200]);
    for (const tab of tabs) {
      const next = `hexa_refresh=${tab.cookies.find((item) => item.name === 'hexa_refresh')!.value}`;
      expect((await stack.call({ method: 'POST', url: '/api/auth/refresh', headers: { cookie: next } })).statusCode).toBe(200);
    }
  });
});

describe('when a REST client uses a personal access token', () => {
  async function createToken(token: string, payload: Record<string, unknown>) {
    const response = await stack.call({ method: 'POST', url: '/api/me/tokens', token, payload });
    expect(response.statusCode).toBe(201);
    return response.json<{ id: string; token: string; name: string }>();
  }

  it('is created once, works through the gateway, is listed without its secret, and is refused once revoked', async () => {
    const created = await createToken(ownerToken, { name: 'reporting script', expiresInDays: 30 });
    expect(created.token).toMatch(/^hexa_pat_[A-Za-z0-9_-]{43}$/);

    const me = await stack.call({ method: 'GET', url: '/api/me', token: created.token });
    expect([me.statusCode, me.json().email]).toEqual([200, ownerLogin.email]);
    const workspace = await stack.call({ method: 'POST', url: '/api/workspaces', token: created.token, payload: { name: 'Made By Script' } });
    expect(workspace.statusCode).toBe(201);

    const listed = await stack.call({ method: 'GET', url: '/api/me/tokens', token: ownerToken });
    expect(listed.json().items).toContainEqual(expect.objectContaining({ id: created.id, name: 'reporting script', scope: 'full' }));
    expect(listed.body).not.toContain(created.token);
    const [row] = await query<{ token_hash: string }>(`select token_hash from "${stack.schemas.membership}".personal_access_tokens where id = $1`, [created.id]);
    expect(row!.token_hash).toBe(sha256(created.token));

    expect((await stack.call({ method: 'DELETE', url: `/api/me/tokens/${created.id}`, token: ownerToken })).statusCode).toBe(204);
    const refused = await eventually(async () => {
      const response = await stack.call({ method: 'GET', url: '/api/me', token: created.token });
      return response.statusCode === 401 ? response : undefined;
    }, 2_000, 20);
    expect(refused.json().code).toBe('invalid_token');
  });

  it('is served from the gateway\'s cache until membership announces a change for its owner', async () => {
    const created = await createToken(ownerToken, { name: 'cached' });
    expect((await stack.call({ method: 'GET', url: '/api/me', token: created.token })).statusCode).toBe(200);
    // Gone from the database without an announcement: the cached resolution still answers.
    await query(`delete from "${stack.schemas.membership}".personal_access_tokens where id = $1`, [created.id]);
    expect((await stack.call({ method: 'GET', url: '/api/me', token: created.token })).statusCode).toBe(200);

    const me = (await stack.call({ method: 'GET', url: '/api/me', token: ownerToken })).json<{ id: string }>();
    const publisher = new Redis(testRedisUrl);
    try {
      await publisher.publish(accessChangedChannel(stack.queuePrefix), me.id);
    } finally {
      publisher.disconnect();
    }
    await eventually(async () => ((await stack.call({ method: 'GET', url: '/api/me', token: created.token })).statusCode === 401 ? true : undefined), 2_000, 20);
  });

  it('answers 401 token_expired for an expired token', async () => {
    const created = await createToken(ownerToken, { name: 'short-lived', expiresInDays: 1 });
    await query(`update "${stack.schemas.membership}".personal_access_tokens set expires_at = now() - interval '1 second' where id = $1`, [created.id]);
    const response = await stack.call({ method: 'GET', url: '/api/me', token: created.token });
    expect([response.statusCode, response.json().code]).toEqual([401, 'token_expired']);
  });

  it('answers 401 invalid_token for a malformed or unknown one', async () => {
    for (const token of ['hexa_pat_short', `hexa_pat_${'A'.repeat(43)}`]) {
      const response = await stack.call({ method: 'GET', url: '/api/me', token });
      expect([response.statusCode, response.json().code]).toEqual([401, 'invalid_token']);
    }
  });

  it('lets a read-only token read but refuses it any other operation with 403', async () => {
    const readOnly = await createToken(ownerToken, { name: 'dashboard', scope: 'read-only' });
    expect((await stack.call({ method: 'GET', url: '/api/workspaces', token: readOnly.token })).statusCode).toBe(200);
    const write = await stack.call({ method: 'POST', url: '/api/workspaces', token: readOnly.token, payload: { name: 'Should Not Exist' } });
    expect([write.statusCode, write.json().code]).toEqual([403, 'forbidden']);
    const rows = await query(`select 1 from "${stack.schemas.workspaces}".workspaces where name = 'Should Not Exist'`);
    expect(rows).toEqual([]);
  });

  it('cannot create or revoke tokens (a signed-in session can), but may list them', async () => {
    const full = await createToken(ownerToken, { name: 'full' });
    const mint = await stack.call({ method: 'POST', url: '/api/me/tokens', token: full.token, payload: { name: 'minted by a token' } });
    expect([mint.statusCode, mint.json().code]).toEqual([403, 'forbidden']);
    const revoke = await stack.call({ method: 'DELETE', url: `/api/me/tokens/${full.id}`, token: full.token });
    expect([revoke.statusCode, revoke.json().code]).toEqual([403, 'forbidden']);
    expect((await stack.call({ method: 'GET', url: '/api/me/tokens', token: full.token })).statusCode).toBe(200);
    expect((await stack.call({ method: 'GET', url: '/api/me', token: full.token })).statusCode).toBe(200);
  });

  it('cannot be revoked by another user (404), and keeps working', async () => {
    const owned = await createToken(ownerToken, { name: 'owner only' });
    const other = await stack.createUser('other@example.org', 'MEMBER');
    const response = await stack.call({ method: 'DELETE', url: `/api/me/tokens/${owned.id}`, token: other.token });
    expect([response.statusCode, response.json().code]).toEqual([404, 'not_found']);
    expect((await stack.call({ method: 'GET', url: '/api/me', token: owned.token })).statusCode).toBe(200);
  });
});
