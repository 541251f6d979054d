import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Redis } from 'ioredis';
import type { JobPayload, WorkspaceRole } from '@hexa/contract';
import pino from 'pino';
import { createDatabase, createQueue, createRedis } from '@hexa/kit';
import { eventually, flushRedisPrefix, query } from '@hexa/testing';
import { createMembershipWorker, createMembershipsService, createUsersService, type MembershipDatabase, type MembershipWorker } from '../src/index.js';
import { startMembership, type MembershipHarness } from './harness.js';

let harness: MembershipHarness;
let db: Kysely<MembershipDatabase>;
let serviceRedis: Redis;
let queueConnection: Redis;
let worker: MembershipWorker;
let queue: ReturnType<typeof createQueue>;

type WorkspaceCreated = JobPayload<'membership', 'workspace.created'>;
interface MembershipRow extends Record<string, unknown> { workspace_slug: string; workspace_id: string; user_id: string; role: WorkspaceRole }

beforeAll(async () => {
  // The harness gives this file its own schema (migrated) and queue prefix; the worker runs beside it as in production.
  harness = await startMembership();
  const prefix = harness.config.HEXA_QUEUE_PREFIX;
  db = createDatabase<MembershipDatabase>({ url: harness.config.DATABASE_URL, schema: harness.schema });
  serviceRedis = createRedis(harness.config.REDIS_URL);
  queueConnection = createRedis(harness.config.REDIS_URL);
  worker = createMembershipWorker({ config: harness.config, db, log: pino({ level: 'silent' }) });
  queue = createQueue('membership', { connection: queueConnection, prefix });
  await Promise.all([worker.start(), queue.waitUntilReady()]);
});
afterAll(async () => {
  await worker.close();
  await queue.close();
  queueConnection.disconnect();
  serviceRedis.disconnect();
  await db.destroy();
  await flushRedisPrefix(harness.config.HEXA_QUEUE_PREFIX);
  await harness.close();
});

let counter = 0;
async function newCreator(): Promise<string> {
  counter += 1;
  await createUsersService({ db }).seedOwner({ email: `creator-${counter}@example.org`, name: 'Cleo Creator', password: 'correct horse battery staple' });
  const [row] = await query<{ id: string }>(`select id from "${harness.schema}".users where email = $1`, [`creator-${counter}@example.org`]);
  return row!.id;
}

function workspaceCreated(createdBy: string): WorkspaceCreated {
  counter += 1;
  return { workspaceId: randomUUID(), slug: `workspace-${counter}`, createdBy };
}

async function membershipRows(userId: string): Promise<MembershipRow[]> {
  return query<MembershipRow>(`select workspace_slug, workspace_id, user_id, role from "${harness.schema}".workspace_memberships where user_id = $1`, [userId]);
}

async function completed(jobId: string): Promise<void> {
  await eventually(async () => ((await (await queue.getJob(jobId))?.getState()) === 'completed' ? true : undefined), 10_000);
}

describe('when a workspace.created job is queued', () => {
  it('makes the creator the workspace\'s ADMIN and completes the job', async () => {
    const createdBy = await newCreator();
    const payload = workspaceCreated(createdBy);
    const jobId = `workspace.created-${payload.workspaceId}`;
    await queue.add('workspace.created', payload, { jobId });

    const rows = await eventually(async () => {
      const found = await membershipRows(createdBy);
      return found.length > 0 ? found : undefined;
    });
    expect(rows).toEqual([{ workspace_slug: payload.slug, workspace_id: payload.workspaceId, user_id: createdBy, role: 'ADMIN' }]);
    await completed(jobId);
    expect((await queue.getJob(jobId))?.attemptsMade).toBeLessThanOrEqual(1);
  });
});

describe('when the same job is added twice', () => {
  it('stores one row, whether the queue drops the duplicate id or the job runs again', async () => {
    const createdBy = await newCreator();
    const payload = workspaceCreated(createdBy);
    const jobId = `workspace.created-${payload.workspaceId}`;
    // The outbox relay may publish the same job twice (a crash between add and confirm).
    await queue.add('workspace.created', payload, { jobId });
    await queue.add('workspace.created', payload, { jobId });
    await completed(jobId);
    // A retry that runs the processor again (another id, same payload) must not add a second row either.
    const retryId = `${jobId}-again`;
    await queue.add('workspace.created', payload, { jobId: retryId });
    await completed(retryId);

    expect(await queue.getJobCountByTypes('failed')).toBe(0);
    expect(await membershipRows(createdBy)).toEqual([{ workspace_slug: payload.slug, workspace_id: payload.workspaceId, user_id: createdBy, role: 'ADMIN' }]);
  });
});

describe('when the creator already got the Admin role through the synchronous call', () => {
  it('completes the job and keeps the one row', async () => {
    const createdBy = await newCreator();
    const payload = workspaceCreated(createdBy);
    const outcome = await createMembershipsService({ db, redis: serviceRedis, queuePrefix: harness.config.HEXA_QUEUE_PREFIX })
      .grantCreatorAdmin({ workspaceSlug: payload.slug, workspaceId: payload.workspaceId, userId: createdBy });
    expect(outcome).toBe('granted');

    const jobId = `workspace.created-${payload.workspaceId}`;
    await queue.add('workspace.created', payload, { jobId });
    await completed(jobId);
    expect(await membershipRows(createdBy)).toHaveLength(1);
  });
});

describe('when a job names a user that does not exist', () => {
  it('fails the job at once instead of spending its retries, and stores nothing', async () => {
    const payload = workspaceCreated(randomUUID());
    const jobId = `workspace.created-${payload.workspaceId}`;
    await queue.add('workspace.created', payload, { jobId });

    const job = await eventually(async () => {
      const found = await queue.getJob(jobId);
      return (await found?.getState()) === 'failed' ? found : undefined;
    }, 10_000);
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toContain('not_found');
    expect(await query(`select 1 from "${harness.schema}".workspace_memberships where workspace_slug = $1`, [payload.slug])).toEqual([]);
  });
});

describe('when the job is delivered again after the creator\'s role changed', () => {
  it('keeps the changed role: a late redelivery does not undo a later decision', async () => {
    const createdBy = await newCreator();
    const payload = workspaceCreated(createdBy);
    const service = createMembershipsService({ db, redis: serviceRedis, queuePrefix: harness.config.HEXA_QUEUE_PREFIX });
    expect(await service.grantCreatorAdmin({ workspaceSlug: payload.slug, workspaceId: payload.workspaceId, userId: createdBy })).toBe('granted');
    // Another Admin later makes the creator an Editor (the members issue adds the operation; the row is what it changes).
    await query(`update "${harness.schema}".workspace_memberships set role = 'EDITOR' where workspace_slug = $1 and user_id = $2`, [payload.slug, createdBy]);

    const jobId = `workspace.created-${payload.workspaceId}`;
    await queue.add('workspace.created', payload, { jobId });
    await completed(jobId);
    expect((await membershipRows(createdBy)).map((row) => row.role)).toEqual(['EDITOR']);
    expect(await service.grantCreatorAdmin({ workspaceSlug: payload.slug, workspaceId: payload.workspaceId, userId: createdBy })).toBe('already-member');
  });
});

describe('when the same job (same id) is delivered again after the creator was removed', () => {
  it('changes nothing the second time: the inbox remembers the job', async () => {
    const createdBy = await newCreator();
    const payload = workspaceCreated(createdBy);
    const jobId = `workspace.created-${payload.workspaceId}`;
    await queue.add('workspace.created', payload, { jobId });
    await completed(jobId);
    expect(await membershipRows(createdBy)).toHaveLength(1);

    // An Admin removes the creator; later Redis loses the finished job and the outbox sends it again, same id.
    await query(`delete from "${harness.schema}".workspace_memberships where workspace_slug = $1`, [payload.slug]);
    await (await queue.getJob(jobId))!.remove();
    await queue.add('workspace.created', payload, { jobId });
    await completed(jobId);

    expect(await membershipRows(createdBy)).toEqual([]);
    expect(await query(`select queue, job_id, job_name from "${harness.schema}".inbox where job_id = $1`, [jobId])).toEqual([
      { queue: 'membership', job_id: jobId, job_name: 'workspace.created' },
    ]);
  });
});

describe('when a job carries a payload the contract does not allow', () => {
  it('fails it at once with the reason and changes nothing', async () => {
    const jobId = `workspace.created-invalid-${randomUUID()}`;
    await queue.add('workspace.created', { workspaceId: 'not-a-uuid', slug: 'Bad Slug', createdBy: randomUUID(), extra: true } as unknown as WorkspaceCreated, { jobId });
    // Read again once failed: a job read before it failed does not carry its reason.
    const job = await eventually(async () => ((await queue.getJobState(jobId)) === 'failed' ? queue.getJob(jobId) : undefined), 10_000);
    // Failed within ten seconds: its attempts with backoff would take about an hour.
    expect(job.attemptsMade).toBeLessThanOrEqual(1);
    expect(job.failedReason).toContain('Invalid workspace.created payload');
    expect(job.failedReason).toContain('payload/workspaceId');
    expect(job.failedReason).toContain('payload/extra');
  });
});
