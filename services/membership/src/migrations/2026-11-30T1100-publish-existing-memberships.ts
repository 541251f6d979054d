import { sql, type Kysely } from 'kysely';

// Frozen in time: never edit a migration that has shipped; add a new one.
// Memberships made before membership.changed existed were never announced, so the workspaces service's
// replica of roles (what a user's workspace list reads) does not know them: announce each once, through
// the outbox, with a version from the same sequence as every later change (a later change wins).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    insert into outbox (queue, job_name, job_id, payload)
    select 'workspaces', 'membership.changed', 'membership.changed-' || version,
           jsonb_build_object('workspaceId', workspace_id, 'slug', workspace_slug, 'userId', user_id, 'role', role, 'version', version)
    from (select workspace_id, workspace_slug, user_id, role, nextval('membership_change_version') as version from workspace_memberships) as existing
    on conflict (queue, job_id) do nothing`.execute(db);
}
