import { jwtVerify, importSPKI } from 'jose';
import { query } from '@hexa/testing';
import { createUsersService, type MembershipDatabase } from '../src/index.js';
import { createDatabase } from '@hexa/kit';
import { startMembership, type MembershipHarness } from './harness.js';

let harness: MembershipHarness;
const anonymous = { kind: 'anonymous' } as const;
const password = 'correct horse battery staple';

beforeAll(async () => {
  harness = await startMembership({ LOGIN_MAX_FAILURES: '3' });
  const db = createDatabase<MembershipDatabase>({ url: harness.config.DATABASE_URL, schema: harness.schema });
  await createUsersService({ db }).seedOwner({ email: 'Owner@Example.org', name: 'Olive Owner', password });
  await db.destroy();
});
afterAll(() => harness.close());

async function login(email: string, pass: string, forwardedFor = '10.0.0.1') {
  return harness.app.inject({
    method: 'POST',
    url: '/auth/login',
    headers: { ...harness.as(anonymous, 'login'), 'x-forwarded-for': forwardedFor },
    payload: { email, password: pass },
  });
}

describe('when the owner signs in with the right password', () => {
  it('answers 200 with an EdDSA access token, a refresh token in body and httpOnly cookie, and the user', async () => {
    const response = await login('owner@example.org', password);
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, user: { email: 'owner@example.org', name: 'Olive Owner', organizationRole: 'OWNER' } });
    const { payload, protectedHeader } = await jwtVerify(body.accessToken, await importSPKI(harness.publicKey, 'EdDSA'), { audience: 'hexa-api', issuer: 'hexa-membership' });
    expect(protectedHeader.alg).toBe('EdDSA');
    expect(payload.sub).toBe(body.user.id);
    const cookie = String(response.headers['set-cookie']);
    expect(cookie).toContain(`hexa_refresh=${body.refreshToken}`);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\/api\/auth/);
    const [stored] = await query<{ token_hash: string }>(`select token_hash from "${harness.schema}".refresh_tokens where user_id = $1`, [body.user.id]);
    expect(stored?.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored?.token_hash).not.toContain(body.refreshToken);
  });

  it('stores the password as an argon2id hash', async () => {
    const [row] = await query<{ password_hash: string }>(`select password_hash from "${harness.schema}".users where email = 'owner@example.org'`);
    expect(row?.password_hash).toMatch(/^\$argon2id\$/);
  });
});

describe('when the password or e-mail is wrong', () => {
  it('answers 401 invalid_credentials as problem+json, the same for both', async () => {
    const wrongPassword = await login('owner@example.org', 'wrong password!', '10.0.0.2');
    const wrongEmail = await login('nobody@example.org', password, '10.0.0.2');
    for (const response of [wrongPassword, wrongEmail]) {
      expect(response.statusCode).toBe(401);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.json()).toMatchObject({ status: 401, code: 'invalid_credentials' });
    }
  });
});

describe('when someone keeps guessing one e-mail', () => {
  it('answers 429 with Retry-After once the budget is spent, even for the right password', async () => {
    const email = 'target@example.org';
    for (let attempt = 0; attempt < 3; attempt += 1) expect((await login(email, 'guess', '10.0.0.3')).statusCode).toBe(401);
    const limited = await login(email, 'guess', '10.0.0.4');
    expect(limited.statusCode).toBe(429);
    expect(limited.json().code).toBe('too_many_requests');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('when a refresh token is used', () => {
  it('rotates it: the new one works once, and reusing an old one ends the whole family', async () => {
    const first = (await login('owner@example.org', password, '10.0.0.5')).json();
    const headers = harness.as(anonymous, 'refreshSession');
    const second = await harness.app.inject({ method: 'POST', url: '/auth/refresh', headers, payload: { refreshToken: first.refreshToken } });
    expect(second.statusCode).toBe(200);
    expect(second.json().refreshToken).not.toBe(first.refreshToken);

    const reuse = await harness.app.inject({ method: 'POST', url: '/auth/refresh', headers, payload: { refreshToken: first.refreshToken } });
    expect(reuse.statusCode).toBe(401);
    expect(reuse.json().code).toBe('invalid_token');

    // The family is revoked: even the newest token no longer works.
    const afterReuse = await harness.app.inject({ method: 'POST', url: '/auth/refresh', headers, payload: { refreshToken: second.json().refreshToken } });
    expect(afterReuse.statusCode).toBe(401);
  });

  it('reads the token from the cookie when the body has none', async () => {
    const first = (await login('owner@example.org', password, '10.0.0.6')).json();
    const response = await harness.app.inject({ method: 'POST', url: '/auth/refresh', headers: { ...harness.as(anonymous, 'refreshSession'), cookie: `hexa_refresh=${first.refreshToken}` } });
    expect(response.statusCode).toBe(200);
  });

  it('answers 401 unauthenticated when no token is sent', async () => {
    const response = await harness.app.inject({ method: 'POST', url: '/auth/refresh', headers: harness.as(anonymous, 'refreshSession') });
    expect(response.statusCode).toBe(401);
    expect(response.json().code).toBe('unauthenticated');
  });
});

describe('when the user signs out', () => {
  it('answers 204, clears the cookie, and the refresh token stops working', async () => {
    const session = (await login('owner@example.org', password, '10.0.0.7')).json();
    const out = await harness.app.inject({ method: 'POST', url: '/auth/logout', headers: harness.as(anonymous, 'logout'), payload: { refreshToken: session.refreshToken } });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/hexa_refresh=;/);
    const refresh = await harness.app.inject({ method: 'POST', url: '/auth/refresh', headers: harness.as(anonymous, 'refreshSession'), payload: { refreshToken: session.refreshToken } });
    expect(refresh.statusCode).toBe(401);
  });
});

describe('when a request does not come through the gateway', () => {
  it('answers 401 without an internal token and with a forged one', async () => {
    const bare = await harness.app.inject({ method: 'POST', url: '/auth/login', payload: { email: 'owner@example.org', password } });
    expect(bare.statusCode).toBe(401);
    expect(bare.json().code).toBe('unauthenticated');
    const forged = await harness.app.inject({ method: 'POST', url: '/auth/login', headers: { 'x-hexa-internal': 'eyJhbGciOiJIUzI1NiJ9.e30.forged' }, payload: { email: 'owner@example.org', password } });
    expect(forged.statusCode).toBe(401);
    expect(forged.json().code).toBe('invalid_token');
  });
});
