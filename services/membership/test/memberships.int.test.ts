import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { OrganizationRole, Schemas, SuccessOf, WorkspaceRole } from '@hexa/contract';
import { createDatabase, createInternalTokens, type Caller, type Problem } from '@hexa/kit';
import { eventually, generateSigningKeys, query, testRedisUrl, tokensOf } from '@hexa/testing';
import { createUsersService, type MembershipDatabase } from '../src/index.js';
import { startMembership, type MembershipHarness } from './harness.js';

let harness: MembershipHarness;
let db: Kysely<MembershipDatabase>;
let subscriber: Redis;
/** Every access-changed announcement of this file's prefix, in order. */
const announcements: string[] = [];

const workspacesService = { kind: 'service', service: 'workspaces' } as const;
const gateway = { kind: 'service', service: 'gateway' } as const;
const anonymous = { kind: 'anonymous' } as const;
const password = 'correct horse battery staple';

// What the contract says these internal operations answer (its generated types, not a copy).
type Access = Schemas['Access'];
type MembershipsList = Extract<SuccessOf<'listUserMemberships'>, { status: 200 }>['body'];
interface MembershipRow extends Record<string, unknown> { workspace_slug: string; workspace_id: string; user_id: string; role: WorkspaceRole }

beforeAll(async () => {
  harness = await startMembership();
  db = createDatabase<MembershipDatabase>({ url: harness.config.DATABASE_URL, schema: harness.schema });
  subscriber = new Redis(testRedisUrl);
  subscriber.on('message', (_channel: string, message: string) => announcements.push(message));
  // The channel the gateway listens on: a rename here silently breaks its cache invalidation.
  await subscriber.subscribe(`${harness.config.HEXA_QUEUE_PREFIX}:access-changed`);
});
afterAll(async () => {
  subscriber.disconnect();
  await db.destroy();
  await harness.close();
});

let counter = 0;
function nextNumber(): number {
  counter += 1;
  return counter;
}

/** A user of its own for each test, so no test sees another's memberships. */
async function newUser(organizationRole: OrganizationRole = 'MEMBER'): Promise<string> {
  const owner: Caller = { kind: 'user', userId: randomUUID(), organizationRole: 'OWNER', adminSomewhere: false };
  const user = await createUsersService({ db }).createUser(owner, { email: `person-${nextNumber()}@example.org`, name: 'Pat Person', password, organizationRole });
  return user.id;
}

function newSlug(): string {
  return `workspace-${nextNumber()}`;
}

/** Every answer of this file goes through here: whatever the input, it is never a 5xx. */
function checked(response: LightMyRequestResponse): LightMyRequestResponse {
  expect(response.statusCode).toBeLessThan(500);
  return response;
}

async function grantCreator(caller: Caller, slug: string, userId: string, workspaceId: string = randomUUID()): Promise<LightMyRequestResponse> {
  return checked(await harness.app.inject({
    method: 'PUT',
    url: `/internal/workspaces/${slug}/creator/${userId}`,
    headers: harness.as(caller, 'grantCreatorAdmin'),
    payload: { workspaceId },
  }));
}

async function getAccess(caller: Caller, userId: string, slug?: string): Promise<LightMyRequestResponse> {
  const url = slug === undefined ? `/internal/access/${userId}` : `/internal/access/${userId}?workspace=${slug}`;
  return checked(await harness.app.inject({ method: 'GET', url, headers: harness.as(caller, 'getUserAccess') }));
}

async function listMemberships(caller: Caller, userId: string): Promise<LightMyRequestResponse> {
  return checked(await harness.app.inject({ method: 'GET', url: `/internal/users/${userId}/memberships`, headers: harness.as(caller, 'listUserMemberships') }));
}

function expectProblem(response: LightMyRequestResponse, status: number, code: Problem['code']): Problem {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toContain('application/problem+json');
  const problem = response.json<Problem>();
  expect(problem).toMatchObject({ status, code });
  return problem;
}

async function membershipRows(userId: string): Promise<MembershipRow[]> {
  return query<MembershipRow>(
    `select workspace_slug, workspace_id, user_id, role from "${harness.schema}".workspace_memberships where user_id = $1`,
    [userId],
  );
}

describe('when the workspaces service makes a creator the Admin of a new workspace', () => {
  it('answers granted, then already for the same call, and stores one ADMIN row', async () => {
    const userId = await newUser();
    const slug = newSlug();
    const workspaceId = randomUUID();

    const first = await grantCreator(workspacesService, slug, userId, workspaceId);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ outcome: 'granted' });

    const second = await grantCreator(workspacesService, slug, userId, workspaceId);
    expect(second.statusCode).toBe(200);
    expect(second.json()).toEqual({ outcome: 'already-member' });

    expect(await membershipRows(userId)).toEqual([{ workspace_slug: slug, workspace_id: workspaceId, user_id: userId, role: 'ADMIN' }]);
  });

  it('answers granted for each workspace the same user creates', async () => {
    const userId = await newUser();
    const [first, second] = [newSlug(), newSlug()];
    expect((await grantCreator(workspacesService, first, userId)).json()).toEqual({ outcome: 'granted' });
    expect((await grantCreator(workspacesService, second, userId)).json()).toEqual({ outcome: 'granted' });
    expect((await membershipRows(userId)).map((row) => `${row.workspace_slug}:${row.role}`).sort()).toEqual([`${first}:ADMIN`, `${second}:ADMIN`].sort());
  });

  it('answers granted to concurrent calls exactly once and stores one row', async () => {
    const userId = await newUser();
    const slug = newSlug();
    const workspaceId = randomUUID();
    const answers = await Promise.all([1, 2, 3, 4].map(() => grantCreator(workspacesService, slug, userId, workspaceId)));
    expect(answers.map((answer) => answer.statusCode)).toEqual([200, 200, 200, 200]);
    expect(answers.map((answer) => answer.json<{ outcome: string }>().outcome).sort()).toEqual(['already-member', 'already-member', 'already-member', 'granted']);
    expect(await membershipRows(userId)).toHaveLength(1);
  });

  it('answers 404 not_found for a user that does not exist, and stores nothing', async () => {
    const userId = randomUUID();
    expectProblem(await grantCreator(workspacesService, newSlug(), userId), 404, 'not_found');
    expect(await membershipRows(userId)).toHaveLength(0);
  });

  it('answers 400 invalid_input naming the field for a bad slug, user id or body, and stores nothing', async () => {
    const userId = await newUser();
    const headers = harness.as(workspacesService, 'grantCreatorAdmin');
    const cases: [string, unknown, string][] = [
      [`/internal/workspaces/Not_A_Slug/creator/${userId}`, { workspaceId: randomUUID() }, 'params/slug'],
      [`/internal/workspaces/${newSlug()}/creator/not-a-uuid`, { workspaceId: randomUUID() }, 'params/userId'],
      [`/internal/workspaces/${newSlug()}/creator/${userId}`, { workspaceId: 'not-a-uuid' }, 'body/workspaceId'],
      [`/internal/workspaces/${newSlug()}/creator/${userId}`, {}, 'body/workspaceId'],
      [`/internal/workspaces/${newSlug()}/creator/${userId}`, { workspaceId: randomUUID(), role: 'VIEWER' }, 'body/role'],
    ];
    for (const [url, payload, field] of cases) {
      const response = checked(await harness.app.inject({ method: 'PUT', url, headers, payload: payload as Record<string, unknown> }));
      const problem = expectProblem(response, 400, 'invalid_input');
      expect(problem.errors?.map((error) => error.field)).toContain(field);
    }
    expect(await membershipRows(userId)).toHaveLength(0);
  });
});

describe('when the gateway resolves a user\'s access', () => {
  it('answers the organization role, adminSomewhere false and no workspace role before any grant', async () => {
    const userId = await newUser('ADMIN');
    const slug = newSlug();
    for (const response of [await getAccess(gateway, userId, slug), await getAccess(gateway, userId)]) {
      expect(response.statusCode).toBe(200);
      expect(response.json<Access>()).toEqual({ organizationRole: 'ADMIN', adminSomewhere: false, workspaceRole: null, workspaceArchived: false });
    }
  });

  it('answers adminSomewhere true and the ADMIN role after a grant, and null in a workspace they are not in', async () => {
    const userId = await newUser();
    const slug = newSlug();
    expect((await grantCreator(workspacesService, slug, userId)).statusCode).toBe(200);

    const inWorkspace = await getAccess(gateway, userId, slug);
    expect(inWorkspace.statusCode).toBe(200);
    expect(inWorkspace.json<Access>()).toEqual({ organizationRole: 'MEMBER', adminSomewhere: true, workspaceRole: 'ADMIN', workspaceArchived: false });

    const elsewhere = await getAccess(gateway, userId, newSlug());
    expect(elsewhere.statusCode).toBe(200);
    expect(elsewhere.json<Access>()).toEqual({ organizationRole: 'MEMBER', adminSomewhere: true, workspaceRole: null, workspaceArchived: false });
  });

  it('answers only the addressed user\'s role: another member of the workspace does not change it', async () => {
    const creator = await newUser();
    const outsider = await newUser();
    const slug = newSlug();
    expect((await grantCreator(workspacesService, slug, creator)).statusCode).toBe(200);
    expect((await getAccess(gateway, outsider, slug)).json<Access>()).toEqual({ organizationRole: 'MEMBER', adminSomewhere: false, workspaceRole: null, workspaceArchived: false });
  });

  it('answers 404 not_found for a user that does not exist', async () => {
    expectProblem(await getAccess(gateway, randomUUID(), newSlug()), 404, 'not_found');
  });

  it('answers 400 invalid_input for a user id that is not a uuid, a bad slug or an unknown parameter', async () => {
    const userId = await newUser();
    const headers = harness.as(gateway, 'getUserAccess');
    for (const [url, field] of [
      ['/internal/access/not-a-uuid', 'params/userId'],
      [`/internal/access/${userId}?workspace=Not_A_Slug`, 'querystring/workspace'],
      [`/internal/access/${userId}?workspace=${'a'.repeat(64)}`, 'querystring/workspace'],
      [`/internal/access/${userId}?workspaces=ws`, 'querystring/workspaces'],
    ] as const) {
      const problem = expectProblem(checked(await harness.app.inject({ method: 'GET', url, headers })), 400, 'invalid_input');
      expect(problem.errors?.map((error) => error.field)).toContain(field);
    }
  });
});

describe('when a service lists a user\'s memberships', () => {
  it('answers every workspace of the user with its role', async () => {
    const userId = await newUser();
    const [first, second] = [newSlug(), newSlug()];
    await grantCreator(workspacesService, first, userId);
    await grantCreator(workspacesService, second, userId);
    // Someone else's membership must not show up.
    await grantCreator(workspacesService, newSlug(), await newUser());

    const response = await listMemberships(workspacesService, userId);
    expect(response.statusCode).toBe(200);
    const body = response.json<MembershipsList>();
    expect(Object.keys(body)).toEqual(['items']);
    expect([...body.items].sort((a, b) => a.workspaceSlug.localeCompare(b.workspaceSlug))).toEqual(
      [{ workspaceSlug: first, role: 'ADMIN' }, { workspaceSlug: second, role: 'ADMIN' }].sort((a, b) => a.workspaceSlug.localeCompare(b.workspaceSlug)),
    );
  });

  it('answers an empty list for a user without memberships', async () => {
    const response = await listMemberships(workspacesService, await newUser());
    expect(response.statusCode).toBe(200);
    expect(response.json<MembershipsList>()).toEqual({ items: [] });
  });

  it('answers 400 invalid_input for a user id that is not a uuid', async () => {
    const problem = expectProblem(await listMemberships(workspacesService, 'not-a-uuid'), 400, 'invalid_input');
    expect(problem.errors?.map((error) => error.field)).toContain('params/userId');
  });
});

describe('when a user or an anonymous caller calls an internal route', () => {
  const callers: [string, () => Promise<Caller>][] = [
    ['an organization Owner', async () => ({ kind: 'user', userId: await newUser('OWNER'), organizationRole: 'OWNER', adminSomewhere: true })],
    ['a member', async () => ({ kind: 'user', userId: await newUser(), organizationRole: 'MEMBER', adminSomewhere: false })],
    ['an anonymous caller', async () => anonymous],
  ];

  it.each(callers)('answers 403 forbidden to %s on every route and grants nothing', async (_label, makeCaller) => {
    const caller = await makeCaller();
    const userId = caller.kind === 'user' ? caller.userId : await newUser();
    const slug = newSlug();
    expectProblem(await grantCreator(caller, slug, userId), 403, 'forbidden');
    expectProblem(await getAccess(caller, userId, slug), 403, 'forbidden');
    expectProblem(await listMemberships(caller, userId), 403, 'forbidden');
    expect(await membershipRows(userId)).toHaveLength(0);
  });

  it('answers 401 unauthenticated without an internal token, before looking at the input, and grants nothing', async () => {
    const userId = await newUser();
    const requests = [
      { method: 'PUT' as const, url: `/internal/workspaces/${newSlug()}/creator/${userId}`, payload: { workspaceId: randomUUID() } },
      { method: 'PUT' as const, url: '/internal/workspaces/Bad_Slug/creator/nope', payload: { nonsense: true } },
      { method: 'GET' as const, url: `/internal/access/${userId}` },
      { method: 'GET' as const, url: `/internal/users/${userId}/memberships` },
    ];
    for (const request of requests) expectProblem(checked(await harness.app.inject(request)), 401, 'unauthenticated');
    expect(await membershipRows(userId)).toHaveLength(0);
  });

  it('answers 401 invalid_token to a token addressed to another service, signed with a key that is not the issuer\'s, or minted for another operation', async () => {
    const userId = await newUser();
    const operation = 'GET /internal/users/{userId}/memberships';
    const forOtherService = tokensOf('workspaces').sign({ audience: 'workspaces', operation, caller: workspacesService });
    // Someone holding a key of their own signs as the workspaces service.
    const impostor = createInternalTokens({ service: 'workspaces', privateKey: generateSigningKeys().privateKey, publicKeys: {} });
    const wrongKey = impostor.sign({ audience: 'membership', operation, caller: workspacesService });
    const forAnotherOperation = tokensOf('workspaces').sign({ audience: 'membership', operation: 'GET /internal/access/{userId}', caller: workspacesService });
    for (const token of [forOtherService, wrongKey, forAnotherOperation]) {
      const response = checked(await harness.app.inject({ method: 'GET', url: `/internal/users/${userId}/memberships`, headers: { 'x-hexa-internal': token } }));
      expectProblem(response, 401, 'invalid_token');
    }
  });

  it('answers 403 forbidden to a service the operation does not list as a caller, and grants nothing', async () => {
    const userId = await newUser();
    // Only the workspaces service makes creators Admin; the gateway may not, even with a valid token of its own.
    expectProblem(await grantCreator(gateway, newSlug(), userId), 403, 'forbidden');
    expect(await membershipRows(userId)).toHaveLength(0);
  });
});

describe('when a service other than the gateway claims to act for a user', () => {
  it('refuses the forged organization Owner: no account is created', async () => {
    const forgedOwner: Caller = { kind: 'user', userId: randomUUID(), organizationRole: 'OWNER', adminSomewhere: true };
    const token = tokensOf('workspaces').sign({ audience: 'membership', operation: 'POST /users', caller: forgedOwner });
    const email = `forged-${nextNumber()}@example.org`;
    const response = checked(await harness.app.inject({
      method: 'POST',
      url: '/users',
      headers: { 'x-hexa-internal': token },
      payload: { email, name: 'Mallory', password: 'a long enough password', organizationRole: 'OWNER' },
    }));
    expectProblem(response, 401, 'invalid_token');
    expect(await query(`select id from "${harness.schema}".users where email = $1`, [email])).toEqual([]);
  });

  it('refuses a gateway token for one operation on another operation', async () => {
    const owner: Caller = { kind: 'user', userId: await newUser('OWNER'), organizationRole: 'OWNER', adminSomewhere: false };
    const forGetMe = tokensOf('gateway').sign({ audience: 'membership', operation: 'GET /me', caller: owner });
    const response = checked(await harness.app.inject({
      method: 'POST',
      url: '/users',
      headers: { 'x-hexa-internal': forGetMe },
      payload: { email: `replayed-${nextNumber()}@example.org`, name: 'Replay', password: 'a long enough password', organizationRole: 'OWNER' },
    }));
    expectProblem(response, 401, 'invalid_token');
  });
});

describe('when a grant happens', () => {
  it('announces the user id on the access-changed channel so gateways drop their cached access', async () => {
    const userId = await newUser();
    expect((await grantCreator(workspacesService, newSlug(), userId)).json()).toEqual({ outcome: 'granted' });
    await eventually(async () => (announcements.includes(userId) ? true : undefined), 5000);
  });

  it('announces nothing for a refused grant', async () => {
    const userId = await newUser();
    const other = await newUser();
    expectProblem(await grantCreator({ kind: 'user', userId, organizationRole: 'OWNER', adminSomewhere: false }, newSlug(), userId), 403, 'forbidden');
    // A later grant for another user is announced; by then the refused one would have arrived too (one connection, in order).
    await grantCreator(workspacesService, newSlug(), other);
    await eventually(async () => (announcements.includes(other) ? true : undefined), 5000);
    expect(announcements).not.toContain(userId);
  });
});
