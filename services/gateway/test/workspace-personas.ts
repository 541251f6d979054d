import type { WorkspaceRole } from '@hexa/contract';
import { query } from '@hexa/testing';
import { ownerLogin, type Stack } from './stack.js';

export type Persona = 'owner' | 'admin' | 'editor' | 'viewer' | 'outsider' | 'organizationAdmin';

export interface PersonaWorkspace {
  slug: string;
  id: string;
  tokens: Record<Persona, string>;
  userIds: Record<Persona, string>;
}

/**
 * Gives a user a role in a workspace as membership will: in membership's own
 * table (what the gateway resolves) and, as its membership.changed event
 * will, in the workspaces service's replica of roles (what lists read). The
 * members API and its events come with their own issue.
 */
export async function grantRole(stack: Stack, workspace: { slug: string; id: string }, userId: string, role: WorkspaceRole, version = 1): Promise<void> {
  await query(`insert into "${stack.schemas.membership}".workspace_memberships (workspace_slug, workspace_id, user_id, role) values ($1, $2, $3, $4)`, [workspace.slug, workspace.id, userId, role]);
  await query(
    `insert into "${stack.schemas.workspaces}".member_roles (workspace_id, user_id, role, version, search_name, workspace_slug, active)
     select w.id, $2::uuid, $3::text, $4::bigint, w.search_name, w.slug, w.archived_at is null from "${stack.schemas.workspaces}".workspaces w where w.id = $1
     on conflict (workspace_id, user_id) do update set role = excluded.role, version = excluded.version`,
    [workspace.id, userId, role, version],
  );
}

/**
 * A workspace created by the organization's owner, with one user for each
 * persona: its Admin, Editor and Viewer, someone of the organization who is
 * not a member, and an organization Admin who is not a member either.
 */
export async function workspaceWithPersonas(stack: Stack, name: string): Promise<PersonaWorkspace> {
  const owner = await stack.login(ownerLogin.email, ownerLogin.password);
  const created = await stack.call({ method: 'POST', url: '/api/workspaces', token: owner, payload: { name } });
  if (created.statusCode !== 201) throw new Error(`create failed: ${created.statusCode} ${created.body}`);
  const { slug, id } = created.json<{ slug: string; id: string }>();
  const me = await stack.call({ method: 'GET', url: '/api/me', token: owner });
  const tokens: Partial<Record<Persona, string>> = { owner };
  const userIds: Partial<Record<Persona, string>> = { owner: me.json<{ id: string }>().id };
  const members: [Persona, WorkspaceRole][] = [['admin', 'ADMIN'], ['editor', 'EDITOR'], ['viewer', 'VIEWER']];
  for (const [persona, role] of members) {
    const user = await stack.createUser(`${persona}.${slug}@example.org`, 'MEMBER');
    await grantRole(stack, { slug, id }, user.id, role);
    tokens[persona] = user.token;
    userIds[persona] = user.id;
  }
  for (const [persona, organizationRole] of [['outsider', 'MEMBER'], ['organizationAdmin', 'ADMIN']] as const) {
    const user = await stack.createUser(`${persona.toLowerCase()}.${slug}@example.org`, organizationRole);
    tokens[persona] = user.token;
    userIds[persona] = user.id;
  }
  return { slug, id, tokens: tokens as Record<Persona, string>, userIds: userIds as Record<Persona, string> };
}
