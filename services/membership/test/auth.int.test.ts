import { createVerifier } from 'fast-jwt';
import type { LightMyRequestResponse } from 'fastify';
import { createDatabase } from '@hexa/kit';
import { query } from '@hexa/testing';
import { createUsersService, verifyPassword, type MembershipDatabase, type PasswordVerifier } from '../src/index.js';
import { startMembership, type MembershipHarness } from './harness.js';

let harness: MembershipHarness;
const anonymous = { kind: 'anonymous' } as const;
const password = 'correct horse battery staple';
const budget = 3;

/** The real argon2 verifier, counted: how many passwords membership actually checked. */
let passwordChecks = 0;
const countingVerifier: PasswordVerifier = async (hash, candidate) => {
  passwordChecks += 1;
  return verifyPassword(hash, candidate);
};

beforeAll(async () => {
  harness = await startMembership({ LOGIN_MAX_FAILURES: String(budget) }, { verifyPassword: countingVerifier });
  const db = createDatabase<MembershipDatabase>({ url: harness.config.DATABASE_URL, schema: harness.schema });
  const users = createUsersService({ db });
  await users.seedOwner({ email: 'Owner@Example.org', name: 'Olive Owner', password });
  const [owner] = await query<{ id: string }>(`select id from "${harness.schema}".users where email = 'owner@example.org'`);
  const ownerCaller = { kind: 'user', userId: owner!.id, organizationRole: 'OWNER', adminSomewhere: false } as const;
  for (const name of ['target', 'besieged', 'steady', 'parallel', 'expiring', 'reused', 'browser']) {
    await users.createUser(ownerCaller, { email: `${name}@example.org`, name, password, organizationRole: 'MEMBER' });
  }
  await db.destroy();
});
afterAll(() => harness.close());

function login(email: string, pass: string, options: { headers?: Record<string, string>; refreshTokenIn?: 'cookie' | 'body' } = {}) {
  return harness.app.inject({
    method: 'POST',
    url: '/auth/login',
    headers: { ...harness.as(anonymous, 'login'), ...options.headers },
    payload: { email, password: pass, ...(options.refreshTokenIn ? { refreshTokenIn: options.refreshTokenIn } : {}) },
  });
}

function refresh(payload: Record<string, string> = {}, headers: Record<string, string> = {}) {
  return harness.app.inject({ method: 'POST', url: '/auth/refresh', headers: { ...harness.as(anonymous, 'refreshSession'), ...headers }, payload });
}

/** A session whose refresh token the client keeps itself (a non-browser client asks for it in the body). */
async function bodySession(email: string): Promise<{ refreshToken: string; user: { id: string } }> {
  const response = await login(email, password, { refreshTokenIn: 'body' });
  expect(response.statusCode).toBe(200);
  return response.json();
}

const refreshCookie = (response: LightMyRequestResponse) => response.cookies.find((cookie) => cookie.name === 'hexa_refresh');

async function familyOf(refreshToken: string) {
  const [row] = await query<{ id: string; expires_at: Date; revoked_at: Date | null }>(
    `select f.id, f.expires_at, f.revoked_at from "${harness.schema}".refresh_families f
       join "${harness.schema}".refresh_tokens t on t.family_id = f.id
      where t.token_hash = encode(sha256($1::bytea), 'hex')`,
    [refreshToken],
  );
  return row!;
}

describe('when the owner signs in with the right password from a browser', () => {
  it('answers 200 with an EdDSA access token and the user, and keeps the refresh token only in an httpOnly SameSite=Strict cookie', async () => {
    const response = await login('owner@example.org', password, { headers: { origin: 'http://localhost:8080' } });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, user: { email: 'owner@example.org', name: 'Olive Owner', organizationRole: 'OWNER' } });
    expect(body).not.toHaveProperty('refreshToken');
    const claims = createVerifier({ key: harness.publicKey, algorithms: ['EdDSA'], allowedIss: 'hexa-membership', allowedAud: 'hexa-api', complete: true })(body.accessToken);
    expect(claims.header.alg).toBe('EdDSA');
    expect(claims.payload.sub).toBe(body.user.id);
    expect(claims.payload.exp - claims.payload.iat).toBe(900);

    const cookie = refreshCookie(response)!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/api/auth' });
    // The default public URL is http://localhost:8080: no Secure flag, or the browser would drop the cookie.
    expect(cookie.secure).toBeUndefined();
    // The family's whole lifetime (REFRESH_TOKEN_TTL_DAYS), give or take the second the request took.
    expect(cookie.maxAge).toBeGreaterThan(30 * 86_400 - 60);
    expect(cookie.maxAge).toBeLessThanOrEqual(30 * 86_400);
    const [stored] = await query<{ token_hash: string }>(`select token_hash from "${harness.schema}".refresh_tokens where user_id = $1`, [body.user.id]);
    expect(stored?.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored?.token_hash).not.toContain(cookie.value);
  });

  it('stores the password as an argon2id hash', async () => {
    const [row] = await query<{ password_hash: string }>(`select password_hash from "${harness.schema}".users where email = 'owner@example.org'`);
    expect(row?.password_hash).toMatch(/^\$argon2id\$/);
  });
});

describe('when a client asks for the refresh token in the body', () => {
  it('gives it in the body and sets no cookie to a client that is not a browser', async () => {
    const response = await login('owner@example.org', password, { refreshTokenIn: 'body' });
    expect(response.statusCode).toBe(200);
    expect(response.json().refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(refreshCookie(response)).toBeUndefined();
  });

  it.each([
    ['an Origin header', { origin: 'https://evil.example' }],
    ['a Sec-Fetch-Site header', { 'sec-fetch-site': 'same-origin' }],
  ])('keeps it in the cookie for a request with %s (a browser: a script must never read it)', async (_case, headers) => {
    const response = await login('owner@example.org', password, { refreshTokenIn: 'body', headers });
    expect(response.statusCode).toBe(200);
    expect(response.json()).not.toHaveProperty('refreshToken');
    expect(refreshCookie(response)?.httpOnly).toBe(true);
  });

  it('sets the cookie and no body token when nothing is asked', async () => {
    const response = await login('owner@example.org', password);
    expect(response.json()).not.toHaveProperty('refreshToken');
    expect(refreshCookie(response)).toBeDefined();
  });
});

describe('when the platform is served over https', () => {
  let secure: MembershipHarness;
  beforeAll(async () => {
    secure = await startMembership({ HEXA_PUBLIC_URL: 'https://hexa.example.org/platform/' });
    const db = createDatabase<MembershipDatabase>({ url: secure.config.DATABASE_URL, schema: secure.schema });
    await createUsersService({ db }).seedOwner({ email: 'owner@example.org', name: 'Olive Owner', password });
    await db.destroy();
  });
  afterAll(() => secure.close());

  it('marks the refresh cookie Secure, under the public URL\'s path', async () => {
    const response = await secure.app.inject({ method: 'POST', url: '/auth/login', headers: secure.as(anonymous, 'login'), payload: { email: 'owner@example.org', password } });
    expect(response.statusCode).toBe(200);
    expect(refreshCookie(response)).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Strict', path: '/platform/api/auth' });
  });
});

describe('when the password or e-mail is wrong', () => {
  it('answers 401 invalid_credentials as problem+json, the same for both', async () => {
    const wrongPassword = await login('owner@example.org', 'wrong password!');
    const wrongEmail = await login('nobody@example.org', password);
    for (const response of [wrongPassword, wrongEmail]) {
      expect(response.statusCode).toBe(401);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.json()).toMatchObject({ status: 401, code: 'invalid_credentials' });
    }
  });
});

describe('when someone keeps guessing one account\'s password', () => {
  it('answers 429 with Retry-After once the budget is spent, even for the right password', async () => {
    for (let attempt = 0; attempt < budget; attempt += 1) expect((await login('target@example.org', 'guess')).statusCode).toBe(401);
    const limited = await login('target@example.org', password);
    expect(limited.statusCode).toBe(429);
    expect(limited.json().code).toBe('too_many_requests');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(900);
  });
});

describe('when 40 wrong passwords for one account arrive at once', () => {
  it('checks at most the budget of them and answers 429 with Retry-After to the rest', async () => {
    passwordChecks = 0;
    const responses = await Promise.all(Array.from({ length: 40 }, (_, index) => login('besieged@example.org', `guess ${index}`)));
    const statuses = responses.map((response) => response.statusCode);
    expect(passwordChecks).toBeLessThanOrEqual(budget);
    expect(statuses.filter((status) => status === 401)).toHaveLength(passwordChecks);
    expect(statuses.filter((status) => status === 429)).toHaveLength(40 - passwordChecks);
    for (const response of responses.filter((item) => item.statusCode === 429)) {
      expect(response.json().code).toBe('too_many_requests');
      expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    }
  });
});

describe('when the right password comes within the budget', () => {
  it('signs in and clears the account\'s counter, so earlier mistakes no longer count', async () => {
    for (let attempt = 0; attempt < budget - 1; attempt += 1) expect((await login('steady@example.org', 'typo')).statusCode).toBe(401);
    expect((await login('steady@example.org', password)).statusCode).toBe(200);
    expect(await query(`select 1 from "${harness.schema}".login_failures where key = 'email:steady@example.org'`)).toEqual([]);
    for (let attempt = 0; attempt < budget; attempt += 1) expect((await login('steady@example.org', 'typo')).statusCode).toBe(401);
  });
});

describe('when fifty wrong logins for made-up e-mails come from one address', () => {
  it('does not lock a real account out of that same address (per-address limits belong to the gateway)', async () => {
    const office = { 'x-forwarded-for': '203.0.113.7' };
    const attack = await Promise.all(Array.from({ length: 50 }, (_, index) => login(`nobody-${index}@example.org`, 'guess', { headers: office })));
    expect(attack.every((response) => response.statusCode === 401)).toBe(true);
    const colleague = await login('owner@example.org', password, { headers: office });
    expect(colleague.statusCode).toBe(200);
  });
});

describe('when a refresh token is used', () => {
  it('rotates it: a new token comes back the way the old one came, within the same family', async () => {
    const first = await bodySession('owner@example.org');
    const second = await refresh({ refreshToken: first.refreshToken });
    expect(second.statusCode).toBe(200);
    expect(second.json().refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(second.json().refreshToken).not.toBe(first.refreshToken);
    expect(refreshCookie(second)).toBeUndefined();
    expect((await familyOf(second.json().refreshToken)).id).toBe((await familyOf(first.refreshToken)).id);
  });

  it('reads the token from the cookie and answers with a new cookie, not a body token', async () => {
    const first = refreshCookie(await login('owner@example.org', password))!;
    const response = await refresh({}, { cookie: `hexa_refresh=${first.value}` });
    expect(response.statusCode).toBe(200);
    expect(response.json()).not.toHaveProperty('refreshToken');
    expect(refreshCookie(response)!.value).not.toBe(first.value);
  });

  it('answers 401 unauthenticated when no token is sent', async () => {
    const response = await refresh();
    expect(response.statusCode).toBe(401);
    expect(response.json().code).toBe('unauthenticated');
  });
});

describe('when two tabs refresh the same token at once', () => {
  it('answers 200 to both, with different tokens, and the family keeps working', async () => {
    const session = await bodySession('parallel@example.org');
    const answers = await Promise.all([refresh({ refreshToken: session.refreshToken }), refresh({ refreshToken: session.refreshToken })]);
    expect(answers.map((answer) => answer.statusCode)).toEqual([200, 200]);
    const [left, right] = answers.map((answer) => answer.json().refreshToken as string);
    expect(left).not.toBe(right);
    expect((await familyOf(session.refreshToken)).revoked_at).toBeNull();
    // Each tab goes on with its own token.
    for (const token of [left!, right!]) expect((await refresh({ refreshToken: token })).statusCode).toBe(200);
  });
});

describe('when a used refresh token comes back after the grace window', () => {
  it('answers 401 and ends every session of its family', async () => {
    const session = await bodySession('reused@example.org');
    const rotated = (await refresh({ refreshToken: session.refreshToken })).json().refreshToken as string;
    // The grace window (REFRESH_REUSE_GRACE_SECONDS) has passed since the first use.
    await query(`update "${harness.schema}".refresh_tokens set used_at = now() - interval '1 minute' where token_hash = encode(sha256($1::bytea), 'hex')`, [session.refreshToken]);

    const reuse = await refresh({ refreshToken: session.refreshToken });
    expect(reuse.statusCode).toBe(401);
    expect(reuse.json().code).toBe('invalid_token');
    expect((await familyOf(session.refreshToken)).revoked_at).not.toBeNull();
    // The newest token of the family, never used, no longer works either.
    const newest = await refresh({ refreshToken: rotated });
    expect([newest.statusCode, newest.json().code]).toEqual([401, 'invalid_token']);
  });
});

describe('when a session is rotated many times', () => {
  it('keeps the family\'s end: a rotated token expires when the family does, and the cookie counts down to it', async () => {
    const first = await bodySession('expiring@example.org');
    const family = await familyOf(first.refreshToken);
    let token = first.refreshToken;
    for (let rotation = 0; rotation < 3; rotation += 1) {
      const response = await refresh({ refreshToken: token });
      expect(response.json().refreshTokenExpiresAt).toBe(family.expires_at.toISOString());
      token = response.json().refreshToken;
    }
    const rows = await query<{ expires_at: Date }>(`select t.expires_at from "${harness.schema}".refresh_tokens t where t.family_id = $1`, [family.id]);
    expect(rows).toHaveLength(4);
    for (const row of rows) expect(row.expires_at.toISOString()).toBe(family.expires_at.toISOString());

    // A day later the cookie of a rotated token lives a day less.
    await query(`update "${harness.schema}".refresh_families set expires_at = expires_at - interval '1 day' where id = $1`, [family.id]);
    const cookieRotation = await refresh({}, { cookie: `hexa_refresh=${token}` });
    expect(refreshCookie(cookieRotation)!.maxAge).toBeLessThanOrEqual(29 * 86_400);
  });

  it('answers 401 token_expired once the family has ended, whatever the rotations', async () => {
    const session = await bodySession('expiring@example.org');
    const rotated = (await refresh({ refreshToken: session.refreshToken })).json().refreshToken as string;
    await query(`update "${harness.schema}".refresh_families set expires_at = now() - interval '1 second' where id = $1`, [(await familyOf(rotated)).id]);
    const response = await refresh({ refreshToken: rotated });
    expect([response.statusCode, response.json().code]).toEqual([401, 'token_expired']);
  });
});

describe('when the user signs out', () => {
  it('answers 204, clears the cookie, and the refresh token stops working', async () => {
    const session = await bodySession('browser@example.org');
    const out = await harness.app.inject({ method: 'POST', url: '/auth/logout', headers: harness.as(anonymous, 'logout'), payload: { refreshToken: session.refreshToken } });
    expect(out.statusCode).toBe(204);
    expect(refreshCookie(out)).toMatchObject({ value: '', path: '/api/auth' });
    const again = await refresh({ refreshToken: session.refreshToken });
    expect(again.statusCode).toBe(401);
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
