import type { Kysely, Selectable } from 'kysely';
import type { Schemas } from '@hexa/contract';
import type { MembershipDatabase, UsersTable } from '../../database.js';

type UserRow = Selectable<UsersTable>;

export function toUser(row: UserRow): Schemas['User'] {
  return { id: row.id, email: row.email, name: row.name, organizationRole: row.organization_role, createdAt: row.created_at.toISOString() };
}

export async function findUserByEmail(db: Kysely<MembershipDatabase>, email: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('email', '=', email.toLowerCase()).executeTakeFirst();
}

export async function findUserById(db: Kysely<MembershipDatabase>, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function insertUser(
  db: Kysely<MembershipDatabase>,
  values: { email: string; name: string; passwordHash: string; organizationRole: UserRow['organization_role'] },
): Promise<UserRow> {
  return db
    .insertInto('users')
    .values({ email: values.email.toLowerCase(), name: values.name.trim(), password_hash: values.passwordHash, organization_role: values.organizationRole })
    .returningAll()
    .executeTakeFirstOrThrow();
}
