import { randomUUID } from 'node:crypto';
import { createDatabase, migrateToLatest } from '@hexa/kit';
import { createServiceSchema, dropSchema, query } from '@hexa/testing';
import { workspacesMigrations, type WorkspacesDatabase } from '../src/index.js';
import { insertWorkspace, updateWorkspace } from '../src/modules/workspaces/workspaces-repository.js';

const page = { description: { markdown: '', html: '', version: 1 }, countries: [] };

describe('when workspaces archived before membership kept archived workspaces are migrated', () => {
  it('announces each archived one to membership once, as its archiver (or its creator when the trail does not say)', async () => {
    const { schema, url } = await createServiceSchema('workspaces');
    const db = createDatabase<WorkspacesDatabase>({ url, schema });
    try {
      const names = Object.keys(workspacesMigrations);
      const before = names.indexOf('2026-11-30T1700-announce-archived-workspaces');
      await migrateToLatest(db, schema, Object.fromEntries(names.slice(0, before).map((name) => [name, workspacesMigrations[name]!])));
      const [creator, archiver] = [randomUUID(), randomUUID()];
      const create = (name: string) => db.transaction().execute((trx) => insertWorkspace(trx, { ...page, slug: name, name, createdBy: creator }));
      const [active, audited, unaudited] = [await create('active'), await create('audited'), await create('unaudited')];
      for (const workspace of [audited, unaudited]) await updateWorkspace(db, workspace.id, { archivedAt: new Date() });
      await query(
        `insert into "${schema}".audit_events (id, workspace_id, workspace_slug, actor, action, at) values ($1, $2, 'audited', $3, 'workspace.archived', now())`,
        [randomUUID(), audited.id, JSON.stringify({ kind: 'user', userId: archiver })],
      );
      await query(`delete from "${schema}".outbox`);

      await migrateToLatest(db, schema, workspacesMigrations);

      const rows = await query<{ queue: string; job_name: string; job_id: string; payload: unknown }>(`select queue, job_name, job_id, payload from "${schema}".outbox order by job_id`);
      expect(rows).toEqual(
        [
          { queue: 'membership', job_name: 'workspace.archived', job_id: `workspace.archived-announced-${audited.id}`, payload: { workspaceId: audited.id, slug: 'audited', actorId: archiver } },
          { queue: 'membership', job_name: 'workspace.archived', job_id: `workspace.archived-announced-${unaudited.id}`, payload: { workspaceId: unaudited.id, slug: 'unaudited', actorId: creator } },
        ].sort((a, b) => a.job_id.localeCompare(b.job_id)),
      );
      expect(rows.some((row) => JSON.stringify(row.payload).includes(active.id))).toBe(false);
    } finally {
      await db.destroy();
      await dropSchema(schema);
    }
  });
});
