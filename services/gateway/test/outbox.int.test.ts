import { createDatabase, createOutboxRelay, createRedis } from '@hexa/kit';
import { flushRedisPrefix, query, testDatabaseUrl, testRedisUrl, unreachableRedisUrl } from '@hexa/testing';
import type { WorkspacesDatabase } from '@hexa/workspaces';
import { ownerLogin, startStack, type Stack } from './stack.js';

describe('when Redis loses everything between the commit and the delivery', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  it('delivers the workspace.created job again, once', async () => {
    const token = await stack.login(ownerLogin.email, ownerLogin.password);
    const created = await stack.call({ method: 'POST', url: '/api/workspaces', token, payload: { name: 'Survives Redis' } });
    expect(created.statusCode).toBe(201);
    const { id } = created.json();

    const db = createDatabase<WorkspacesDatabase>({ url: testDatabaseUrl, schema: stack.schemas.workspaces });
    const redis = createRedis(testRedisUrl);
    const outbox = createOutboxRelay({ db, redis, prefix: stack.queuePrefix, verifyAfterMs: 0 });
    try {
      // workspace.created for databases and membership, and the creation's audit entry.
      expect((await outbox.relay.runOnce()).published).toBe(3);
      expect(await outbox.queues.databases.getJobState(`workspace.created-${id}`)).toBe('waiting');

      // Redis loses every key of the platform before any worker took the job.
      expect(await flushRedisPrefix(stack.queuePrefix)).toBeGreaterThan(0);
      expect(await outbox.queues.databases.getJobState(`workspace.created-${id}`)).toBe('unknown');

      // The relay notices the job vanished and delivers it again.
      const pass = await outbox.relay.runOnce();
      expect(pass.redelivered).toBe(3);
      await outbox.relay.runOnce();
      const job = await outbox.queues.databases.getJob(`workspace.created-${id}`);
      expect(job?.name).toBe('workspace.created');
      expect(job?.data).toEqual({ workspaceId: id, slug: 'survives-redis', createdBy: expect.any(String) });
      expect(await outbox.queues.databases.count()).toBe(1);
    } finally {
      await outbox.close();
      await db.destroy();
      redis.disconnect();
    }
  });

  it('counts jobs that reached their queue but no consumer took as pending, published, and the lag is the age of the oldest', async () => {
    const token = await stack.login(ownerLogin.email, ownerLogin.password);
    expect((await stack.call({ method: 'POST', url: '/api/workspaces', token, payload: { name: 'Waits In Queue' } })).statusCode).toBe(201);
    const db = createDatabase<WorkspacesDatabase>({ url: testDatabaseUrl, schema: stack.schemas.workspaces });
    const redis = createRedis(testRedisUrl);
    const outbox = createOutboxRelay({ db, redis, prefix: stack.queuePrefix, verifyAfterMs: 0 });
    try {
      // Published, and found waiting by the same pass: no worker runs in this stack.
      expect(await outbox.relay.runOnce()).toMatchObject({ published: 3, confirmed: 0 });
    } finally {
      await outbox.close();
      await db.destroy();
      redis.disconnect();
    }
    const [outboxNow] = await query<{ published: number; unpublished: number; age: number }>(
      `select count(*) filter (where published_at is not null)::int as published, count(*) filter (where published_at is null)::int as unpublished,
              extract(epoch from now() - min(created_at))::float8 as age
       from "${stack.schemas.workspaces}".outbox where dead_at is null`,
    );
    expect(outboxNow!.published).toBeGreaterThanOrEqual(3);

    const metrics = await stack.workspaces.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(new RegExp(`^hexa_outbox_pending_jobs\\{state="published",service="workspaces"\\} ${outboxNow!.published}$`, 'm'));
    expect(metrics.body).toMatch(new RegExp(`^hexa_outbox_pending_jobs\\{state="unpublished",service="workspaces"\\} ${outboxNow!.unpublished}$`, 'm'));
    const lag = Number(/^hexa_outbox_lag_seconds\{service="workspaces"\} (\S+)$/m.exec(metrics.body)?.[1]);
    expect(lag).toBeGreaterThan(0);
    expect(lag).toBeGreaterThanOrEqual(outboxNow!.age);
  });
});

describe('when Redis is down for the workspaces service', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ workspacesRedisUrl: unreachableRedisUrl });
  });
  afterAll(() => stack.close());

  it('still creates the workspace, keeps its jobs in the outbox, and readiness reports the fault', async () => {
    const token = await stack.login(ownerLogin.email, ownerLogin.password);
    const created = await stack.call({ method: 'POST', url: '/api/workspaces', token, payload: { name: 'Offline Queue' } });
    expect(created.statusCode).toBe(201);
    const rows = await query(`select queue, job_name, published_at from "${stack.schemas.workspaces}".outbox order by queue`);
    expect(rows).toEqual([
      { queue: 'databases', job_name: 'workspace.created', published_at: null },
      { queue: 'membership', job_name: 'workspace.created', published_at: null },
      { queue: 'workspaces', job_name: 'audit.recorded', published_at: null },
    ]);
    const ready = await stack.workspaces.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({ status: 'unavailable', checks: { postgres: 'up', redis: 'down' } });
    const gatewayReady = await stack.call({ method: 'GET', url: '/api/readyz' });
    expect(gatewayReady.statusCode).toBe(503);
    expect(gatewayReady.json().checks.workspaces).toBe('down');

    // Metrics still answer, and show the jobs waiting in the outbox and how long they have waited.
    const metrics = await stack.workspaces.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toMatch(/^hexa_outbox_pending_jobs\{state="unpublished",service="workspaces"\} 3$/m);
    expect(metrics.body).toMatch(/^hexa_outbox_dead_jobs\{service="workspaces"\} 0$/m);
    const lag = Number(/^hexa_outbox_lag_seconds\{service="workspaces"\} (\S+)$/m.exec(metrics.body)?.[1]);
    expect(lag).toBeGreaterThan(0);
  });
});
