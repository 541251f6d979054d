import type { Kysely, Transaction } from 'kysely';
import type { OrganizationRole, Schemas } from '@hexa/contract';
import { httpError, isUniqueViolation, type UserCaller } from '@hexa/kit';
import type { MembershipDatabase } from '../../database.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { findUserByEmail, findUserById, insertUser, toUser } from './users-repository.js';

/** What the owner seed did: `kept` leaves an existing account untouched. */
export interface SeedOwnerResult {
  outcome: 'created' | 'kept' | 'reset';
  /** Whether the given password signs in as the owner now. */
  passwordSignsIn: boolean;
}

export function createUsersService(deps: { db: Kysely<MembershipDatabase> }) {
  const { db } = deps;
  return {
    async getMe(caller: UserCaller): Promise<Schemas['User']> {
      const row = await findUserById(db, caller.userId);
      // The access token outlived its user.
      if (!row) throw httpError('invalid_token', 'The user of this token no longer exists.');
      return toUser(row);
    },

    /**
     * Organization Owners and Admins create users; only an Owner creates
     * another Owner. `inTransaction` sees the new user in the creating
     * transaction: the idempotent answer commits with it.
     */
    async createUser(
      caller: UserCaller,
      input: { email: string; name: string; password: string; organizationRole: OrganizationRole },
      inTransaction?: (trx: Transaction<MembershipDatabase>, user: Schemas['User']) => Promise<void>,
    ): Promise<Schemas['User']> {
      if (caller.organizationRole !== 'OWNER' && caller.organizationRole !== 'ADMIN') {
        throw httpError('forbidden', 'Only organization Owners and Admins create users.');
      }
      if (input.organizationRole === 'OWNER' && caller.organizationRole !== 'OWNER') {
        throw httpError('forbidden', 'Only an organization Owner can create another Owner.');
      }
      const passwordHash = await hashPassword(input.password);
      try {
        return await db.transaction().execute(async (trx) => {
          const user = toUser(await insertUser(trx, { ...input, passwordHash }));
          if (inTransaction) await inTransaction(trx, user);
          return user;
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw httpError('email_taken', `A user with e-mail ${input.email} already exists.`);
        throw error;
      }
    },

    /**
     * Creates the organization owner of a fresh installation (the start
     * command runs it every time). An existing account is left as it is: a
     * password changed in Hexa survives a restart. `resetPassword` is the way
     * back in for whoever holds the installation: it sets the given password and
     * makes the account an Owner again. Says whether the given password signs
     * in, so the caller can tell whether printing it would help anyone.
     */
    async seedOwner(input: { email: string; name: string; password: string }, options: { resetPassword?: boolean } = {}): Promise<SeedOwnerResult> {
      const existing = await findUserByEmail(db, input.email);
      if (!existing) {
        try {
          await insertUser(db, { email: input.email, name: input.name, passwordHash: await hashPassword(input.password), organizationRole: 'OWNER' });
          return { outcome: 'created', passwordSignsIn: true };
        } catch (error) {
          // Another seed created it first: fall through to the existing account.
          if (!isUniqueViolation(error)) throw error;
        }
      }
      if (options.resetPassword) {
        await db
          .updateTable('users')
          .set({ password_hash: await hashPassword(input.password), organization_role: 'OWNER', updated_at: new Date() })
          .where('email', '=', input.email.toLowerCase())
          .execute();
        return { outcome: 'reset', passwordSignsIn: true };
      }
      const current = existing ?? (await findUserByEmail(db, input.email));
      return { outcome: 'kept', passwordSignsIn: await verifyPassword(current?.password_hash, input.password) };
    },
  };
}

export type UsersService = ReturnType<typeof createUsersService>;
