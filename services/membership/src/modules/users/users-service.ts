import type { Kysely } from 'kysely';
import type { OrganizationRole, Schemas } from '@hexa/contract';
import { httpError, isUniqueViolation, type UserCaller } from '@hexa/kit';
import type { MembershipDatabase } from '../../database.js';
import { hashPassword } from './passwords.js';
import { findUserByEmail, findUserById, insertUser, toUser } from './users-repository.js';


export function createUsersService(deps: { db: Kysely<MembershipDatabase> }) {
  const { db } = deps;
  return {
    async getMe(caller: UserCaller): Promise<Schemas['User']> {
      const row = await findUserById(db, caller.userId);
      // The access token outlived its user.
      if (!row) throw httpError('invalid_token', 'The user of this token no longer exists.');
      return toUser(row);
    },

    /** Organization Owners and Admins create users; only an Owner creates another Owner. */
    async createUser(
      caller: UserCaller,
      input: { email: string; name: string; password: string; organizationRole: OrganizationRole },
    ): Promise<Schemas['User']> {
      if (caller.organizationRole !== 'OWNER' && caller.organizationRole !== 'ADMIN') {
        throw httpError('forbidden', 'Only organization Owners and Admins create users.');
      }
      if (input.organizationRole === 'OWNER' && caller.organizationRole !== 'OWNER') {
        throw httpError('forbidden', 'Only an organization Owner can create another Owner.');
      }
      const passwordHash = await hashPassword(input.password);
      try {
        return toUser(await insertUser(db, { ...input, passwordHash }));
      } catch (error) {
        if (isUniqueViolation(error)) throw httpError('email_taken', `A user with e-mail ${input.email} already exists.`);
        throw error;
      }
    },

    /**
     * Makes sure the organization owner of a fresh installation exists with
     * the given password (idempotent: the start command runs it every time).
     */
    async seedOwner(input: { email: string; name: string; password: string }): Promise<'created' | 'updated'> {
      const passwordHash = await hashPassword(input.password);
      const existing = await findUserByEmail(db, input.email);
      if (existing) {
        await db.updateTable('users').set({ password_hash: passwordHash, organization_role: 'OWNER', updated_at: new Date() }).where('id', '=', existing.id).execute();
        return 'updated';
      }
      await insertUser(db, { email: input.email, name: input.name, passwordHash, organizationRole: 'OWNER' });
      return 'created';
    },
  };
}

export type UsersService = ReturnType<typeof createUsersService>;
