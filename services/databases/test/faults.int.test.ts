import { eventually } from '@hexa/testing';
import { newWorkspace, setUp, type Fixture } from './harness.js';

// Where nothing listens: the workspace cluster is down.
const unreachableAdminUrl = 'postgres://hexa_test_workspace_admin:hexa-test-workspace-admin@127.0.0.1:1/postgres';
let fixture: Fixture;

beforeAll(async () => {
  fixture = await setUp();
});
afterAll(() => fixture.close());

describe('when the workspace cluster cannot be reached', () => {
  it('the job retries with backoff and the status says why; the last attempt fails it; once the cluster answers, the retried one is ready', async () => {
    const down = await fixture.startWorker({ HEXA_WORKSPACE_DB_ADMIN_URL: unreachableAdminUrl });
    const retried = newWorkspace();
    const lastAttempt = newWorkspace();
    await fixture.created(retried);
    await fixture.queues.databases.add('workspace.created', lastAttempt, { jobId: `workspace.created-${lastAttempt.workspaceId}`, attempts: 1 });

    const waiting = await eventually(async () => {
      const row = await fixture.db.selectFrom('workspace_databases').selectAll().where('workspace_id', '=', retried.workspaceId).executeTakeFirst();
      const job = await fixture.queues.databases.getJob(`workspace.created-${retried.workspaceId}`);
      return row?.status_reason && (await job?.getState()) === 'delayed' ? { row, job } : undefined;
    });
    expect(waiting.row).toMatchObject({ status: 'provisioning', status_reason: 'The workspace database cluster cannot be reached (ECONNREFUSED); retrying' });
    expect(waiting.job?.failedReason).toBe('The workspace database cluster cannot be reached (ECONNREFUSED)');

    const failed = await fixture.waitForStatus(lastAttempt.workspaceId, 'failed');
    expect(failed.status_reason).toBe('The workspace database cluster cannot be reached (ECONNREFUSED)');
    const report = await eventually(async () => (await fixture.queues.workspaces.getJob(`database.status-changed-${lastAttempt.workspaceId}-1-failed`)) ?? undefined);
    expect(report.data).toEqual({ workspaceId: lastAttempt.workspaceId, slug: lastAttempt.slug, status: 'failed', reason: 'The workspace database cluster cannot be reached (ECONNREFUSED)' });

    // The cluster is back (a worker that reaches it): the next retry completes.
    await down.close();
    await fixture.startWorker();
    const ready = await fixture.waitForStatus(retried.workspaceId, 'ready', 30_000);
    expect(ready.status_reason).toBeNull();
    expect((await fixture.db.selectFrom('workspace_databases').select('status').where('workspace_id', '=', lastAttempt.workspaceId).executeTakeFirstOrThrow()).status).toBe('failed');
  }, 60_000);
});
