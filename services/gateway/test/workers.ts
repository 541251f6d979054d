import pino, { type DestinationStream } from 'pino';
import { createDatabase, createRedis, createWorker, loggerOptions } from '@hexa/kit';
import { testRedisUrl, testRoleUrl } from '@hexa/testing';
import { createMembershipWorker, type MembershipDatabase, type MembershipWorker } from '@hexa/membership';
import { createAuditService, createMemberRolesService, createProvisioningService, workspacesProcessors, type WorkspacesDatabase } from '@hexa/workspaces';
import type { Stack } from './stack.js';

/** Relay passes in tests: a job reaches its queue within a tenth of a second. */
const relayIntervalMs = 100;

export interface Workers {
  membership: MembershipWorker;
  close(): Promise<void>;
}

/**
 * The workers a stack leaves out, as production runs them: membership's
 * (its outbox relay, the membership queue with invitation e-mails, the
 * sweeps) and the workspaces queue's consumer (audit entries,
 * membership.changed into the replica of roles). Each connects as its
 * service's own database role. `log` receives membership's worker log at its
 * most talkative level.
 */
export async function startWorkers(stack: Stack, settings: Partial<Stack['membershipConfig']> = {}, options: { log?: DestinationStream } = {}): Promise<Workers> {
  const config = { ...stack.membershipConfig, OUTBOX_RELAY_INTERVAL_MS: relayIntervalMs, ...settings };
  const membershipDb = createDatabase<MembershipDatabase>({ url: config.DATABASE_URL, schema: stack.schemas.membership });
  const log = options.log ? pino(loggerOptions('membership-worker', 'trace'), options.log) : pino({ level: 'silent' });
  const membership = createMembershipWorker({ config, db: membershipDb, log });
  const workspacesDb = createDatabase<WorkspacesDatabase>({ url: testRoleUrl('workspaces'), schema: stack.schemas.workspaces });
  const connection = createRedis(testRedisUrl, 'worker');
  const workspaces = createWorker(
    'workspaces',
    workspacesProcessors({ audit: createAuditService({ db: workspacesDb }), provisioning: createProvisioningService({ db: workspacesDb }), memberRoles: createMemberRolesService({ db: workspacesDb }) }),
    { connection, prefix: stack.queuePrefix },
  );
  await Promise.all([membership.start(), workspaces.waitUntilReady()]);
  return {
    membership,
    async close() {
      await membership.close();
      await workspaces.close();
      connection.disconnect();
      await membershipDb.destroy();
      await workspacesDb.destroy();
    },
  };
}
