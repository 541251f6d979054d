import { createDatabase, loadConfig, str } from '@hexa/kit';
import { loadMembershipConfig } from './config.js';
import type { MembershipDatabase } from './database.js';
import { createUsersService } from './modules/users/users-service.js';

// Makes sure the first organization owner exists with the given login (`npm start` runs it every time).
const config = loadMembershipConfig({ HEXA_INTERNAL_SECRET: 'not-used-by-the-seed-but-required-012345', HEXA_JWT_PRIVATE_KEY: 'BEGIN PRIVATE KEY', ...process.env });
const owner = loadConfig({
  HEXA_OWNER_EMAIL: str('e-mail of the organization owner', { pattern: /^[^@\s]+@[^@\s]+$/ }),
  HEXA_OWNER_PASSWORD: str('password of the organization owner', { secret: true, minLength: 12 }),
  HEXA_OWNER_NAME: str('name of the organization owner', { default: 'Organization Owner' }),
});
const db = createDatabase<MembershipDatabase>({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA });
try {
  const outcome = await createUsersService({ db }).seedOwner({ email: owner.HEXA_OWNER_EMAIL, name: owner.HEXA_OWNER_NAME, password: owner.HEXA_OWNER_PASSWORD });
  console.log(`membership: organization owner ${owner.HEXA_OWNER_EMAIL} ${outcome}`);
} finally {
  await db.destroy();
}
