import { sql, type Kysely } from 'kysely';

// Frozen in time: never edit a migration that has shipped; add a new one.
// Membership now keeps which workspaces are archived (the gateway hides them from their members) from the
// workspace.archived and workspace.restored events; it did not keep them before. Announce each workspace
// archived until now to membership once, through the outbox, as its archiver (from the audit trail; its
// creator when the trail does not say). Membership asks for the state itself, so an announcement that
// arrives after a restore changes nothing.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    insert into outbox (queue, job_name, job_id, payload)
    select 'membership', 'workspace.archived', 'workspace.archived-announced-' || w.id,
           jsonb_build_object('workspaceId', w.id, 'slug', w.slug, 'actorId', coalesce(
             (select a.actor ->> 'userId' from audit_events a
              where a.workspace_id = w.id and a.action = 'workspace.archived' and a.actor ->> 'kind' = 'user'
              order by a.at desc limit 1),
             w.created_by::text))
    from workspaces w
    where w.archived_at is not null
    on conflict (queue, job_id) do nothing`.execute(db);
}
