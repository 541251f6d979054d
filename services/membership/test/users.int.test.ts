import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import type { OrganizationRole, Schemas } from '@hexa/contract';
import { createDatabase, type Caller, type Problem } from '@hexa/kit';
import { query } from '@hexa/testing';
import { createUsersService, type MembershipDatabase } from '../src/index.js';
import { startMembership, type MembershipHarness } from './harness.js';

let harness: MembershipHarness;
const password = 'correct horse battery staple';
const anonymous = { kind: 'anonymous' } as const;
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type UserCaller = Extract<Caller, { kind: 'user' }>;
let owner: UserCaller;
let admin: UserCaller;
let member: UserCaller;

function asUser(user: Schemas['User']): UserCaller {
  return { kind: 'user', userId: user.id, organizationRole: user.organizationRole, adminSomewhere: false };
}

beforeAll(async () => {
  harness = await startMembership();
  const db = createDatabase<MembershipDatabase>({ url: harness.config.DATABASE_URL, schema: harness.schema });
  try {
    const users = createUsersService({ db });
    await users.seedOwner({ email: 'owner@example.org', name: 'Olive Owner', password });
    const [ownerRow] = await query<{ id: string }>(`select id from "${harness.schema}".users where email = 'owner@example.org'`);
    owner = { kind: 'user', userId: ownerRow!.id, organizationRole: 'OWNER', adminSomewhere: false };
    admin = asUser(await users.createUser(owner, { email: 'admin@example.org', name: 'Ada Admin', password, organizationRole: 'ADMIN' }));
    member = asUser(await users.createUser(owner, { email: 'member@example.org', name: 'Mel Member', password, organizationRole: 'MEMBER' }));
  } finally {
    await db.destroy();
  }
});
afterAll(() => harness.close());

let emailCounter = 0;
/** A fresh address per call, so tests do not depend on each other's users. */
function freshEmail(label: string): string {
  emailCounter += 1;
  return `${label}-${emailCounter}@example.org`;
}

function newUser(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { email: freshEmail('user'), name: 'Nora New', password, organizationRole: 'MEMBER', ...overrides };
}

/** Every answer of this file goes through here: whatever the input, it is never a 5xx. */
function checked(response: LightMyRequestResponse): LightMyRequestResponse {
  expect(response.statusCode).toBeLessThan(500);
  return response;
}

async function postUser(caller: Caller, payload: Record<string, unknown> | string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return checked(await harness.app.inject({ method: 'POST', url: '/users', headers: { ...harness.as(caller, 'createUser'), ...headers }, payload }));
}

async function getMe(caller: Caller): Promise<LightMyRequestResponse> {
  return checked(await harness.app.inject({ method: 'GET', url: '/me', headers: harness.as(caller, 'getMe') }));
}

function expectProblem(response: LightMyRequestResponse, status: number, code: Problem['code']): Problem {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toContain('application/problem+json');
  const problem = response.json<Problem>();
  expect(problem).toMatchObject({ status, code, instance: expect.any(String), requestId: expect.any(String) });
  return problem;
}

interface UserRow extends Record<string, unknown> {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  organization_role: OrganizationRole;
}

async function usersWithEmail(email: string): Promise<UserRow[]> {
  return query<UserRow>(`select id, email, name, password_hash, organization_role from "${harness.schema}".users where lower(email) = lower($1)`, [email]);
}

describe('when an organization Owner creates a user', () => {
  it.each<OrganizationRole>(['OWNER', 'ADMIN', 'MEMBER'])(
    'answers 201 with the %s user, stores a lower-cased e-mail and an argon2id hash, and never returns the password',
    async (organizationRole) => {
      const email = freshEmail(`Mixed.Case-${organizationRole}`).replace('@example.org', '@Example.ORG');
      const response = await postUser(owner, { email, name: 'Rita Role', password, organizationRole });

      expect(response.statusCode).toBe(201);
      expect(response.headers['content-type']).toContain('application/json');
      const body = response.json<Schemas['User']>();
      expect(Object.keys(body).sort()).toEqual(['createdAt', 'email', 'id', 'name', 'organizationRole']);
      expect(body).toEqual({ id: expect.stringMatching(uuidPattern), email: email.toLowerCase(), name: 'Rita Role', organizationRole, createdAt: expect.any(String) });
      expect(Math.abs(Date.parse(body.createdAt) - Date.now())).toBeLessThan(60_000);
      expect(response.body).not.toContain(password);
      expect(response.body).not.toMatch(/password/i);

      const rows = await usersWithEmail(email);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ id: body.id, email: email.toLowerCase(), name: 'Rita Role', organization_role: organizationRole });
      expect(rows[0]?.password_hash).toMatch(/^\$argon2id\$/);
      expect(rows[0]?.password_hash).not.toContain(password);
    },
  );

  it('answers 201 with the name trimmed, as stored', async () => {
    const email = freshEmail('trimmed');
    const response = await postUser(owner, newUser({ email, name: '  Tim Trimmed  ' }));
    expect(response.statusCode).toBe(201);
    expect(response.json<Schemas['User']>().name).toBe('Tim Trimmed');
    expect((await usersWithEmail(email))[0]?.name).toBe('Tim Trimmed');
  });

  it('answers 201 for a name of exactly 200 characters', async () => {
    const email = freshEmail('long-name');
    const name = 'N'.repeat(200);
    const response = await postUser(owner, newUser({ email, name }));
    expect(response.statusCode).toBe(201);
    expect((await usersWithEmail(email))[0]?.name).toBe(name);
  });

  it('answers 201 and the new user signs in with the chosen password', async () => {
    const email = freshEmail('signs-in');
    const created = await postUser(owner, newUser({ email }));
    expect(created.statusCode).toBe(201);
    const login = checked(await harness.app.inject({
      method: 'POST',
      url: '/auth/login',
      headers: { ...harness.as(anonymous, 'login'), 'x-forwarded-for': '10.1.0.1' },
      payload: { email: email.toUpperCase(), password },
    }));
    expect(login.statusCode).toBe(200);
    expect(login.json<Schemas['Session']>().user).toEqual(created.json<Schemas['User']>());
  });
});

describe('when an organization Admin creates a user', () => {
  it('answers 201 for a MEMBER and stores it', async () => {
    const email = freshEmail('by-admin');
    const response = await postUser(admin, newUser({ email, organizationRole: 'MEMBER' }));
    expect(response.statusCode).toBe(201);
    expect(response.json<Schemas['User']>()).toMatchObject({ email, organizationRole: 'MEMBER' });
    expect(await usersWithEmail(email)).toHaveLength(1);
  });

  it('answers 403 forbidden for an OWNER and stores nothing', async () => {
    const email = freshEmail('owner-by-admin');
    const response = await postUser(admin, newUser({ email, organizationRole: 'OWNER' }));
    expectProblem(response, 403, 'forbidden');
    expect(await usersWithEmail(email)).toHaveLength(0);
  });
});

describe('when an organization Member creates a user', () => {
  it.each<OrganizationRole>(['MEMBER', 'ADMIN', 'OWNER'])('answers 403 forbidden for a %s and stores nothing', async (organizationRole) => {
    const email = freshEmail(`by-member-${organizationRole}`);
    const response = await postUser(member, newUser({ email, organizationRole }));
    expectProblem(response, 403, 'forbidden');
    expect(await usersWithEmail(email)).toHaveLength(0);
  });
});

describe('when the e-mail is already taken', () => {
  it('answers 409 email_taken whatever the case of the address, and keeps the first user', async () => {
    const email = freshEmail('taken');
    const first = await postUser(owner, newUser({ email, name: 'First Holder' }));
    expect(first.statusCode).toBe(201);

    for (const again of [email, email.toUpperCase(), `${email.slice(0, 1).toUpperCase()}${email.slice(1)}`]) {
      const response = await postUser(owner, newUser({ email: again, name: 'Second Holder' }));
      expectProblem(response, 409, 'email_taken');
    }
    const rows = await usersWithEmail(email);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: first.json<Schemas['User']>().id, name: 'First Holder' });
  });

  it('answers 409 email_taken for the address of the seeded owner', async () => {
    const response = await postUser(owner, newUser({ email: 'OWNER@example.org' }));
    expectProblem(response, 409, 'email_taken');
    expect(await usersWithEmail('owner@example.org')).toHaveLength(1);
  });
});

describe('when the input is not valid', () => {
  const withoutEmail = (): Record<string, unknown> => {
    const { email: _email, ...rest } = newUser();
    return rest;
  };
  const withTypo = (): Record<string, unknown> => {
    const { organizationRole, ...rest } = newUser();
    return { ...rest, organisationRole: organizationRole };
  };
  const cases: [string, () => Record<string, unknown>, string, RegExp][] = [
    ['an unknown field spelt like a known one', withTypo, 'body/organisationRole', /unknown field "organisationRole"/],
    ['an extra "role" field', () => newUser({ role: 'ADMIN' }), 'body/role', /unknown field "role"/],
    ['a password of 11 characters', () => newUser({ password: 'x'.repeat(11) }), 'body/password', /fewer than 12/],
    ['a password that is not a string', () => newUser({ password: 123456789012345 }), 'body/password', /string/],
    ['an e-mail without @', () => newUser({ email: 'not-an-email' }), 'body/email', /email/],
    ['an e-mail that is not a string', () => newUser({ email: ['a@example.org'] }), 'body/email', /string/],
    ['an organization role outside the list', () => newUser({ organizationRole: 'SUPERUSER' }), 'body/organizationRole', /allowed values/],
    ['an organization role in lower case', () => newUser({ organizationRole: 'member' }), 'body/organizationRole', /allowed values/],
    ['a name that is a number', () => newUser({ name: 42 }), 'body/name', /string/],
    ['a name of 201 characters', () => newUser({ name: 'N'.repeat(201) }), 'body/name', /more than 200/],
    ['a blank name', () => newUser({ name: '   ' }), 'body/name', /pattern/],
    ['an empty name', () => newUser({ name: '' }), 'body/name', /fewer than 1/],
    ['no e-mail', withoutEmail, 'body/email', /"email" is required/],
  ];

  it.each(cases)('answers 400 invalid_input naming the field for %s, and stores nothing', async (_label, payload, field, message) => {
    const body = payload();
    const response = await postUser(owner, body);
    const problem = expectProblem(response, 400, 'invalid_input');
    expect(problem.errors).toEqual(expect.arrayContaining([{ field, message: expect.stringMatching(message) }]));
    expect(problem.detail).toContain(field);
    if (typeof body.email === 'string') expect(await usersWithEmail(body.email)).toHaveLength(0);
  });

  it('answers 400 invalid_input with one entry per problem when several fields are wrong', async () => {
    const response = await postUser(owner, { email: 'nope', name: '', password: 'short', organizationRole: 'ROOT', colour: 'blue' });
    const problem = expectProblem(response, 400, 'invalid_input');
    expect([...new Set(problem.errors?.map((error) => error.field))].sort()).toEqual(
      ['body/colour', 'body/email', 'body/name', 'body/organizationRole', 'body/password'],
    );
  });

  it('answers 400 invalid_input naming the body when it is a JSON array', async () => {
    const response = checked(await harness.app.inject({ method: 'POST', url: '/users', headers: harness.as(owner, 'createUser'), payload: [newUser()] }));
    const problem = expectProblem(response, 400, 'invalid_input');
    expect(problem.errors).toEqual([{ field: 'body', message: expect.stringMatching(/object/) }]);
  });
});

describe('when the body is not JSON', () => {
  it('answers 400 malformed_body for truncated JSON', async () => {
    const response = await postUser(owner, '{"email":', { 'content-type': 'application/json' });
    expectProblem(response, 400, 'malformed_body');
  });

  it('answers 400 malformed_body for an empty body that claims to be JSON', async () => {
    const response = await postUser(owner, '', { 'content-type': 'application/json' });
    expectProblem(response, 400, 'malformed_body');
  });

  it('answers 400 malformed_body for JSON that tries to set __proto__', async () => {
    const email = freshEmail('proto');
    const raw = JSON.stringify(newUser({ email })).replace(/^\{/, '{"__proto__":{"organizationRole":"OWNER"},');
    const response = await postUser(owner, raw, { 'content-type': 'application/json' });
    expectProblem(response, 400, 'malformed_body');
    expect(await usersWithEmail(email)).toHaveLength(0);
  });

  it.each(['application/xml', 'application/x-www-form-urlencoded'])('answers 415 unsupported_media_type for %s', async (contentType) => {
    const response = await postUser(owner, 'email=a%40example.org', { 'content-type': contentType });
    expectProblem(response, 415, 'unsupported_media_type');
  });
});

describe('when the caller is not a signed-in user', () => {
  it('answers 401 unauthenticated to an anonymous caller and stores nothing', async () => {
    const email = freshEmail('anonymous');
    const response = await postUser(anonymous, newUser({ email }));
    expectProblem(response, 401, 'unauthenticated');
    expect(await usersWithEmail(email)).toHaveLength(0);
  });

  it('answers 403 forbidden to another service: only the gateway calls public operations', async () => {
    const email = freshEmail('service');
    const response = await postUser({ kind: 'service', service: 'workspaces' }, newUser({ email }));
    expectProblem(response, 403, 'forbidden');
    expect(await usersWithEmail(email)).toHaveLength(0);
  });

  it('answers 401 unauthenticated without an internal token, before looking at the body', async () => {
    const response = checked(await harness.app.inject({ method: 'POST', url: '/users', payload: { nonsense: true } }));
    expectProblem(response, 401, 'unauthenticated');
  });

  it('answers 401 invalid_token for a token signed with another secret', async () => {
    const response = checked(await harness.app.inject({ method: 'GET', url: '/me', headers: { 'x-hexa-internal': 'eyJhbGciOiJIUzI1NiJ9.eyJjYWxsZXIiOnt9fQ.forged' } }));
    expectProblem(response, 401, 'invalid_token');
  });
});

describe('when a signed-in user asks who they are', () => {
  it('answers 200 with their own user and organization role', async () => {
    for (const [caller, email, name, organizationRole] of [
      [owner, 'owner@example.org', 'Olive Owner', 'OWNER'],
      [admin, 'admin@example.org', 'Ada Admin', 'ADMIN'],
      [member, 'member@example.org', 'Mel Member', 'MEMBER'],
    ] as const) {
      const response = await getMe(caller);
      expect(response.statusCode).toBe(200);
      const body = response.json<Schemas['User']>();
      expect(body).toEqual({ id: caller.userId, email, name, organizationRole, createdAt: expect.any(String) });
      expect(response.body).not.toMatch(/password/i);
    }
  });

  it('answers 200 with the role stored, not the one the token claims', async () => {
    const response = await getMe({ ...member, organizationRole: 'OWNER' });
    expect(response.statusCode).toBe(200);
    expect(response.json<Schemas['User']>().organizationRole).toBe('MEMBER');
  });

  it('answers 401 unauthenticated to an anonymous caller', async () => {
    expectProblem(await getMe(anonymous), 401, 'unauthenticated');
  });
});

describe('when the user of the token no longer exists', () => {
  it('answers 401 invalid_token', async () => {
    const response = await getMe({ kind: 'user', userId: randomUUID(), organizationRole: 'OWNER', adminSomewhere: false });
    expectProblem(response, 401, 'invalid_token');
  });
});
