import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { createDatabase, migrateToLatest } from '@hexa/kit';
import { createServiceSchema, dropSchema, query } from '@hexa/testing';
import { createMemberRolesService, workspacesMigrations, type WorkspacesDatabase } from '../src/index.js';
import { insertWorkspace, lockWorkspace, pageWorkspaces, updateWorkspace } from '../src/modules/workspaces/workspaces-repository.js';

// The counts a list's total is read from, kept by triggers, against real PostgreSQL with writes racing.
let schema: string;
let db: Kysely<WorkspacesDatabase>;
beforeAll(async () => {
  const database = await createServiceSchema('workspaces');
  schema = database.schema;
  // As the service connects (its own role, owner of the schema), with room for the writes to race.
  db = createDatabase<WorkspacesDatabase>({ url: database.url, schema, max: 12 });
  await migrateToLatest(db, schema, workspacesMigrations);
});
afterAll(async () => {
  await db.destroy();
  await dropSchema(schema);
});

const page = { description: { markdown: '', html: '', version: 1 }, countries: [] };

async function create(name: string, createdBy = randomUUID()) {
  return db.transaction().execute((trx) => insertWorkspace(trx, { ...page, slug: `${name.toLowerCase().replaceAll(' ', '-')}-${randomUUID().slice(0, 6)}`, name, createdBy }));
}

/** Archives, restores or renames as the workspaces service does: the workspace locked, then changed. */
async function change(slug: string, changes: Parameters<typeof updateWorkspace>[2]) {
  await db.transaction().execute(async (trx) => {
    const row = await lockWorkspace(trx, slug);
    await updateWorkspace(trx, row!.id, changes);
  });
}

/** The counts the triggers keep, beside a fresh count of the rows they stand for. */
async function counts(userId: string) {
  const [kept] = await query<{ listed: number | null }>(`select (select listed from "${schema}".user_listed_counts where user_id = $1) as listed`, [userId]);
  const [fresh] = await query<{ listed: string }>(`select count(*) as listed from "${schema}".member_roles where user_id = $1 and role is not null and active`, [userId]);
  const [organization] = await query<{ active: number; archived: number }>(`select sum(active)::integer as active, sum(archived)::integer as archived from "${schema}".organization_listed_counts`);
  const [workspaces] = await query<{ active: string; archived: string }>(
    `select count(*) filter (where archived_at is null) as active, count(*) filter (where archived_at is not null) as archived from "${schema}".workspaces`,
  );
  return {
    kept: { user: kept!.listed ?? 0, active: organization!.active, archived: organization!.archived },
    fresh: { user: Number(fresh!.listed), active: Number(workspaces!.active), archived: Number(workspaces!.archived) },
  };
}

describe("when one user's roles change at once in many workspaces, some being archived, restored and renamed meanwhile", () => {
  it('keeps their count and the organization counts equal to a fresh count, and every role row in step with its workspace', async () => {
    const user = randomUUID();
    const memberRoles = createMemberRolesService({ db });
    const workspaces = await Promise.all(Array.from({ length: 24 }, (_, index) => create(`Race ${String(index).padStart(2, '0')}`)));
    const roles = ['VIEWER', null, 'EDITOR', 'ADMIN', null, 'VIEWER'] as const;
    // Every workspace gets six versions of the user's role, delivered in a shuffled order and twice each (at-least-once).
    const events = workspaces.flatMap((workspace) =>
      roles.flatMap((role, index) => Array.from({ length: 2 }, () => ({ workspaceId: workspace.id, slug: workspace.slug, userId: user, role, version: index + 1 }))),
    );
    events.sort(() => Math.random() - 0.5);
    const archived = workspaces.slice(0, 8);
    const restored = archived.slice(0, 3);
    await Promise.all([
      ...events.map((event) => memberRoles.apply(event)),
      ...archived.map((workspace) => change(workspace.slug, { archivedAt: new Date() })),
      ...workspaces.slice(12, 16).map((workspace) => change(workspace.slug, { name: `Renamed ${workspace.name}` })),
      // The same user creating workspaces: their Admin row is written in the create transaction.
      ...Array.from({ length: 4 }, (_, index) => create(`Own ${index}`, user)),
    ]);
    await Promise.all(restored.map((workspace) => change(workspace.slug, { archivedAt: null })));

    const { kept, fresh } = await counts(user);
    expect(kept).toEqual(fresh);
    // The last role (VIEWER, version 6) in the 19 active workspaces, and Admin in the 4 of their own.
    expect(fresh).toEqual({ user: 19 + 4, active: 24 - 5 + 4, archived: 5 });
    const stale = await query(
      `select w.slug from "${schema}".member_roles m join "${schema}".workspaces w on w.id = m.workspace_id
       where m.user_id = $1 and (m.active is distinct from (w.archived_at is null) or m.search_name is distinct from w.search_name or m.version <> case when w.created_by = $1 then 0 else 6 end)`,
      [user],
    );
    expect(stale).toEqual([]);

    const listed = await pageWorkspaces(db, { userId: user, everywhere: false, archived: false, page: 1, perPage: 100 });
    expect(listed.counted).toBe(23);
    expect(listed.rows).toHaveLength(23);
    expect((await pageWorkspaces(db, { userId: user, everywhere: true, archived: true, page: 1, perPage: 100 })).counted).toBe(5);
  });

  it('keeps the counts when the same role is granted and removed by racing events of increasing versions', async () => {
    const user = randomUUID();
    const memberRoles = createMemberRolesService({ db });
    const workspace = await create('Flapping');
    const events = Array.from({ length: 40 }, (_, index) => ({ workspaceId: workspace.id, slug: workspace.slug, userId: user, role: index % 2 === 0 ? ('EDITOR' as const) : null, version: index + 1 }));
    await Promise.all(events.reverse().map((event) => memberRoles.apply(event)));
    const { kept, fresh } = await counts(user);
    expect(kept).toEqual(fresh);
    // Version 40 (odd index 39) removed the role.
    expect(fresh.user).toBe(0);
  });
});

describe('when a role arrives while its workspace is being archived', () => {
  it('lists it as archived once both have committed, and counts it out', async () => {
    const user = randomUUID();
    const memberRoles = createMemberRolesService({ db });
    const workspace = await create('Archived While Granted');
    let applying: Promise<void> | undefined;
    await db.transaction().execute(async (trx) => {
      const row = await lockWorkspace(trx, workspace.slug);
      await updateWorkspace(trx, row!.id, { archivedAt: new Date() });
      // The archive has moved the roles it saw and not committed yet; the role arriving now must not miss it.
      applying = memberRoles.apply({ workspaceId: workspace.id, slug: workspace.slug, userId: user, role: 'EDITOR', version: 1 });
      await new Promise((resolve) => setTimeout(resolve, 300));
    });
    await applying;
    const rows = await query(`select role, active from "${schema}".member_roles where workspace_id = $1 and user_id = $2`, [workspace.id, user]);
    expect(rows).toEqual([{ role: 'EDITOR', active: false }]);
    const { kept, fresh } = await counts(user);
    expect(kept).toEqual(fresh);
    expect(fresh.user).toBe(0);
  });
});

describe('when rows are written straight into the tables (a seed, a repair by hand)', () => {
  it('counts a bulk insert once per user and per workspace', async () => {
    const user = randomUUID();
    const before = await counts(user);
    await query(
      `insert into "${schema}".workspaces (slug, name, search_name, description, status, created_by)
       select 'bulk-count-' || n, 'Bulk ' || n, 'bulk ' || n, '', 'ready', $1 from generate_series(1, 500) as n`,
      [randomUUID()],
    );
    await query(
      `insert into "${schema}".member_roles (workspace_id, user_id, role, version, search_name, workspace_slug, active)
       select id, $1, 'VIEWER', 1, search_name, slug, true from "${schema}".workspaces where slug like 'bulk-count-%'`,
      [user],
    );
    await query(`delete from "${schema}".member_roles where user_id = $1 and workspace_slug in ('bulk-count-1', 'bulk-count-2')`, [user]);
    const after = await counts(user);
    expect(after.kept).toEqual(after.fresh);
    expect([after.fresh.user, after.fresh.active - before.fresh.active]).toEqual([498, 500]);
  });
});
