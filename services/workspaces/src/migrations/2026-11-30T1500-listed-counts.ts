import { sql, type Kysely } from 'kysely';

// Frozen in time: never edit a migration that has shipped; add a new one.
export async function up(db: Kysely<any>): Promise<void> {
  // A list's total without counting the list on every page (docs/decisions/0031): how many workspaces
  // each user lists (their roles that are set, in active workspaces) and how many workspaces the
  // organization has, active and archived. Triggers keep them, so every writer of the rows (the service,
  // a seed, a repair by hand) keeps them exact; statement-level triggers see a statement's rows as a
  // whole, so a bulk insert or an archive changes each count once, not once per row.
  await sql`create table user_listed_counts (user_id uuid primary key, listed integer not null)`.execute(db);
  await sql`
    create table organization_listed_counts (
      singleton boolean primary key default true check (singleton),
      active integer not null,
      archived integer not null
    )
  `.execute(db);

  // No `check (listed >= 0)`: an upsert checks the row it would insert (a removal's -1) before it finds
  // the conflict. `search_path from current`: the tables resolve in this schema whoever writes (a seed connects without
  // the service's search_path). Users are counted in id order, so two statements that change the counts
  // of the same users lock them in the same order.
  await sql`
    create function add_listed_roles(added uuid[], removed uuid[]) returns void language sql set search_path from current as $$
      insert into user_listed_counts as counts (user_id, listed)
      select user_id, sum(change) from (
        select user_id, 1 as change from unnest(added) as user_id
        union all
        select user_id, -1 from unnest(removed) as user_id
      ) changes
      group by user_id having sum(change) <> 0
      order by user_id
      on conflict (user_id) do update set listed = counts.listed + excluded.listed
    $$
  `.execute(db);
  // A trigger with transition tables has one event, so each event names the rows it has.
  await sql`
    create function count_listed_roles() returns trigger language plpgsql set search_path from current as $$
    begin
      if tg_op = 'INSERT' then
        perform add_listed_roles(array(select user_id from new_roles where role is not null and active), '{}');
      elsif tg_op = 'UPDATE' then
        perform add_listed_roles(array(select user_id from new_roles where role is not null and active), array(select user_id from old_roles where role is not null and active));
      else
        perform add_listed_roles('{}', array(select user_id from old_roles where role is not null and active));
      end if;
      return null;
    end $$
  `.execute(db);
  await sql`create trigger member_roles_inserted_count after insert on member_roles referencing new table as new_roles for each statement execute function count_listed_roles()`.execute(db);
  await sql`create trigger member_roles_updated_count after update on member_roles referencing old table as old_roles new table as new_roles for each statement execute function count_listed_roles()`.execute(db);
  await sql`create trigger member_roles_deleted_count after delete on member_roles referencing old table as old_roles for each statement execute function count_listed_roles()`.execute(db);

  // Only a change of the counts touches the organization's row: the many updates that neither add,
  // archive nor restore a workspace (status, home page, settings) do not queue behind one another.
  await sql`
    create function add_listed_workspaces(active_change bigint, archived_change bigint) returns void language sql set search_path from current as $$
      update organization_listed_counts set active = active + active_change, archived = archived + archived_change
      where active_change <> 0 or archived_change <> 0
    $$
  `.execute(db);
  await sql`
    create function count_listed_workspaces() returns trigger language plpgsql set search_path from current as $$
    begin
      if tg_op = 'INSERT' then
        perform add_listed_workspaces(
          (select count(*) filter (where archived_at is null) from new_workspaces),
          (select count(*) filter (where archived_at is not null) from new_workspaces));
      elsif tg_op = 'UPDATE' then
        perform add_listed_workspaces(
          (select count(*) filter (where archived_at is null) from new_workspaces) - (select count(*) filter (where archived_at is null) from old_workspaces),
          (select count(*) filter (where archived_at is not null) from new_workspaces) - (select count(*) filter (where archived_at is not null) from old_workspaces));
      else
        perform add_listed_workspaces(
          -(select count(*) filter (where archived_at is null) from old_workspaces),
          -(select count(*) filter (where archived_at is not null) from old_workspaces));
      end if;
      return null;
    end $$
  `.execute(db);
  await sql`create trigger workspaces_inserted_count after insert on workspaces referencing new table as new_workspaces for each statement execute function count_listed_workspaces()`.execute(db);
  await sql`create trigger workspaces_updated_count after update on workspaces referencing old table as old_workspaces new table as new_workspaces for each statement execute function count_listed_workspaces()`.execute(db);
  await sql`create trigger workspaces_deleted_count after delete on workspaces referencing old table as old_workspaces for each statement execute function count_listed_workspaces()`.execute(db);

  // The counts of the rows already there, taken while no one writes them.
  await sql`lock table workspaces, member_roles in share row exclusive mode`.execute(db);
  await sql`
    insert into user_listed_counts (user_id, listed)
    select user_id, count(*) from member_roles where role is not null and active group by user_id
  `.execute(db);
  await sql`
    insert into organization_listed_counts (active, archived)
    select count(*) filter (where archived_at is null), count(*) filter (where archived_at is not null) from workspaces
  `.execute(db);
}
