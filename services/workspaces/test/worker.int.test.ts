import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Redis } from 'ioredis';
import { createDatabase, createQueue, createRedis, createWorker, migrateToLatest } from '@hexa/kit';
import { dropSchema, eventually, flushRedisPrefix, query, testDatabaseUrl, testRedisUrl, uniqueQueuePrefix, uniqueSchema } from '@hexa/testing';
import { createAuditService, createMemberRolesService, createProvisioningService, workspacesMigrations, workspacesProcessors, type WorkspacesDatabase } from '../src/index.js';

// The workspaces queue's consumer, as the worker runs it, against real BullMQ and PostgreSQL.
const schema = uniqueSchema('workspaces');
const prefix = uniqueQueuePrefix();
let db: Kysely<WorkspacesDatabase>;
let connections: Redis[];
let worker: ReturnType<typeof createWorker>;
let queue: ReturnType<typeof createQueue>;

beforeAll(async () => {
  db = createDatabase<WorkspacesDatabase>({ url: testDatabaseUrl, schema });
  await migrateToLatest(db, schema, workspacesMigrations);
  connections = [createRedis(testRedisUrl, 'worker'), createRedis(testRedisUrl)];
  worker = createWorker('workspaces', workspacesProcessors({ audit: createAuditService({ db }), provisioning: createProvisioningService({ db }), memberRoles: createMemberRolesService({ db }) }), { connection: connections[0]!, prefix });
  queue = createQueue('workspaces', { connection: connections[1]!, prefix });
});
afterAll(async () => {
  await worker.close();
  await queue.close();
  for (const connection of connections) connection.disconnect();
  await db.destroy();
  await flushRedisPrefix(prefix);
  await dropSchema(schema);
});

async function completed(jobId: string): Promise<void> {
  await eventually(async () => ((await (await queue.getJob(jobId))?.getState()) === 'completed' ? true : undefined));
}

async function newWorkspace(): Promise<{ id: string; slug: string }> {
  const slug = `ws-${randomUUID().slice(0, 8)}`;
  const [row] = await query<{ id: string }>(
    `insert into "${schema}".workspaces (slug, name, search_name, description, status, created_by) values ($1, $1, $1, '', 'provisioning', $2) returning id`,
    [slug, randomUUID()],
  );
  return { id: row!.id, slug };
}

describe('when another service records an audit entry', () => {
  it('keeps it once, however often it is delivered', async () => {
    const workspace = await newWorkspace();
    const entry = {
      id: randomUUID(),
      workspaceId: workspace.id,
      workspaceSlug: workspace.slug,
      actor: { kind: 'user' as const, userId: randomUUID() },
      action: 'member.role-changed',
      target: randomUUID(),
      before: 'EDITOR',
      after: 'ADMIN',
      at: new Date().toISOString(),
    };
    await queue.add('audit.recorded', entry, { jobId: `audit-${entry.id}` });
    await completed(`audit-${entry.id}`);
    await queue.add('audit.recorded', entry, { jobId: `audit-${entry.id}-again` });
    await completed(`audit-${entry.id}-again`);
    const rows = await query(`select id, action, target, before, after, actor from "${schema}".audit_events where workspace_id = $1`, [workspace.id]);
    expect(rows).toEqual([{ id: entry.id, action: 'member.role-changed', target: entry.target, before: 'EDITOR', after: 'ADMIN', actor: entry.actor }]);
  });
});

describe('when the databases service reports a workspace\'s database', () => {
  it('moves the workspace to ready, or to failed with the reason', async () => {
    const ready = await newWorkspace();
    const failed = await newWorkspace();
    await queue.add('database.status-changed', { workspaceId: ready.id, slug: ready.slug, status: 'ready' }, { jobId: `status-${ready.id}` });
    await queue.add('database.status-changed', { workspaceId: failed.id, slug: failed.slug, status: 'failed', reason: 'the workspace cluster refused the connection' }, { jobId: `status-${failed.id}` });
    await completed(`status-${ready.id}`);
    await completed(`status-${failed.id}`);
    const rows = await query(`select slug, status, status_reason from "${schema}".workspaces where id = any($1) order by status desc`, [[ready.id, failed.id]]);
    expect(rows).toEqual([
      { slug: ready.slug, status: 'ready', status_reason: null },
      { slug: failed.slug, status: 'failed', status_reason: 'the workspace cluster refused the connection' },
    ]);
  });
});

describe('when membership reports role changes, in any order', () => {
  it('keeps the newest: an older event arriving late changes nothing, a removal stays removed', async () => {
    const workspace = await newWorkspace();
    const userId = randomUUID();
    const change = (role: 'VIEWER' | 'EDITOR' | 'ADMIN' | null, version: number) => ({ workspaceId: workspace.id, slug: workspace.slug, userId, role, version });
    // Granted as Viewer (1), made Editor (2), removed (3); delivered 2, 3, then 1 late.
    for (const [id, payload] of [['v2', change('EDITOR', 2)], ['v3', change(null, 3)], ['v1', change('VIEWER', 1)]] as const) {
      await queue.add('membership.changed', payload, { jobId: `member-${userId}-${id}` });
      await completed(`member-${userId}-${id}`);
    }
    expect(await query(`select role, version from "${schema}".member_roles where user_id = $1`, [userId])).toEqual([{ role: null, version: '3' }]);
    await queue.add('membership.changed', change('ADMIN', 4), { jobId: `member-${userId}-v4` });
    await completed(`member-${userId}-v4`);
    expect(await query(`select role, version from "${schema}".member_roles where user_id = $1`, [userId])).toEqual([{ role: 'ADMIN', version: '4' }]);
  });
});
