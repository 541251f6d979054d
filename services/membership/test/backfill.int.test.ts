import { randomUUID } from 'node:crypto';
import { createDatabase, migrateToLatest } from '@hexa/kit';
import { createServiceSchema, dropSchema, query } from '@hexa/testing';
import { membershipMigrations, type MembershipDatabase } from '../src/index.js';

describe('when memberships made before membership.changed existed are migrated', () => {
  it('announces each once, through the outbox, with versions a later change still beats', async () => {
    const { schema, url } = await createServiceSchema('membership');
    const db = createDatabase<MembershipDatabase>({ url, schema });
    try {
      const names = Object.keys(membershipMigrations);
      const before = names.indexOf('2026-11-30T1100-publish-existing-memberships');
      // The schema as it stood before the announcement, with two memberships in it.
      await migrateToLatest(db, schema, Object.fromEntries(names.slice(0, before).map((name) => [name, membershipMigrations[name]!])));
      const [user] = await query<{ id: string }>(`insert into "${schema}".users (email, name, password_hash, organization_role) values ('old@example.org', 'Old', 'x', 'MEMBER') returning id`);
      const workspaces = [randomUUID(), randomUUID()];
      for (const [index, workspaceId] of workspaces.entries()) {
        await query(`insert into "${schema}".workspace_memberships (workspace_slug, workspace_id, user_id, role) values ($1, $2, $3, $4)`, [`old-${index}`, workspaceId, user!.id, index === 0 ? 'ADMIN' : 'VIEWER']);
      }
      await migrateToLatest(db, schema, membershipMigrations);

      const rows = await query<{ queue: string; job_name: string; job_id: string; payload: { workspaceId: string; slug: string; userId: string; role: string; version: number } }>(
        `select queue, job_name, job_id, payload from "${schema}".outbox where job_name = 'membership.changed' order by job_id`,
      );
      expect(rows.map((row) => [row.queue, row.payload.slug, row.payload.role, row.payload.userId]).sort()).toEqual([
        ['workspaces', 'old-0', 'ADMIN', user!.id],
        ['workspaces', 'old-1', 'VIEWER', user!.id],
      ]);
      for (const row of rows) expect(row.job_id).toBe(`membership.changed-${row.payload.version}`);
      // The next change takes a larger version from the same sequence.
      const [next] = await query<{ version: string }>(`select nextval('"${schema}".membership_change_version') as version`);
      expect(Number(next!.version)).toBeGreaterThan(Math.max(...rows.map((row) => row.payload.version)));
    } finally {
      await db.destroy();
      await dropSchema(schema);
    }
  });
});
