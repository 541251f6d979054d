import { eventually, flushRedisPrefix, query } from '@hexa/testing';
import { startSmtp, type SmtpListener } from './smtp.js';
import { ownerLogin, startStack, type Stack } from './stack.js';
import { team, type Person } from './team.js';
import { startWorkers, type Workers } from './workers.js';

// Members through the gateway, with membership's worker and the workspaces queue's consumer running, so
// that each change is seen where it lands: the member's next request, the workspaces service's replica of
// roles, and the audit trail.

let smtp: SmtpListener;
let stack: Stack;
let workers: Workers;
let owner: string;
let t: ReturnType<typeof team>;

beforeAll(async () => {
  smtp = await startSmtp();
  // The gateway caches roles for a minute: a change seen at once is the announcement's doing.
  stack = await startStack({
    membershipEnv: { HEXA_SMTP_URL: smtp.url },
    accessCacheTtlMs: 60_000,
    // Every person of these tests signs in from the same address.
    env: { LOGIN_RATE_LIMIT_PER_MINUTE: '1000' },
  });
  workers = await startWorkers(stack);
  owner = await stack.login(ownerLogin.email, ownerLogin.password);
  t = team(stack, owner);
});
afterAll(async () => {
  await workers.close();
  await stack.close();
  await smtp.close();
  await flushRedisPrefix(stack.queuePrefix);
});

async function ownerId(): Promise<string> {
  const [row] = await query<{ id: string }>(`select id from "${stack.schemas.membership}".users where email = $1`, [ownerLogin.email]);
  return row!.id;
}

async function roleOf(slug: string, userId: string): Promise<string | undefined> {
  const [row] = await query<{ role: string }>(`select role from "${stack.schemas.membership}".workspace_memberships where workspace_slug = $1 and user_id = $2`, [slug, userId]);
  return row?.role;
}

async function admins(slug: string): Promise<number> {
  const [row] = await query<{ count: string }>(`select count(*) from "${stack.schemas.membership}".workspace_memberships where workspace_slug = $1 and role = 'ADMIN'`, [slug]);
  return Number(row!.count);
}

describe('when a member lists the members', () => {
  it('answers every member with name, e-mail, role and since, by name, to any role; 404 to someone else', async () => {
    const workspace = await t.newWorkspace();
    const viewer = await t.addMember(workspace.slug, 'VIEWER', owner, 'bea');
    const editor = await t.addMember(workspace.slug, 'EDITOR', owner, 'abe');
    const listed = await t.api('GET', `/workspaces/${workspace.slug}/members?perPage=2`, viewer.token);
    expect(listed.status).toBe(200);
    expect(listed.body).toMatchObject({ page: 1, perPage: 2, totalItems: 3, totalPages: 2 });
    expect(listed.body.items).toEqual([
      { userId: editor.id, name: editor.email.split('@')[0], email: editor.email, role: 'EDITOR', since: expect.any(String) },
      { userId: viewer.id, name: viewer.email.split('@')[0], email: viewer.email, role: 'VIEWER', since: expect.any(String) },
    ]);
    const second = await t.api('GET', `/workspaces/${workspace.slug}/members?perPage=2&page=2`, editor.token);
    expect(second.body.items).toEqual([expect.objectContaining({ userId: await ownerId(), role: 'ADMIN', email: ownerLogin.email })]);

    const outsider = await t.newPerson('outsider');
    const hidden = await t.api('GET', `/workspaces/${workspace.slug}/members`, outsider.token);
    expect([hidden.status, hidden.body.code]).toEqual([404, 'workspace_not_found']);
    // An organization Admin passes the gateway for any slug; a workspace that does not exist is still 404.
    const orgAdmin = await t.newPerson('org-admin', 'ADMIN');
    const unknown = await t.api('GET', '/workspaces/no-such-workspace/members', orgAdmin.token);
    expect([unknown.status, unknown.body.code]).toEqual([404, 'workspace_not_found']);
  });
});

describe('when an Admin changes a role', () => {
  it('takes effect on the member\'s very next request, reaches the replica of roles and the audit trail', async () => {
    const workspace = await t.newWorkspace();
    const member = await t.addMember(workspace.slug, 'VIEWER');
    // Cached by the gateway as a Viewer.
    expect((await t.api('GET', `/workspaces/${workspace.slug}/invitations`, member.token)).status).toBe(403);
    expect((await t.api('GET', `/workspaces/${workspace.slug}`, member.token)).body.role).toBe('VIEWER');

    const promoted = await t.api('PATCH', `/workspaces/${workspace.slug}/members/${member.id}`, owner, { role: 'ADMIN' });
    expect(promoted.status).toBe(200);
    expect(promoted.body).toMatchObject({ userId: member.id, role: 'ADMIN' });
    expect((await t.api('GET', `/workspaces/${workspace.slug}/invitations`, member.token)).status).toBe(200);
    expect((await t.api('GET', `/workspaces/${workspace.slug}`, member.token)).body.role).toBe('ADMIN');

    const demoted = await t.api('PATCH', `/workspaces/${workspace.slug}/members/${member.id}`, owner, { role: 'EDITOR' });
    expect(demoted.body.role).toBe('EDITOR');
    const refused = await t.api('GET', `/workspaces/${workspace.slug}/invitations`, member.token);
    expect([refused.status, refused.body.code]).toEqual([403, 'forbidden']);

    // Newest version wins in the workspaces service's replica.
    await eventually(async () => ((await t.replicaRole(workspace.id, member.id))?.role === 'EDITOR' ? true : undefined));
    const trail = await eventually(async () => {
      const entries = (await t.auditTrail(workspace.id)).filter((entry) => entry.action === 'member.role-changed');
      return entries.length === 2 ? entries : undefined;
    });
    expect(trail.map((entry) => [entry.target, entry.before, entry.after, entry.actor])).toEqual([
      [member.id, 'VIEWER', 'ADMIN', { kind: 'user', userId: await ownerId() }],
      [member.id, 'ADMIN', 'EDITOR', { kind: 'user', userId: await ownerId() }],
    ]);
  });

  it('takes effect on the next request through the gateway that relayed the change even when the announcement never arrives', async () => {
    // This gateway listens on another platform's channel: membership's announcements never reach it.
    const deaf = await stack.startGateway({ env: { HEXA_QUEUE_PREFIX: `${stack.queuePrefix}-deaf`, LOGIN_RATE_LIMIT_PER_MINUTE: '1000' } });
    const through = async (method: 'GET' | 'PATCH' | 'DELETE', url: string, token: string, payload?: object) => {
      const response = await deaf.inject({ method, url: `/api${url}`, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });
      return { status: response.statusCode, headers: response.headers };
    };
    const workspace = await t.newWorkspace();
    const member = await t.addMember(workspace.slug, 'ADMIN');
    expect((await through('GET', `/workspaces/${workspace.slug}/invitations`, member.token)).status).toBe(200);

    const demoted = await through('PATCH', `/workspaces/${workspace.slug}/members/${member.id}`, owner, { role: 'VIEWER' });
    expect(demoted.status).toBe(200);
    // The answer told the gateway whose access changed; the client never sees that header.
    expect(demoted.headers['hexa-access-changed']).toBeUndefined();
    expect((await through('GET', `/workspaces/${workspace.slug}/invitations`, member.token)).status).toBe(403);

    const removed = await through('DELETE', `/workspaces/${workspace.slug}/members/${member.id}`, owner);
    expect(removed.status).toBe(204);
    expect((await through('GET', `/workspaces/${workspace.slug}`, member.token)).status).toBe(404);
  });

  it('publishes membership.changed with a version that grows with every change', async () => {
    const workspace = await t.newWorkspace();
    const member = await t.addMember(workspace.slug, 'VIEWER');
    const versions = [Number((await eventually(async () => t.replicaRole(workspace.id, member.id)))!.version)];
    for (const role of ['EDITOR', 'ADMIN', 'VIEWER'] as const) {
      expect((await t.api('PATCH', `/workspaces/${workspace.slug}/members/${member.id}`, owner, { role })).status).toBe(200);
      const replica = await eventually(async () => {
        const found = await t.replicaRole(workspace.id, member.id);
        return found && Number(found.version) > versions.at(-1)! ? found : undefined;
      });
      expect(replica.role).toBe(role);
      versions.push(Number(replica.version));
    }
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(new Set(versions).size).toBe(4);
  });

  it('answers 403 own_role_change to anyone changing their own role, even an organization Owner', async () => {
    const workspace = await t.newWorkspace();
    const admin = await t.addMember(workspace.slug, 'ADMIN');
    const own = await t.api('PATCH', `/workspaces/${workspace.slug}/members/${admin.id}`, admin.token, { role: 'VIEWER' });
    expect([own.status, own.body.code]).toEqual([403, 'own_role_change']);
    const ownerOwn = await t.api('PATCH', `/workspaces/${workspace.slug}/members/${await ownerId()}`, owner, { role: 'VIEWER' });
    expect([ownerOwn.status, ownerOwn.body.code]).toEqual([403, 'own_role_change']);
    expect(await roleOf(workspace.slug, admin.id)).toBe('ADMIN');
  });

  it('answers 403 to an Editor and 404 for someone who is not a member', async () => {
    const workspace = await t.newWorkspace();
    const editor = await t.addMember(workspace.slug, 'EDITOR');
    const viewer = await t.addMember(workspace.slug, 'VIEWER');
    const byEditor = await t.api('PATCH', `/workspaces/${workspace.slug}/members/${viewer.id}`, editor.token, { role: 'EDITOR' });
    expect([byEditor.status, byEditor.body.code]).toEqual([403, 'forbidden']);
    const stranger = await t.newPerson('stranger');
    const notMember = await t.api('PATCH', `/workspaces/${workspace.slug}/members/${stranger.id}`, owner, { role: 'EDITOR' });
    expect([notMember.status, notMember.body.code]).toEqual([404, 'not_found']);
    const badRole = await t.api('PATCH', `/workspaces/${workspace.slug}/members/${viewer.id}`, owner, { role: 'OWNER' });
    expect([badRole.status, badRole.body.code, badRole.body.errors[0].field]).toEqual([400, 'invalid_input', 'body/role']);
  });
});

describe('when the last Admin would be lost', () => {
  it('answers 409 last_admin to demoting, removing or leaving, and keeps the Admin', async () => {
    const orgOwner = owner;
    const workspace = await t.newWorkspace();
    const admin = await t.addMember(workspace.slug, 'ADMIN');
    // The creator steps down to Editor: one Admin is left.
    expect((await t.api('PATCH', `/workspaces/${workspace.slug}/members/${await ownerId()}`, admin.token, { role: 'EDITOR' })).status).toBe(200);
    const demote = await t.api('PATCH', `/workspaces/${workspace.slug}/members/${admin.id}`, orgOwner, { role: 'VIEWER' });
    expect([demote.status, demote.body.code]).toEqual([409, 'last_admin']);
    const remove = await t.api('DELETE', `/workspaces/${workspace.slug}/members/${admin.id}`, orgOwner);
    expect([remove.status, remove.body.code]).toEqual([409, 'last_admin']);
    const leave = await t.api('DELETE', `/workspaces/${workspace.slug}/members/me`, admin.token);
    expect([leave.status, leave.body.code]).toEqual([409, 'last_admin']);
    expect(await roleOf(workspace.slug, admin.id)).toBe('ADMIN');
  });

  it('lets exactly one of two concurrent demotions of the last two Admins through, every time', async () => {
    for (let round = 0; round < 5; round += 1) {
      const workspace = await t.newWorkspace();
      const first = await t.addMember(workspace.slug, 'ADMIN');
      // The organization Owner (the creator) leaves the Admins: `first` and `second` are the last two.
      const second = await t.addMember(workspace.slug, 'ADMIN');
      expect((await t.api('PATCH', `/workspaces/${workspace.slug}/members/${await ownerId()}`, first.token, { role: 'VIEWER' })).status).toBe(200);
      expect(await admins(workspace.slug)).toBe(2);

      // The organization Owner (acting as Admin of every workspace) demotes both at once.
      const answers = await Promise.all([first, second].map((person) => t.api('PATCH', `/workspaces/${workspace.slug}/members/${person.id}`, owner, { role: 'EDITOR' })));
      expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
      expect(answers.find((answer) => answer.status === 409)!.body.code).toBe('last_admin');
      expect(await admins(workspace.slug)).toBe(1);
    }
  });

  it('lets two Admins who demote each other at once leave exactly one Admin', async () => {
    for (let round = 0; round < 5; round += 1) {
      const workspace = await t.newWorkspace();
      const first = await t.addMember(workspace.slug, 'ADMIN');
      const second = await t.addMember(workspace.slug, 'ADMIN');
      expect((await t.api('PATCH', `/workspaces/${workspace.slug}/members/${await ownerId()}`, first.token, { role: 'VIEWER' })).status).toBe(200);
      const answers = await Promise.all([
        t.api('PATCH', `/workspaces/${workspace.slug}/members/${second.id}`, first.token, { role: 'EDITOR' }),
        t.api('PATCH', `/workspaces/${workspace.slug}/members/${first.id}`, second.token, { role: 'EDITOR' }),
      ]);
      const statuses = answers.map((answer) => answer.status);
      expect(statuses.filter((status) => status === 200)).toHaveLength(1);
      // The loser was demoted first, so it is no Admin any more (403), or it found itself the last one (409).
      expect(answers.filter((answer) => answer.status !== 200).map((answer) => answer.body.code)).toEqual([expect.stringMatching(/^(forbidden|last_admin)$/)]);
      expect(await admins(workspace.slug)).toBe(1);
    }
  });
});

describe('when an Admin removes a member, or a member leaves', () => {
  it('takes the access away on the next request, publishes the removal and records it', async () => {
    const workspace = await t.newWorkspace();
    const removed = await t.addMember(workspace.slug, 'EDITOR');
    const leaving = await t.addMember(workspace.slug, 'VIEWER');
    expect((await t.api('GET', `/workspaces/${workspace.slug}`, removed.token)).status).toBe(200);
    expect((await t.api('GET', `/workspaces/${workspace.slug}`, leaving.token)).status).toBe(200);

    expect((await t.api('DELETE', `/workspaces/${workspace.slug}/members/${removed.id}`, owner)).status).toBe(204);
    expect((await t.api('DELETE', `/workspaces/${workspace.slug}/members/me`, leaving.token)).status).toBe(204);
    for (const person of [removed, leaving]) {
      const gone = await t.api('GET', `/workspaces/${workspace.slug}`, person.token);
      expect([gone.status, gone.body.code]).toEqual([404, 'workspace_not_found']);
    }
    const again = await t.api('DELETE', `/workspaces/${workspace.slug}/members/${removed.id}`, owner);
    expect([again.status, again.body.code]).toEqual([404, 'not_found']);

    for (const person of [removed, leaving]) {
      await eventually(async () => {
        const replica = await t.replicaRole(workspace.id, person.id);
        return replica && replica.role === null ? true : undefined;
      });
    }
    const trail = await eventually(async () => {
      const entries = (await t.auditTrail(workspace.id)).filter((entry) => entry.action === 'member.removed' || entry.action === 'member.left');
      return entries.length === 2 ? entries : undefined;
    });
    expect(trail).toEqual([
      expect.objectContaining({ action: 'member.removed', target: removed.id, before: 'EDITOR', actor: { kind: 'user', userId: await ownerId() } }),
      expect.objectContaining({ action: 'member.left', target: leaving.id, before: 'VIEWER', actor: { kind: 'user', userId: leaving.id } }),
    ]);
  });

  it('answers 404 to an organization Admin who leaves a workspace they only administer through the organization', async () => {
    const workspace = await t.newWorkspace();
    const orgAdmin = await t.newPerson('org-admin', 'ADMIN');
    const leave = await t.api('DELETE', `/workspaces/${workspace.slug}/members/me`, orgAdmin.token);
    expect([leave.status, leave.body.code]).toEqual([404, 'not_found']);
  });
});

describe('when an Admin who invited people loses the Admin role or leaves', () => {
  async function inviteAs(person: Person, slug: string): Promise<string> {
    const invited = await t.api('POST', `/workspaces/${slug}/invitations`, person.token, { email: `${person.email.split('@')[0]}-guest-${Math.random().toString(36).slice(2, 8)}@example.org`, role: 'VIEWER' });
    expect(invited.status).toBe(201);
    return invited.body.id;
  }
  const statusOf = async (id: string) => (await query<{ status: string }>(`select status from "${stack.schemas.membership}".invitations where id = $1`, [id]))[0]!.status;

  it('revokes the invitations they sent that are still pending, and only theirs', async () => {
    const workspace = await t.newWorkspace();
    const demoted = await t.addMember(workspace.slug, 'ADMIN', owner, 'demoted');
    const leaver = await t.addMember(workspace.slug, 'ADMIN', owner, 'leaver');
    const byDemoted = await inviteAs(demoted, workspace.slug);
    const byLeaver = await inviteAs(leaver, workspace.slug);
    const byOwner = (await t.api('POST', `/workspaces/${workspace.slug}/invitations`, owner, { email: `kept-${Date.now()}@example.org`, role: 'VIEWER' })).body.id;

    expect((await t.api('PATCH', `/workspaces/${workspace.slug}/members/${demoted.id}`, owner, { role: 'EDITOR' })).status).toBe(200);
    expect(await statusOf(byDemoted)).toBe('REVOKED');
    expect(await statusOf(byLeaver)).toBe('PENDING');
    expect((await t.api('DELETE', `/workspaces/${workspace.slug}/members/me`, leaver.token)).status).toBe(204);
    expect(await statusOf(byLeaver)).toBe('REVOKED');
    expect(await statusOf(byOwner)).toBe('PENDING');

    const trail = await eventually(async () => {
      const entries = (await t.auditTrail(workspace.id)).filter((entry) => entry.action === 'invitation.revoked');
      return entries.length === 2 ? entries : undefined;
    });
    expect(trail.map((entry) => [entry.target, (entry.after as { reason: string }).reason])).toEqual([
      [byDemoted, 'inviter-lost-admin'],
      [byLeaver, 'inviter-left'],
    ]);
  });

  it('revokes them too when another Admin removes the inviter, and their link stops working', async () => {
    const workspace = await t.newWorkspace();
    const removed = await t.addMember(workspace.slug, 'ADMIN', owner, 'removed');
    const remover = await t.addMember(workspace.slug, 'ADMIN', owner, 'remover');
    const guest = await t.newPerson('guest');
    const invited = await t.api('POST', `/workspaces/${workspace.slug}/invitations`, removed.token, { userId: guest.id, role: 'EDITOR' });
    expect(invited.status).toBe(201);
    const byRemover = await inviteAs(remover, workspace.slug);

    expect((await t.api('DELETE', `/workspaces/${workspace.slug}/members/${removed.id}`, remover.token)).status).toBe(204);
    expect(await statusOf(invited.body.id)).toBe('REVOKED');
    expect(await statusOf(byRemover)).toBe('PENDING');
    const accept = await t.api('POST', `/invitations/${invited.body.id}/accept`, guest.token);
    expect([accept.status, accept.body.code]).toEqual([409, 'invitation_revoked']);
    expect((await t.api('GET', `/workspaces/${workspace.slug}/invitations?status=REVOKED`, remover.token)).body.items).toEqual([expect.objectContaining({ id: invited.body.id })]);

    const trail = await eventually(async () => {
      const entries = await t.auditTrail(workspace.id);
      return entries.some((entry) => entry.action === 'invitation.revoked') ? entries : undefined;
    });
    expect(trail).toContainEqual(expect.objectContaining({ action: 'member.removed', target: removed.id, actor: { kind: 'user', userId: remover.id } }));
    expect(trail.filter((entry) => entry.action === 'invitation.revoked')).toEqual([
      expect.objectContaining({ target: invited.body.id, actor: { kind: 'user', userId: remover.id }, after: { email: guest.email, role: 'EDITOR', reason: 'inviter-lost-admin' } }),
    ]);
  });
});

describe('when someone searches people to invite', () => {
  it('answers Admins and organization Admins; 403 to a member who is not Admin; 404 to a non-member', async () => {
    const workspace = await t.newWorkspace();
    const viewer = await t.addMember(workspace.slug, 'VIEWER');
    const admin = await t.addMember(workspace.slug, 'ADMIN');
    const candidate = await t.newPerson('candidate');
    const orgAdmin = await t.newPerson('org-admin', 'ADMIN');
    const outsider = await t.newPerson('outsider');
    const search = (token: string) => t.api('GET', `/users?workspace=${workspace.slug}&query=${encodeURIComponent(candidate.email)}`, token);

    for (const token of [owner, admin.token, orgAdmin.token]) {
      const answer = await search(token);
      expect([answer.status, answer.body.items.map((item: { id: string }) => item.id)]).toEqual([200, [candidate.id]]);
    }
    const byViewer = await search(viewer.token);
    expect([byViewer.status, byViewer.body.code]).toEqual([403, 'forbidden']);
    const byOutsider = await search(outsider.token);
    expect([byOutsider.status, byOutsider.body.code]).toEqual([404, 'workspace_not_found']);
    const noWorkspace = await t.api('GET', '/users?query=x', owner);
    expect([noWorkspace.status, noWorkspace.body.code]).toEqual([400, 'invalid_input']);
    // The gateway checks the workspace named in the query like a path's slug, before asking membership about it.
    for (const bad of ['..%2Fx', `${workspace.slug}&workspace=${workspace.slug}`]) {
      const refused = await t.api('GET', `/users?workspace=${bad}`, owner);
      expect([refused.status, refused.body.code]).toEqual([400, 'invalid_input']);
    }
    // A member who just lost the Admin role is refused at once: the role change clears the gateway's cache.
    expect((await t.api('PATCH', `/workspaces/${workspace.slug}/members/${admin.id}`, owner, { role: 'EDITOR' })).status).toBe(200);
    expect((await search(admin.token)).status).toBe(403);
  });
});
