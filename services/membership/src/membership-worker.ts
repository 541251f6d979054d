import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { createInternalTokens, createOutboxRelay, createRedis, createServiceClient, createWorker, pruneIdempotencyKeys, pruneInbox } from '@hexa/kit';
import type { MembershipConfig } from './config.js';
import type { MembershipDatabase } from './database.js';
import { membershipProcessors } from './jobs.js';
import { invitationTokenKey } from './modules/invitations/invitations-fns.js';
import { createInvitationsService } from './modules/invitations/invitations-service.js';
import { createInvitationMailService } from './modules/mail/invitation-mail-service.js';
import { createMailTransport } from './modules/mail/mail-transport.js';
import { createAccessAnnouncer } from './modules/memberships/access-announcer.js';
import { createMembershipsService } from './modules/memberships/memberships-service.js';
import { createArchivedWorkspacesService } from './modules/workspaces/archived-workspaces-service.js';
import { createWorkspaceDirectory } from './modules/workspaces/workspace-directory.js';

/** Processed job ids, expired Idempotency-Keys, and invitation sends the daily budget no longer counts, are pruned this often. */
const inboxPruneIntervalMs = 3_600_000;
/** Pending invitations whose time ran out are marked expired (with their audit entry) this often; reads show them expired at once. */
const expirySweepIntervalMs = 60_000;

/**
 * Membership's worker: the outbox relay (audit entries, invitation e-mails,
 * membership.changed events reach their queues, even after Redis loses them),
 * the consumer of the `membership` queue (creators' roles, archived and
 * restored workspaces, invitation e-mails), and two sweeps (expired invitations,
 * the inbox). `worker.ts` runs it in production; tests run the same.
 */
export function createMembershipWorker(deps: { config: MembershipConfig; db: Kysely<MembershipDatabase>; log: Logger }) {
  const { config, db, log } = deps;
  const redis = createRedis(config.REDIS_URL);
  const workerConnection = createRedis(config.REDIS_URL, 'worker');
  const tokens = createInternalTokens({ service: 'membership', privateKey: config.HEXA_SERVICE_KEY, publicKeys: config.HEXA_SERVICE_PUBLIC_KEYS });
  const workspaces = createWorkspaceDirectory(createServiceClient({ baseUrl: config.WORKSPACES_URL, tokens, audience: 'workspaces' }));
  const invitations = createInvitationsService({
    db,
    workspaces,
    ttlDays: config.INVITATION_TTL_DAYS,
    perWorkspacePerDay: config.INVITATIONS_PER_WORKSPACE_PER_DAY,
  });
  const transport = createMailTransport({ smtpUrl: config.HEXA_SMTP_URL, from: config.HEXA_MAIL_FROM, mailDir: config.HEXA_MAIL_DIR, log });
  const processors = membershipProcessors({
    memberships: createMembershipsService({ db, redis, queuePrefix: config.HEXA_QUEUE_PREFIX }),
    invitations,
    archivedWorkspaces: createArchivedWorkspacesService({ db, workspaces, announceAccessChanged: createAccessAnnouncer({ redis, queuePrefix: config.HEXA_QUEUE_PREFIX }) }),
    mail: createInvitationMailService({ db, transport, publicUrl: config.HEXA_PUBLIC_URL, tokenKey: invitationTokenKey(config.HEXA_JWT_PRIVATE_KEY) }),
  });
  const worker = createWorker('membership', processors, { connection: workerConnection, prefix: config.HEXA_QUEUE_PREFIX });
  worker.on('failed', (job, error) => log.warn({ jobId: job?.id, name: job?.name, attempts: job?.attemptsMade, err: error }, 'job failed'));
  worker.on('completed', (job) => log.info({ jobId: job.id, name: job.name }, 'job completed'));
  const outbox = createOutboxRelay({ db, redis, prefix: config.HEXA_QUEUE_PREFIX, onError: (error) => log.warn({ err: error }, 'outbox pass failed; retrying') });
  const { relay } = outbox;
  const timers: NodeJS.Timeout[] = [];

  return {
    worker,
    relay,
    invitations,
    /** Resolves once the worker's connections are ready and the relay and sweeps run. */
    async start(): Promise<void> {
      await worker.waitUntilReady();
      relay.start(config.OUTBOX_RELAY_INTERVAL_MS);
      timers.push(
        setInterval(() => void Promise.all([pruneInbox(db), pruneIdempotencyKeys(db), invitations.pruneSendLog()]).catch((error) => log.warn({ err: error }, 'pruning failed')), inboxPruneIntervalMs),
        setInterval(() => void invitations.expireDue().catch((error) => log.warn({ err: error }, 'invitation expiry sweep failed')), expirySweepIntervalMs),
      );
    },
    /** Stops taking jobs, lets the current ones finish, and closes every connection (the database is the caller's). */
    async close(): Promise<void> {
      for (const timer of timers) clearInterval(timer);
      await worker.close();
      await outbox.close();
      transport.close();
      workerConnection.disconnect();
      redis.disconnect();
    },
  };
}

export type MembershipWorker = ReturnType<typeof createMembershipWorker>;
