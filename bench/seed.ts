import type { Platform } from '../deploy/local/test/platform.js';

/** A person of the seeded organization, signed in. */
export interface Person {
  id: string;
  email: string;
  token: string;
}

export interface Organization {
  owner: Person;
  /** Slugs of the seeded workspaces, `bench-1` … `bench-<size>`. */
  size: number;
  /** Members of every `every`-th workspace, by the number of their workspaces. */
  members: Map<number, Person>;
}

async function call<T>(platform: Platform, method: string, path: string, token: string | undefined, body?: object): Promise<T> {
  const response = await fetch(`${platform.url}/api${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

async function signIn(platform: Platform, email: string, password: string): Promise<string> {
  return (await call<{ accessToken: string }>(platform, 'POST', '/auth/login', undefined, { email, password })).accessToken;
}

/**
 * An organization of `size` workspaces, written straight into the services'
 * tables with `generate_series` (the API would take an hour), each as the
 * services themselves write it: the workspace and its configuration in the
 * workspaces schema, each membership both in membership's table (what the
 * gateway resolves access from) and in the workspaces service's replica of
 * roles (what lists read; triggers keep the counts of both that a list's
 * total is read from). Members are created through the API and given
 * VIEWER on every `size / count`-th workspace.
 */
export async function seedOrganization(platform: Platform, options: { size: number; memberships: number[] }): Promise<Organization> {
  const ownerToken = await platform.login();
  const me = await call<{ id: string; email: string }>(platform, 'GET', '/me', ownerToken);
  const owner = { id: me.id, email: me.email, token: ownerToken };
  await platform.query(
    `with seeded as (
       insert into workspaces.workspaces (slug, name, search_name, description, status, created_by)
       select 'bench-' || n, 'Bench ' || lpad(n::text, 6, '0'), 'bench ' || lpad(n::text, 6, '0'), '# Bench', 'ready', $1
       from generate_series(1, $2) as n
       returning id
     )
     insert into workspaces.workspace_configurations (workspace_id) select id from seeded`,
    [owner.id, options.size],
  );
  const members = new Map<number, Person>();
  for (const count of options.memberships) {
    const email = `member-of-${count}@bench.test`;
    const password = `bench password of ${count}`;
    const created = await call<{ id: string }>(platform, 'POST', '/users', ownerToken, { email, name: `Member of ${count}`, password, organizationRole: 'MEMBER' });
    const every = Math.floor(options.size / count);
    // Only the seeded ones (`bench-<n>`): a scenario may have created others, such as `bench-gateway`.
    const picked = `from workspaces.workspaces w
      cross join lateral (select case when w.slug ~ '^bench-[0-9]+$' then substr(w.slug, 7)::int end as n) seeded
      where seeded.n % ${every} = 0 and seeded.n <= ${every * count}`;
    await platform.query(`insert into membership.workspace_memberships (workspace_slug, workspace_id, user_id, role) select w.slug, w.id, $1, 'VIEWER' ${picked}`, [created.id]);
    await platform.query(
      `insert into workspaces.member_roles (workspace_id, user_id, role, version, search_name, workspace_slug, active) select w.id, $1, 'VIEWER', 1, w.search_name, w.slug, true ${picked}`,
      [created.id],
    );
    members.set(count, { id: created.id, email, token: await signIn(platform, email, password) });
  }
  for (const table of ['workspaces.workspaces', 'workspaces.member_roles', 'membership.workspace_memberships']) await platform.query(`analyze ${table}`);
  return { owner, size: options.size, members };
}
