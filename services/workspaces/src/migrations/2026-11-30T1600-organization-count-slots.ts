import { sql, type Kysely } from 'kysely';

// Frozen in time: never edit a migration that has shipped; add a new one.
export async function up(db: Kysely<any>): Promise<void> {
  // The organization's counts in 16 slots instead of one row (docs/decisions/0031): a workspace counts in
  // the slot of its id's hash, so creates running at once lock different rows instead of queueing behind one
  // (measured: 200 connections creating did 26 creates/s against one row). Readers add the slots up.
  await sql`lock table workspaces in share row exclusive mode`.execute(db);
  await sql`drop table organization_listed_counts`.execute(db);
  await sql`
    create table organization_listed_counts (
      slot smallint primary key check (slot between 0 and 15),
      active integer not null,
      archived integer not null
    )
  `.execute(db);
  await sql`
    insert into organization_listed_counts (slot, active, archived)
    select slot, count(workspaces.id) filter (where archived_at is null), count(workspaces.id) filter (where archived_at is not null)
    from generate_series(0, 15) as slot left join workspaces on abs(hashtext(workspaces.id::text)) % 16 = slot
    group by slot
  `.execute(db);
  await sql`drop function add_listed_workspaces(bigint, bigint)`.execute(db);
  // Each statement's changes, summed per slot; slots in order, so two statements lock them in the same order.
  await sql`
    create function add_listed_workspaces(changes jsonb) returns void language sql set search_path from current as $$
      update organization_listed_counts as counts
      set active = counts.active + change.active, archived = counts.archived + change.archived
      from (
        select (item->>'slot')::smallint as slot, sum((item->>'active')::integer) as active, sum((item->>'archived')::integer) as archived
        from jsonb_array_elements(changes) as item
        group by 1 having sum((item->>'active')::integer) <> 0 or sum((item->>'archived')::integer) <> 0
        order by 1
      ) as change
      where counts.slot = change.slot
    $$
  `.execute(db);
  await sql`
    create or replace function count_listed_workspaces() returns trigger language plpgsql set search_path from current as $$
    declare
      changes jsonb;
    begin
      if tg_op = 'INSERT' then
        select coalesce(jsonb_agg(jsonb_build_object('slot', abs(hashtext(id::text)) % 16, 'active', (archived_at is null)::integer, 'archived', (archived_at is not null)::integer)), '[]')
        into changes from new_workspaces;
      elsif tg_op = 'UPDATE' then
        select coalesce(jsonb_agg(item), '[]') into changes from (
          select jsonb_build_object('slot', abs(hashtext(id::text)) % 16, 'active', (archived_at is null)::integer, 'archived', (archived_at is not null)::integer) as item from new_workspaces
          union all
          select jsonb_build_object('slot', abs(hashtext(id::text)) % 16, 'active', -(archived_at is null)::integer, 'archived', -(archived_at is not null)::integer) from old_workspaces
        ) as both_sides;
      else
        select coalesce(jsonb_agg(jsonb_build_object('slot', abs(hashtext(id::text)) % 16, 'active', -(archived_at is null)::integer, 'archived', -(archived_at is not null)::integer)), '[]')
        into changes from old_workspaces;
      end if;
      perform add_listed_workspaces(changes);
      return null;
    end $$
  `.execute(db);
}
