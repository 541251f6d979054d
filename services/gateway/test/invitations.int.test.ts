import { createHash } from 'node:crypto';
import { createDatabase, createOutboxRelay, createQueue, createRedis } from '@hexa/kit';
import { buildMembershipApp, type MembershipDatabase } from '@hexa/membership';
import { eventually, flushRedisPrefix, query, testRedisUrl, testRoleUrl } from '@hexa/testing';
import type { WorkspacesDatabase } from '@hexa/workspaces';
import { linkOf, startSmtp, tokenOf, type SmtpListener } from './smtp.js';
import { ownerLogin, startStack, type Stack } from './stack.js';
import { team } from './team.js';
import { startWorkers, type Workers } from './workers.js';

// Invitations end to end: the gateway, membership and workspaces in one process, membership's worker
// (outbox relay, invitation e-mails, sweeps) and the workspaces queue's consumer beside them, and a real
// SMTP server that receives the e-mails.

const publicUrl = 'https://hexa.example.org';
/** Low enough to reach in a test; each test uses its own workspace. */
const dailyLimit = 4;

let smtp: SmtpListener;
let stack: Stack;
let workers: Workers;
let owner: string;
let t: ReturnType<typeof team>;

beforeAll(async () => {
  smtp = await startSmtp();
  stack = await startStack({
    membershipEnv: { HEXA_SMTP_URL: smtp.url, HEXA_PUBLIC_URL: publicUrl, INVITATIONS_PER_WORKSPACE_PER_DAY: String(dailyLimit) },
    // Long enough that only the access-change announcement can explain a role seen at once.
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

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const newEmail = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 10)}@example.org`;

async function invitationRow(id: string) {
  const [row] = await query<{ status: string; token_hash: string | null; expires_at: Date; send_count: number }>(
    `select status, token_hash, expires_at, send_count from "${stack.schemas.membership}".invitations where id = $1`,
    [id],
  );
  return row!;
}

async function auditActions(workspaceId: string, expected: string[]): Promise<string[]> {
  return eventually(async () => {
    const actions = (await t.auditTrail(workspaceId)).map((entry) => entry.action);
    return expected.every((action) => actions.includes(action)) ? actions : undefined;
  });
}

describe('when an Admin invites a person who has no account', () => {
  let workspace: { slug: string; id: string };
  const email = newEmail('newcomer');
  let invitationId: string;
  let token: string;

  beforeAll(async () => {
    workspace = await t.newWorkspace('Malaria Burkina Faso');
    const invited = await t.api('POST', `/workspaces/${workspace.slug}/invitations`, owner, { email: email.toUpperCase(), role: 'EDITOR' });
    expect(invited.status).toBe(201);
    expect(invited.body).toMatchObject({ workspaceSlug: workspace.slug, email, role: 'EDITOR', status: 'PENDING', invitedBy: { name: 'Olive Owner' } });
    invitationId = invited.body.id;
    token = tokenOf((await smtp.mailsTo(email))[0]!);
  });

  it('sends an e-mail naming the workspace, the inviter and the role, with a link on the public URL, as text and HTML', async () => {
    const [mail] = await smtp.mailsTo(email);
    expect(mail!.subject).toBe('Olive Owner invited you to Malaria Burkina Faso on Hexa');
    expect(mail!.text).toContain('Olive Owner invited you to join the workspace "Malaria Burkina Faso" on Hexa as Editor.');
    const link = linkOf(mail!);
    expect(`${link.origin}${link.pathname}`).toBe(`${publicUrl}/invitations/accept`);
    expect(mail!.html).toContain(`href="${link.href}"`);
    expect(mail!.html).toContain('Olive Owner invited you to join the workspace <strong>Malaria Burkina Faso</strong> on Hexa as <strong>Editor</strong>.');
    // The Admins see it delivered.
    const delivered = await eventually(async () => {
      const listed = await t.api('GET', `/workspaces/${workspace.slug}/invitations?status=PENDING`, owner);
      const item = listed.body.items.find((candidate: { id: string }) => candidate.id === invitationId);
      return item?.delivery.status === 'sent' ? item : undefined;
    });
    expect(delivered.delivery).toMatchObject({ status: 'sent', attempts: 1, lastError: null, sentAt: expect.any(String) });
  });

  it('keeps only a hash of the token: no table, outbox row or job holds the token itself', async () => {
    expect((await invitationRow(invitationId)).token_hash).toBe(sha256(token));
    const tables = ['invitations', 'outbox', 'invitation_sends', 'inbox'];
    for (const table of tables) {
      const rows = await query<{ text: string }>(`select t::text as text from "${stack.schemas.membership}".${table} t`);
      expect(rows.filter((row) => row.text.includes(token))).toEqual([]);
    }
    const redis = createRedis(testRedisUrl);
    const queue = createQueue('membership', { connection: redis, prefix: stack.queuePrefix });
    try {
      const job = await queue.getJob(`invitation.mail-${invitationId}-1`);
      expect(job?.data).toEqual({ invitationId, send: 1 });
    } finally {
      await queue.close();
      redis.disconnect();
    }
  });

  it('previews the invitation as often as the link is opened without using it', async () => {
    const first = await t.api('GET', `/invitations/preview?token=${token}`, undefined);
    const second = await t.api('GET', `/invitations/preview?token=${token}`, undefined);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      id: invitationId,
      workspace: { slug: workspace.slug, name: 'Malaria Burkina Faso' },
      role: 'EDITOR',
      email,
      status: 'PENDING',
      invitedBy: { id: expect.any(String), name: 'Olive Owner' },
      createdAt: expect.any(String),
      expiresAt: expect.any(String),
      hasAccount: false,
    });
    expect(second.body).toEqual(first.body);
    expect((await invitationRow(invitationId)).status).toBe('PENDING');
  });

  it('refuses a weak password precisely and creates nothing', async () => {
    const localPart = email.split('@')[0]!;
    for (const password of ['password1234', 'aaaaaaaaaaaaaaaa', `${localPart}-secret`, 'Newcomer Newcomer 1']) {
      const answer = await t.api('POST', '/auth/register', undefined, { token, name: 'Newcomer', password });
      expect({ password, status: answer.status, code: answer.body.code }).toEqual({ password, status: 400, code: 'weak_password' });
      expect(answer.body.errors[0].field).toBe('body/password');
      expect(JSON.stringify(answer.body)).not.toContain(password);
    }
    const short = await t.api('POST', '/auth/register', undefined, { token, name: 'Newcomer', password: 'short' });
    expect([short.status, short.body.code, short.body.errors[0].field]).toEqual([400, 'invalid_input', 'body/password']);
    expect(await query(`select id from "${stack.schemas.membership}".users where email = $1`, [email])).toEqual([]);
  });

  it('creates the account with the token, grants the role, signs the person in; the token works once', async () => {
    const registered = await t.api('POST', '/auth/register', undefined, { token, name: 'Nina Newcomer', password: 'a long and personal passphrase' });
    expect(registered.status).toBe(201);
    expect(registered.body.user).toMatchObject({ email, name: 'Nina Newcomer', organizationRole: 'MEMBER' });
    expect(String(registered.headers['set-cookie'])).toContain('hexa_refresh=');
    const userId = registered.body.user.id;

    // The very next request has the role, and the password signs in.
    const seen = await t.api('GET', `/workspaces/${workspace.slug}`, registered.body.accessToken);
    expect([seen.status, seen.body.role]).toEqual([200, 'EDITOR']);
    expect(await stack.login(email, 'a long and personal passphrase')).toEqual(expect.any(String));

    // Used: every further use of the token says so.
    const again = await t.api('POST', '/auth/register', undefined, { token, name: 'Nina Again', password: 'another long passphrase' });
    expect([again.status, again.body.code]).toEqual([409, 'invitation_used']);
    const preview = await t.api('GET', `/invitations/preview?token=${token}`, undefined);
    expect([preview.status, preview.body.code]).toEqual([409, 'invitation_used']);
    const members = await t.api('GET', `/workspaces/${workspace.slug}/members`, owner);
    expect(members.body.items).toContainEqual({ userId, name: 'Nina Newcomer', email, role: 'EDITOR', since: expect.any(String) });

    // membership.changed reached the workspaces service's replica of roles; the audit trail has it all.
    expect(await eventually(async () => (await t.replicaRole(workspace.id, userId))?.role ?? undefined)).toBe('EDITOR');
    const trail = await eventually(async () => {
      const entries = await t.auditTrail(workspace.id);
      return entries.some((entry) => entry.action === 'invitation.accepted') ? entries : undefined;
    });
    expect(trail).toContainEqual(expect.objectContaining({ action: 'invitation.sent', target: invitationId, after: { email, role: 'EDITOR' } }));
    expect(trail).toContainEqual(expect.objectContaining({ action: 'invitation.accepted', target: invitationId, actor: { kind: 'user', userId } }));
    expect(trail).toContainEqual(expect.objectContaining({ action: 'member.added', target: userId, after: { role: 'EDITOR', invitationId } }));
    expect(JSON.stringify(trail)).not.toContain(token);
  });
});

describe('when a person with an account registers with an invitation token', () => {
  it('answers 409 email_taken: they sign in and accept instead', async () => {
    const workspace = await t.newWorkspace();
    const person = await t.newPerson('has-account');
    expect((await t.api('POST', `/workspaces/${workspace.slug}/invitations`, owner, { email: person.email, role: 'VIEWER' })).status).toBe(201);
    const token = tokenOf((await smtp.mailsTo(person.email))[0]!);
    expect((await t.api('GET', `/invitations/preview?token=${token}`, undefined)).body.hasAccount).toBe(true);
    const answer = await t.api('POST', '/auth/register', undefined, { token, name: 'Twice', password: 'a long and personal passphrase' });
    expect([answer.status, answer.body.code]).toEqual([409, 'email_taken']);
  });
});

describe('when an Admin invites an existing user found by searching', () => {
  let workspace: { slug: string; id: string };
  let grace: Awaited<ReturnType<typeof t.newPerson>>;

  beforeAll(async () => {
    workspace = await t.newWorkspace();
    grace = await t.newPerson('grace');
  });

  it('finds people by name or e-mail, leaves members out, and marks those already invited', async () => {
    const byName = await t.api('GET', `/users?workspace=${workspace.slug}&query=GRACE`, owner);
    expect(byName.status).toBe(200);
    expect(byName.body.items).toEqual([{ id: grace.id, name: grace.email.split('@')[0], email: grace.email, pendingInvitation: false }]);
    const byEmail = await t.api('GET', `/users?workspace=${workspace.slug}&query=${encodeURIComponent(grace.email)}`, owner);
    expect(byEmail.body.items.map((item: { id: string }) => item.id)).toEqual([grace.id]);
    // The owner is a member (the creator): never a candidate.
    expect((await t.api('GET', `/users?workspace=${workspace.slug}&query=owner`, owner)).body.items).toEqual([]);
    // Wildcards are literal.
    expect((await t.api('GET', `/users?workspace=${workspace.slug}&query=%25`, owner)).body.items).toEqual([]);

    expect((await t.api('POST', `/workspaces/${workspace.slug}/invitations`, owner, { userId: grace.id, role: 'EDITOR' })).status).toBe(201);
    const after = await t.api('GET', `/users?workspace=${workspace.slug}&query=grace`, owner);
    expect(after.body.items).toEqual([expect.objectContaining({ id: grace.id, pendingInvitation: true })]);
  });

  it('shows the invitation in their own list; another user cannot accept it; they accept and have the role at once', async () => {
    const mine = await t.api('GET', '/me/invitations', grace.token);
    expect(mine.status).toBe(200);
    expect(mine.body.items).toEqual([expect.objectContaining({ workspace: { slug: workspace.slug, name: expect.any(String) }, role: 'EDITOR', email: grace.email, status: 'PENDING' })]);
    const id = mine.body.items[0].id;
    // An e-mail with the link went out to them too.
    await smtp.mailsTo(grace.email);

    // Before accepting, the workspace does not exist for them.
    expect((await t.api('GET', `/workspaces/${workspace.slug}`, grace.token)).status).toBe(404);
    const intruder = await t.newPerson('intruder');
    const stolen = await t.api('POST', `/invitations/${id}/accept`, intruder.token);
    expect([stolen.status, stolen.body.code]).toEqual([403, 'invitation_email_mismatch']);

    const accepted = await t.api('POST', `/invitations/${id}/accept`, grace.token);
    expect([accepted.status, accepted.body.status]).toEqual([200, 'ACCEPTED']);
    const seen = await t.api('GET', `/workspaces/${workspace.slug}`, grace.token);
    expect([seen.status, seen.body.role]).toEqual([200, 'EDITOR']);
    expect((await t.api('GET', '/me/invitations', grace.token)).body.items).toEqual([]);
    const twice = await t.api('POST', `/invitations/${id}/accept`, grace.token);
    expect([twice.status, twice.body.code]).toEqual([409, 'invitation_used']);
  });

  it('records a decline, which the Admins see among declined invitations', async () => {
    const other = await t.newWorkspace();
    const invited = await t.api('POST', `/workspaces/${other.slug}/invitations`, owner, { userId: grace.id, role: 'VIEWER' });
    const declined = await t.api('POST', `/invitations/${invited.body.id}/decline`, grace.token);
    expect([declined.status, declined.body.status]).toEqual([200, 'DECLINED']);
    const listed = await t.api('GET', `/workspaces/${other.slug}/invitations?status=DECLINED`, owner);
    expect(listed.body.items).toEqual([expect.objectContaining({ id: invited.body.id, status: 'DECLINED', respondedAt: expect.any(String) })]);
    expect((await t.api('GET', `/workspaces/${other.slug}/invitations?status=PENDING`, owner)).body.items).toEqual([]);
    expect((await t.api('GET', `/workspaces/${other.slug}`, grace.token)).status).toBe(404);
    await auditActions(other.id, ['invitation.declined']);
  });
});

describe('when the person is already a member or already invited', () => {
  it('answers 409 already_member or invitation_pending, by e-mail or by user id', async () => {
    const workspace = await t.newWorkspace();
    const member = await t.addMember(workspace.slug, 'VIEWER');
    const byEmail = await t.api('POST', `/workspaces/${workspace.slug}/invitations`, owner, { email: member.email, role: 'EDITOR' });
    expect([byEmail.status, byEmail.body.code]).toEqual([409, 'already_member']);
    const byId = await t.api('POST', `/workspaces/${workspace.slug}/invitations`, owner, { userId: member.id, role: 'EDITOR' });
    expect([byId.status, byId.body.code]).toEqual([409, 'already_member']);

    const email = newEmail('twice');
    expect((await t.api('POST', `/workspaces/${workspace.slug}/invitations`, owner, { email, role: 'EDITOR' })).status).toBe(201);
    const again = await t.api('POST', `/workspaces/${workspace.slug}/invitations`, owner, { email: email.toUpperCase(), role: 'VIEWER' });
    expect([again.status, again.body.code]).toEqual([409, 'invitation_pending']);
  });
});

describe('when an Admin resends an invitation', () => {
  it('sends a new e-mail with a new token and a later expiry; the old link stops working at once', async () => {
    const workspace = await t.newWorkspace();
    const email = newEmail('resent');
    const invited = await t.api('POST', `/workspaces/${workspace.slug}/invitations`, owner, { email, role: 'VIEWER' });
    const oldToken = tokenOf((await smtp.mailsTo(email))[0]!);

    const resent = await t.api('POST', `/workspaces/${workspace.slug}/invitations/${invited.body.id}/resend`, owner);
    expect(resent.status).toBe(200);
    expect(resent.body).toMatchObject({ id: invited.body.id, status: 'PENDING', delivery: { status: 'queued', attempts: 0 } });
    expect(Date.parse(resent.body.expiresAt)).toBeGreaterThan(Date.parse(invited.body.expiresAt));
    const stale = await t.api('GET', `/invitations/preview?token=${oldToken}`, undefined);
    expect([stale.status, stale.body.code]).toEqual([404, 'invitation_not_found']);

    const mails = await smtp.mailsTo(email, 2);
    const newToken = tokenOf(mails[1]!);
    expect(newToken).not.toBe(oldToken);
    expect((await t.api('GET', `/invitations/preview?token=${newToken}`, undefined)).status).toBe(200);
    expect((await t.api('POST', '/auth/register', undefined, { token: oldToken, name: 'Old', password: 'a long and personal passphrase' })).body.code).toBe('invitation_not_found');
    expect((await t.api('POST', '/auth/register', undefined, { token: newToken, name: 'Rita Resent', password: 'a long and personal passphrase' })).status).toBe(201);
    await auditActions(workspace.id, ['invitation.sent', 'invitation.resent', 'invitation.accepted']);
  });
});

describe('when an invitation expires', () => {
  it('shows EXPIRED, refuses its token precisely, is marked expired in the audit trail, and a resend revives it', async () => {
    const workspace = await t.newWorkspace();
    const email = newEmail('late');
    const invited = await t.api('POST', `/workspaces/${workspace.slug}/invitations`, owner, { email, role: 'EDITOR' });
    const token = tokenOf((await smtp.mailsTo(email))[0]!);
    // Seven days pass.
    await query(`update "${stack.schemas.membership}".invitations set expires_at = now() - interval '1 minute' where id = $1`, [invited.body.id]);

    const expired = await t.api('GET', `/workspaces/${workspace.slug}/invitations?status=EXPIRED`, owner);
    expect(expired.body.items).toEqual([expect.objectContaining({ id: invited.body.id, status: 'EXPIRED' })]);
    expect((await t.api('GET', `/workspaces/${workspace.slug}/invitations?status=PENDING`, owner)).body.items).toEqual([]);
    const preview = await t.api('GET', `/invitations/preview?token=${token}`, undefined);
    expect([preview.status, preview.body.code]).toEqual([409, 'invitation_expired']);
    const register = await t.api('POST', '/auth/register', undefined, { token, name: 'Late', password: 'a long and personal passphrase' });
    expect([register.status, register.body.code]).toEqual([409, 'invitation_expired']);

    await workers.membership.invitations.expireDue();
    expect((await invitationRow(invited.body.id)).status).toBe('EXPIRED');
    await auditActions(workspace.id, ['invitation.expired']);

    const resent = await t.api('POST', `/workspaces/${workspace.slug}/invitations/${invited.body.id}/resend`, owner);
    expect([resent.status, resent.body.status]).toEqual([200, 'PENDING']);
    const fresh = tokenOf((await smtp.mailsTo(email, 2))[1]!);
    expect((await t.api('GET', `/invitations/preview?token=${fresh}`, undefined)).body.status).toBe('PENDING');
  });
});

describe('when an Admin revokes an invitation', () => {
  it('stops its link at once and keeps it listed as revoked', async () => {
    const workspace = await t.newWorkspace();
    const person = await t.newPerson('revoked');
    const invited = await t.api('POST', `/workspaces/${workspace.slug}/invitations`, owner, { userId: person.id, role: 'EDITOR' });
    const token = tokenOf((await smtp.mailsTo(person.email))[0]!);

    expect((await t.api('DELETE', `/workspaces/${workspace.slug}/invitations/${invited.body.id}`, owner)).status).toBe(204);
    const preview = await t.api('GET', `/invitations/preview?token=${token}`, undefined);
    expect([preview.status, preview.body.code]).toEqual([409, 'invitation_revoked']);
    const accept = await t.api('POST', `/invitations/${invited.body.id}/accept`, person.token);
    expect([accept.status, accept.body.code]).toEqual([409, 'invitation_revoked']);
    expect((await t.api('GET', `/workspaces/${workspace.slug}/invitations?status=REVOKED`, owner)).body.items).toEqual([expect.objectContaining({ id: invited.body.id })]);
    const again = await t.api('DELETE', `/workspaces/${workspace.slug}/invitations/${invited.body.id}`, owner);
    expect([again.status, again.body.code]).toEqual([409, 'invitation_revoked']);
    const elsewhere = await t.api('DELETE', `/workspaces/${(await t.newWorkspace()).slug}/invitations/${invited.body.id}`, owner);
    expect([elsewhere.status, elsewhere.body.code]).toEqual([404, 'invitation_not_found']);
    const trail = await eventually(async () => {
      const entries = await t.auditTrail(workspace.id);
      return entries.some((entry) => entry.action === 'invitation.revoked') ? entries : undefined;
    });
    expect(trail).toContainEqual(expect.objectContaining({ action: 'invitation.revoked', target: invited.body.id, after: { email: person.email, role: 'EDITOR', reason: 'revoked-by-admin' } }));
  });
});

describe('when the workspace is archived', () => {
  it('revokes its pending invitations when the event arrives; restoring it does not bring them back', async () => {
    const workspace = await t.newWorkspace();
    const emails = [newEmail('archived-a'), newEmail('archived-b')];
    const ids: string[] = [];
    for (const email of emails) ids.push((await t.api('POST', `/workspaces/${workspace.slug}/invitations`, owner, { email, role: 'VIEWER' })).body.id);
    const [ownerRow] = await query<{ id: string }>(`select id from "${stack.schemas.membership}".users where email = $1`, [ownerLogin.email]);
    const ownerId = ownerRow!.id;

    // What archiving does (the workspaces issue): the row is archived and workspace.archived reaches membership's queue.
    await query(`update "${stack.schemas.workspaces}".workspaces set archived_at = now() where id = $1`, [workspace.id]);
    const redis = createRedis(testRedisUrl);
    const queue = createQueue('membership', { connection: redis, prefix: stack.queuePrefix });
    try {
      const event = { workspaceId: workspace.id, slug: workspace.slug, actorId: ownerId };
      await queue.add('workspace.archived', event, { jobId: `workspace.archived-${workspace.id}-1` });
      await eventually(async () => ((await Promise.all(ids.map(invitationRow))).every((row) => row.status === 'REVOKED') ? true : undefined));
      // Delivered again (the relay re-sends when unsure): nothing more happens.
      await queue.add('workspace.archived', event, { jobId: `workspace.archived-${workspace.id}-1-again` });
      await eventually(async () => ((await queue.getJobState(`workspace.archived-${workspace.id}-1-again`)) === 'completed' ? true : undefined));
    } finally {
      await queue.close();
      redis.disconnect();
    }
    const trail = await eventually(async () => {
      const entries = (await t.auditTrail(workspace.id)).filter((entry) => entry.action === 'invitation.revoked');
      return entries.length >= 2 ? entries : undefined;
    });
    expect(trail).toHaveLength(2);
    expect(trail.map((entry) => entry.after)).toEqual(expect.arrayContaining(emails.map((email) => ({ email, role: 'VIEWER', reason: 'workspace-archived' }))));
    expect(trail[0]!.actor).toEqual({ kind: 'user', userId: ownerId });

    // While archived, nobody is invited to it.
    const refused = await t.api('POST', `/workspaces/${workspace.slug}/invitations`, owner, { email: newEmail('archived-c'), role: 'VIEWER' });
    expect([refused.status, refused.body.code]).toEqual([404, 'workspace_not_found']);
    // Restored: the revoked invitations stay revoked; new ones work.
    await query(`update "${stack.schemas.workspaces}".workspaces set archived_at = null where id = $1`, [workspace.id]);
    expect((await Promise.all(ids.map(invitationRow))).map((row) => row.status)).toEqual(['REVOKED', 'REVOKED']);
    expect((await t.api('POST', `/workspaces/${workspace.slug}/invitations`, owner, { email: emails[0], role: 'VIEWER' })).status).toBe(201);
  });

  it('refuses to accept an invitation whose workspace was archived before the event arrived', async () => {
    const workspace = await t.newWorkspace();
    const person = await t.newPerson('too-late');
    const invited = await t.api('POST', `/workspaces/${workspace.slug}/invitations`, owner, { userId: person.id, role: 'EDITOR' });
    await query(`update "${stack.schemas.workspaces}".workspaces set archived_at = now() where id = $1`, [workspace.id]);
    const accept = await t.api('POST', `/invitations/${invited.body.id}/accept`, person.token);
    expect([accept.status, accept.body.code]).toEqual([409, 'invitation_revoked']);
    expect(await query(`select 1 from "${stack.schemas.membership}".workspace_memberships where user_id = $1`, [person.id])).toEqual([]);
  });
});

describe('when a workspace sends more invitations than its daily limit', () => {
  it('answers 429 with Retry-After, counting resends, and leaves other workspaces alone', async () => {
    const workspace = await t.newWorkspace();
    const first = await t.api('POST', `/workspaces/${workspace.slug}/invitations`, owner, { email: newEmail('limit'), role: 'VIEWER' });
    expect((await t.api('POST', `/workspaces/${workspace.slug}/invitations/${first.body.id}/resend`, owner)).status).toBe(200);
    for (let sent = 2; sent < dailyLimit; sent += 1) {
      expect((await t.api('POST', `/workspaces/${workspace.slug}/invitations`, owner, { email: newEmail('limit'), role: 'VIEWER' })).status).toBe(201);
    }
    const refused = await t.api('POST', `/workspaces/${workspace.slug}/invitations`, owner, { email: newEmail('limit'), role: 'VIEWER' });
    expect([refused.status, refused.body.code]).toEqual([429, 'too_many_requests']);
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(86_000);
    expect(retryAfter).toBeLessThanOrEqual(86_400);
    const resend = await t.api('POST', `/workspaces/${workspace.slug}/invitations/${first.body.id}/resend`, owner);
    expect(resend.status).toBe(429);
    // Nothing of the refused invitation was kept.
    expect((await t.api('GET', `/workspaces/${workspace.slug}/invitations`, owner)).body.totalItems).toBe(dailyLimit - 1);
    const other = await t.newWorkspace();
    expect((await t.api('POST', `/workspaces/${other.slug}/invitations`, owner, { email: newEmail('limit'), role: 'VIEWER' })).status).toBe(201);
  });
});

describe('when the input is wrong', () => {
  it('answers a precise 400 for a malformed e-mail, an unknown role, both or neither of email and userId, and an unknown field', async () => {
    const { slug } = await t.newWorkspace();
    const cases: [object, string][] = [
      [{ email: 'not-an-email', role: 'VIEWER' }, 'body/email'],
      [{ email: newEmail('ok'), role: 'OWNER' }, 'body/role'],
      [{ email: newEmail('ok'), userId: '00000000-0000-4000-8000-000000000000', role: 'VIEWER' }, 'body'],
      [{ role: 'VIEWER' }, 'body/email'],
      [{ email: newEmail('ok'), role: 'VIEWER', rol: 'ADMIN' }, 'body/rol'],
    ];
    for (const [payload, field] of cases) {
      const answer = await t.api('POST', `/workspaces/${slug}/invitations`, owner, payload);
      expect({ payload, status: answer.status, code: answer.body.code }).toEqual({ payload, status: 400, code: 'invalid_input' });
      expect(answer.body.errors.map((error: { field: string }) => error.field)).toContain(field);
    }
    const unknownUser = await t.api('POST', `/workspaces/${slug}/invitations`, owner, { userId: '00000000-0000-4000-8000-000000000000', role: 'VIEWER' });
    expect([unknownUser.status, unknownUser.body.code]).toEqual([404, 'not_found']);
    expect((await t.api('GET', `/workspaces/${slug}/invitations`, owner)).body.totalItems).toBe(0);
  });

  it('answers 400 for a token that cannot be one, and 404 invitation_not_found for one that is not one, without echoing it', async () => {
    for (const token of ['short', 'x'.repeat(44), `${'a'.repeat(42)}$`]) {
      const answer = await t.api('GET', `/invitations/preview?token=${encodeURIComponent(token)}`, undefined);
      expect([answer.status, answer.body.code]).toEqual([400, 'invalid_input']);
      expect(JSON.stringify(answer.body)).not.toContain(token);
    }
    const made = 'A'.repeat(43);
    const unknown = await t.api('GET', `/invitations/preview?token=${made}`, undefined);
    expect([unknown.status, unknown.body.code]).toEqual([404, 'invitation_not_found']);
    expect(JSON.stringify(unknown.body)).not.toContain(made);
    const register = await t.api('POST', '/auth/register', undefined, { token: made, name: 'Nobody', password: 'a long and personal passphrase' });
    expect([register.status, register.body.code]).toEqual([404, 'invitation_not_found']);
    const accept = await t.api('POST', '/invitations/00000000-0000-4000-8000-000000000000/accept', owner);
    expect([accept.status, accept.body.code]).toEqual([404, 'invitation_not_found']);
  });
});

describe('when registrations come too fast from one address', () => {
  it('answers 429 with Retry-After, like sign-in', async () => {
    const gateway = await stack.startGateway({ env: { LOGIN_RATE_LIMIT_PER_MINUTE: '2' } });
    // An address of its own: the counters are shared by every gateway of the stack.
    const register = () =>
      gateway.inject({ method: 'POST', url: '/api/auth/register', remoteAddress: '192.0.2.77', payload: { token: 'B'.repeat(43), name: 'Guesser', password: 'a long and personal passphrase' } });
    expect((await register()).statusCode).toBe(404);
    expect((await register()).statusCode).toBe(404);
    const limited = await register();
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ code: 'too_many_requests' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });
});

const day = 24 * 60 * 60 * 1000;

describe('how long an invitation link works', () => {
  it('is seven days from the sending by default, again from a resend, and the e-mail says until when', async () => {
    const workspace = await t.newWorkspace();
    const email = newEmail('week');
    const invited = await t.api('POST', `/workspaces/${workspace.slug}/invitations`, owner, { email, role: 'VIEWER' });
    expect(invited.status).toBe(201);
    expect(Date.parse(invited.body.expiresAt) - Date.parse(invited.body.createdAt)).toBe(7 * day);
    expect((await smtp.mailsTo(email))[0]!.text).toContain(`until ${new Date(invited.body.expiresAt).toUTCString()}`);

    const resent = await t.api('POST', `/workspaces/${workspace.slug}/invitations/${invited.body.id}/resend`, owner);
    expect(Math.abs(Date.parse(resent.body.expiresAt) - (Date.now() + 7 * day))).toBeLessThan(60_000);
  });

  it('is INVITATION_TTL_DAYS days when that is set, for a new invitation and a resend', async () => {
    const config = { ...stack.membershipConfig, INVITATION_TTL_DAYS: 2 };
    // A second membership service on the same database, with the setting, behind a gateway of its own.
    const membership = await buildMembershipApp({
      config,
      db: createDatabase<MembershipDatabase>({ url: config.DATABASE_URL, schema: stack.schemas.membership }),
      redis: createRedis(testRedisUrl),
    });
    try {
      const gateway = await stack.startGateway({ env: { MEMBERSHIP_URL: await membership.listen({ host: '127.0.0.1', port: 0 }) } });
      const call = async (method: 'POST', url: string, payload?: object) => {
        const response = await gateway.inject({ method, url: `/api${url}`, headers: { authorization: `Bearer ${owner}` }, ...(payload ? { payload } : {}) });
        return { status: response.statusCode, body: response.json() };
      };
      const workspace = await t.newWorkspace();
      const invited = await call('POST', `/workspaces/${workspace.slug}/invitations`, { email: newEmail('two-days'), role: 'VIEWER' });
      expect(invited.status).toBe(201);
      expect(Date.parse(invited.body.expiresAt) - Date.parse(invited.body.createdAt)).toBe(2 * day);
      const resent = await call('POST', `/workspaces/${workspace.slug}/invitations/${invited.body.id}/resend`);
      expect(resent.status).toBe(200);
      expect(Math.abs(Date.parse(resent.body.expiresAt) - (Date.now() + 2 * day))).toBeLessThan(60_000);
    } finally {
      await membership.close();
    }
  });
});

describe('when the same thing is asked twice at once', () => {
  const invite = (slug: string, payload: object) => t.api('POST', `/workspaces/${slug}/invitations`, owner, payload);
  const membersOf = (slug: string, userId: string) =>
    query(`select role from "${stack.schemas.membership}".workspace_memberships where workspace_slug = $1 and user_id = $2`, [slug, userId]);

  it('invites a person once: one 201, the other 409 invitation_pending, never a 500', async () => {
    const workspace = await t.newWorkspace();
    const person = await t.newPerson('twin');
    const email = newEmail('twin');
    // The same address twice, then one person named by address and by id.
    const pairs: [object, object][] = [
      [{ email, role: 'VIEWER' }, { email: email.toUpperCase(), role: 'VIEWER' }],
      [{ email: person.email, role: 'VIEWER' }, { userId: person.id, role: 'EDITOR' }],
    ];
    for (const [first, second] of pairs) {
      const answers = await Promise.all([invite(workspace.slug, first), invite(workspace.slug, second)]);
      expect(answers.map((answer) => answer.status).sort()).toEqual([201, 409]);
      expect(answers.find((answer) => answer.status === 409)!.body.code).toBe('invitation_pending');
      const invited = answers.find((answer) => answer.status === 201)!.body.email;
      expect(await query(`select id from "${stack.schemas.membership}".invitations where workspace_slug = $1 and email = $2`, [workspace.slug, invited])).toHaveLength(1);
    }
  });

  it('never sends more invitations than the daily limit, however many arrive together', async () => {
    const workspace = await t.newWorkspace();
    const answers = await Promise.all(Array.from({ length: dailyLimit + 4 }, () => invite(workspace.slug, { email: newEmail('rush'), role: 'VIEWER' })));
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(dailyLimit);
    expect(statuses.filter((status) => status === 429)).toHaveLength(4);
    for (const refused of answers.filter((answer) => answer.status === 429)) expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(await query(`select id from "${stack.schemas.membership}".invitations where workspace_slug = $1`, [workspace.slug])).toHaveLength(dailyLimit);
    expect(await query(`select 1 from "${stack.schemas.membership}".invitation_sends where workspace_slug = $1`, [workspace.slug])).toHaveLength(dailyLimit);
  });

  it('creates one account from two sign-ups with the same token', async () => {
    const workspace = await t.newWorkspace();
    const email = newEmail('double-signup');
    expect((await invite(workspace.slug, { email, role: 'EDITOR' })).status).toBe(201);
    const token = tokenOf((await smtp.mailsTo(email))[0]!);
    const answers = await Promise.all(
      ['First', 'Second'].map((name) => t.api('POST', '/auth/register', undefined, { token, name, password: 'a long and personal passphrase' })),
    );
    expect(answers.map((answer) => answer.status).sort()).toEqual([201, 409]);
    expect(['email_taken', 'invitation_used']).toContain(answers.find((answer) => answer.status === 409)!.body.code);
    const winner = answers.find((answer) => answer.status === 201)!.body.user;
    expect(await query(`select id, name from "${stack.schemas.membership}".users where email = $1`, [email])).toEqual([{ id: winner.id, name: winner.name }]);
    expect(await membersOf(workspace.slug, winner.id)).toEqual([{ role: 'EDITOR' }]);
  });

  it('accepts once from two accepts of the same invitation', async () => {
    const workspace = await t.newWorkspace();
    const person = await t.newPerson('double-accept');
    const invited = await invite(workspace.slug, { userId: person.id, role: 'EDITOR' });
    const answers = await Promise.all([0, 1].map(() => t.api('POST', `/invitations/${invited.body.id}/accept`, person.token)));
    expect(answers.map((answer) => [answer.status, answer.body.code ?? answer.body.status]).sort()).toEqual([[200, 'ACCEPTED'], [409, 'invitation_used']]);
    expect(await membersOf(workspace.slug, person.id)).toEqual([{ role: 'EDITOR' }]);
    const added = await eventually(async () => {
      const entries = (await t.auditTrail(workspace.id)).filter((entry) => entry.action === 'member.added' && entry.target === person.id);
      return entries.length > 0 ? entries : undefined;
    });
    expect(added).toHaveLength(1);
  });

  it('lets an accept and a revocation racing each other end one way or the other, never both', async () => {
    const workspace = await t.newWorkspace();
    for (let round = 0; round < 3; round += 1) {
      const person = await t.newPerson('accept-or-revoke');
      const { id } = (await invite(workspace.slug, { userId: person.id, role: 'VIEWER' })).body;
      const [accept, revoke] = await Promise.all([
        t.api('POST', `/invitations/${id}/accept`, person.token),
        t.api('DELETE', `/workspaces/${workspace.slug}/invitations/${id}`, owner),
      ]);
      const { status } = await invitationRow(id);
      if (accept.status === 200) {
        expect([revoke.status, revoke.body.code, status]).toEqual([409, 'invitation_used', 'ACCEPTED']);
        expect(await membersOf(workspace.slug, person.id)).toEqual([{ role: 'VIEWER' }]);
      } else {
        expect([accept.status, accept.body.code, revoke.status, status]).toEqual([409, 'invitation_revoked', 204, 'REVOKED']);
        expect(await membersOf(workspace.slug, person.id)).toEqual([]);
      }
    }
  });

  it('lets a resend racing an accept or a sign-up with the old link end one way or the other', async () => {
    const workspace = await t.newWorkspace();
    const person = await t.newPerson('accept-or-resend');
    const invited = await invite(workspace.slug, { userId: person.id, role: 'VIEWER' });
    const [accept, resend] = await Promise.all([
      t.api('POST', `/invitations/${invited.body.id}/accept`, person.token),
      t.api('POST', `/workspaces/${workspace.slug}/invitations/${invited.body.id}/resend`, owner),
    ]);
    // Accepting by id is the invited person's own act: a resend just before it changes nothing to it.
    expect([accept.status, accept.body.status]).toEqual([200, 'ACCEPTED']);
    expect([[200, undefined], [409, 'invitation_used']]).toContainEqual([resend.status, resend.body.code]);
    expect(await membersOf(workspace.slug, person.id)).toEqual([{ role: 'VIEWER' }]);

    const email = newEmail('signup-or-resend');
    const second = await invite(workspace.slug, { email, role: 'EDITOR' });
    const token = tokenOf((await smtp.mailsTo(email))[0]!);
    const [register, resent] = await Promise.all([
      t.api('POST', '/auth/register', undefined, { token, name: 'Racer', password: 'a long and personal passphrase' }),
      t.api('POST', `/workspaces/${workspace.slug}/invitations/${second.body.id}/resend`, owner),
    ]);
    const users = await query(`select id from "${stack.schemas.membership}".users where email = $1`, [email]);
    if (register.status === 201) {
      expect([resent.status, resent.body.code, (await invitationRow(second.body.id)).status]).toEqual([409, 'invitation_used', 'ACCEPTED']);
      expect(users).toHaveLength(1);
    } else {
      // The resend came first: the old link stopped working, and nothing was created.
      expect([register.status, register.body.code, resent.status, (await invitationRow(second.body.id)).status]).toEqual([404, 'invitation_not_found', 200, 'PENDING']);
      expect(users).toEqual([]);
    }
  });
});

describe('when a workspace is archived through the API', () => {
  it('revokes its pending invitations once the event is relayed; restoring it brings none back', async () => {
    // The workspaces worker's relay, as production runs it: it delivers workspace.archived to membership's queue.
    const db = createDatabase<WorkspacesDatabase>({ url: testRoleUrl('workspaces'), schema: stack.schemas.workspaces });
    const redis = createRedis(testRedisUrl);
    const outbox = createOutboxRelay({ db, redis, prefix: stack.queuePrefix });
    outbox.relay.start(100);
    try {
      const workspace = await t.newWorkspace();
      const person = await t.newPerson('archived-guest');
      const pending = await t.api('POST', `/workspaces/${workspace.slug}/invitations`, owner, { userId: person.id, role: 'EDITOR' });
      const declined = await t.api('POST', `/workspaces/${workspace.slug}/invitations`, owner, { email: newEmail('archived-decliner'), role: 'VIEWER' });
      await query(`update "${stack.schemas.membership}".invitations set status = 'DECLINED', responded_at = now() where id = $1`, [declined.body.id]);

      const archived = await t.api('POST', `/workspaces/${workspace.slug}/archive`, owner);
      expect([archived.status, typeof archived.body.archivedAt]).toEqual([200, 'string']);
      expect(await eventually(async () => ((await invitationRow(pending.body.id)).status === 'REVOKED' ? true : undefined))).toBe(true);
      expect((await invitationRow(declined.body.id)).status).toBe('DECLINED');
      const trail = await eventually(async () => {
        const entries = (await t.auditTrail(workspace.id)).filter((entry) => entry.action === 'invitation.revoked');
        return entries.length > 0 ? entries : undefined;
      });
      expect(trail).toEqual([expect.objectContaining({ target: pending.body.id, after: { email: person.email, role: 'EDITOR', reason: 'workspace-archived' } })]);

      const restored = await t.api('POST', `/workspaces/${workspace.slug}/restore`, owner);
      expect(restored.status).toBe(200);
      const accept = await t.api('POST', `/invitations/${pending.body.id}/accept`, person.token);
      expect([accept.status, accept.body.code]).toEqual([409, 'invitation_revoked']);
      expect((await t.api('GET', `/workspaces/${workspace.slug}/invitations?status=PENDING`, owner)).body.items).toEqual([]);
      const again = await t.api('POST', `/workspaces/${workspace.slug}/invitations`, owner, { userId: person.id, role: 'EDITOR' });
      expect([again.status, again.body.status]).toEqual([201, 'PENDING']);
    } finally {
      await outbox.close();
      redis.disconnect();
      await db.destroy();
    }
  });
});

describe('when the invited person answers what they cannot', () => {
  it('answers 403 invitation_email_mismatch to someone declining another person\'s invitation, and keeps it pending', async () => {
    const workspace = await t.newWorkspace();
    const person = await t.newPerson('invited');
    const other = await t.newPerson('other');
    const invited = await t.api('POST', `/workspaces/${workspace.slug}/invitations`, owner, { userId: person.id, role: 'VIEWER' });
    const declined = await t.api('POST', `/invitations/${invited.body.id}/decline`, other.token);
    expect([declined.status, declined.body.code]).toEqual([403, 'invitation_email_mismatch']);
    expect((await invitationRow(invited.body.id)).status).toBe('PENDING');
  });

  it('answers 409 invitation_expired to accepting or declining an expired invitation by id', async () => {
    const workspace = await t.newWorkspace();
    const person = await t.newPerson('expired');
    const invited = await t.api('POST', `/workspaces/${workspace.slug}/invitations`, owner, { userId: person.id, role: 'VIEWER' });
    await query(`update "${stack.schemas.membership}".invitations set expires_at = now() - interval '1 minute' where id = $1`, [invited.body.id]);
    for (const action of ['accept', 'decline']) {
      const answer = await t.api('POST', `/invitations/${invited.body.id}/${action}`, person.token);
      expect({ action, status: answer.status, code: answer.body.code }).toEqual({ action, status: 409, code: 'invitation_expired' });
    }
    expect(await query(`select 1 from "${stack.schemas.membership}".workspace_memberships where user_id = $1`, [person.id])).toEqual([]);
  });
});

describe('when an Admin lists accepted invitations and resends a declined one', () => {
  it('lists the accepted ones under ACCEPTED, and a resent decline is pending again with a new link that works', async () => {
    const workspace = await t.newWorkspace();
    const joiner = await t.addMember(workspace.slug, 'EDITOR');
    const accepted = await t.api('GET', `/workspaces/${workspace.slug}/invitations?status=ACCEPTED`, owner);
    expect(accepted.body.items).toEqual([expect.objectContaining({ email: joiner.email, role: 'EDITOR', status: 'ACCEPTED', respondedAt: expect.any(String) })]);
    expect((await t.api('GET', `/workspaces/${workspace.slug}/invitations?status=PENDING`, owner)).body.items).toEqual([]);

    const person = await t.newPerson('second-thoughts');
    const invited = await t.api('POST', `/workspaces/${workspace.slug}/invitations`, owner, { userId: person.id, role: 'VIEWER' });
    // Declined after the e-mail went out (one declined before is simply never sent).
    await smtp.mailsTo(person.email);
    expect((await t.api('POST', `/invitations/${invited.body.id}/decline`, person.token)).status).toBe(200);
    const resent = await t.api('POST', `/workspaces/${workspace.slug}/invitations/${invited.body.id}/resend`, owner);
    expect([resent.status, resent.body.status, resent.body.respondedAt]).toEqual([200, 'PENDING', null]);
    expect((await t.api('GET', `/workspaces/${workspace.slug}/invitations?status=DECLINED`, owner)).body.items).toEqual([]);
    const token = tokenOf((await smtp.mailsTo(person.email, 2))[1]!);
    expect((await t.api('GET', `/invitations/preview?token=${token}`, undefined)).body).toMatchObject({ id: invited.body.id, status: 'PENDING' });
    expect((await t.api('POST', `/invitations/${invited.body.id}/accept`, person.token)).body.status).toBe('ACCEPTED');
    const trail = await eventually(async () => {
      const entries = await t.auditTrail(workspace.id);
      return entries.some((entry) => entry.action === 'invitation.resent') ? entries : undefined;
    });
    expect(trail).toContainEqual(expect.objectContaining({ action: 'invitation.resent', target: invited.body.id, before: expect.objectContaining({ status: 'DECLINED' }) }));
  });
});

describe('when Redis loses an invitation e-mail job before the worker took it', () => {
  it('the outbox sends it again, and the e-mail arrives once with a working link', async () => {
    const redis = createRedis(testRedisUrl);
    const queue = createQueue('membership', { connection: redis, prefix: stack.queuePrefix });
    // The worker takes nothing while the queue is paused: the job waits in Redis, where it is lost.
    await queue.pause();
    try {
      const workspace = await t.newWorkspace();
      const email = newEmail('lost-job');
      const invited = await t.api('POST', `/workspaces/${workspace.slug}/invitations`, owner, { email, role: 'VIEWER' });
      const jobId = `invitation.mail-${invited.body.id}-1`;
      await eventually(async () => ((await queue.getJobState(jobId)) === 'unknown' ? undefined : true));
      expect(await queue.remove(jobId)).toBe(1);
      expect(await queue.getJobState(jobId)).toBe('unknown');
      // The relay finds the job gone and publishes it again.
      await eventually(async () => ((await queue.getJobState(jobId)) === 'unknown' ? undefined : true), 20_000);
      await queue.resume();
      const [mail] = await smtp.mailsTo(email);
      expect((await t.api('GET', `/invitations/preview?token=${tokenOf(mail!)}`, undefined)).body).toMatchObject({ id: invited.body.id, status: 'PENDING' });
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(await smtp.mailsTo(email)).toHaveLength(1);
    } finally {
      await queue.resume();
      await queue.close();
      redis.disconnect();
    }
  });
});
