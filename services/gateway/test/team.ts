import { randomBytes } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';
import type { WorkspaceRole } from '@hexa/contract';
import { query } from '@hexa/testing';
import type { Stack } from './stack.js';

export interface Answer {
  status: number;
  // Test assertions read any field of any answer.
  body: Record<string, any>;
  headers: OutgoingHttpHeaders;
}

export interface Person {
  id: string;
  email: string;
  token: string;
}

/**
 * What tests of members and invitations do through the gateway, as a client
 * would: call, create a workspace, bring people in with the real
 * invitation flow.
 */
export function team(stack: Stack, ownerToken: string) {
  async function api(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, token: string | undefined, payload?: object): Promise<Answer> {
    const response = await stack.call({ method, url: `/api${url}`, ...(token ? { token } : {}), ...(payload ? { payload } : {}) });
    return { status: response.statusCode, body: response.body ? response.json() : {}, headers: response.headers };
  }

  async function newWorkspace(name = `Team ${randomBytes(3).toString('hex')}`, token = ownerToken): Promise<{ slug: string; id: string }> {
    const created = await api('POST', '/workspaces', token, { name });
    if (created.status !== 201) throw new Error(`workspace not created: ${created.status} ${JSON.stringify(created.body)}`);
    return { slug: created.body.slug, id: created.body.id };
  }

  async function newPerson(prefix = 'person', organizationRole: 'OWNER' | 'ADMIN' | 'MEMBER' = 'MEMBER'): Promise<Person> {
    const email = `${prefix}-${randomBytes(4).toString('hex')}@example.org`;
    const user = await stack.createUser(email, organizationRole);
    return { ...user, email };
  }

  /** A new user who joins `slug` with `role` through an invitation they accept. */
  async function addMember(slug: string, role: WorkspaceRole, adminToken = ownerToken, prefix = role.toLowerCase()): Promise<Person> {
    const person = await newPerson(prefix);
    const invited = await api('POST', `/workspaces/${slug}/invitations`, adminToken, { userId: person.id, role });
    if (invited.status !== 201) throw new Error(`not invited: ${invited.status} ${JSON.stringify(invited.body)}`);
    const accepted = await api('POST', `/invitations/${invited.body.id}/accept`, person.token);
    if (accepted.status !== 200) throw new Error(`not accepted: ${accepted.status} ${JSON.stringify(accepted.body)}`);
    return person;
  }

  /** The workspace's audit trail as the workspaces service keeps it, oldest first. */
  async function auditTrail(workspaceId: string): Promise<{ action: string; target: string | null; actor: { kind: string; userId?: string }; before: unknown; after: unknown }[]> {
    return query(`select action, target, actor, before, after from "${stack.schemas.workspaces}".audit_events where workspace_id = $1 order by at, recorded_at`, [workspaceId]);
  }

  /** The workspaces service's replica of one member's role (undefined before any event arrived). */
  async function replicaRole(workspaceId: string, userId: string): Promise<{ role: WorkspaceRole | null; version: string } | undefined> {
    const [row] = await query<{ role: WorkspaceRole | null; version: string }>(`select role, version from "${stack.schemas.workspaces}".member_roles where workspace_id = $1 and user_id = $2`, [workspaceId, userId]);
    return row;
  }

  return { api, newWorkspace, newPerson, addMember, auditTrail, replicaRole };
}
