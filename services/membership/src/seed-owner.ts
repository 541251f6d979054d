import { commonConfig, configOrExit, createDatabase, databaseSchemaConfig, loadConfig, str } from '@hexa/kit';
import type { MembershipDatabase } from './database.js';
import { createUsersService } from './modules/users/users-service.js';

// Makes sure the first organization owner exists with the given login (`npm start` runs it every time).
const config = configOrExit('owner seed', () => loadConfig({
  DATABASE_URL: commonConfig.DATABASE_URL,
  DATABASE_SCHEMA: databaseSchemaConfig('membership'),
  HEXA_OWNER_EMAIL: str('e-mail of the organization owner', { pattern: /^[^@\s]+@[^@\s]+$/ }),
  HEXA_OWNER_PASSWORD: str('password of the organization owner', { secret: true, minLength: 12 }),
  HEXA_OWNER_NAME: str('name of the organization owner', { default: 'Organization Owner' }),
}));
const db = createDatabase<MembershipDatabase>({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA });
try {
  const outcome = await createUsersService({ db }).seedOwner({ email: config.HEXA_OWNER_EMAIL, name: config.HEXA_OWNER_NAME, password: config.HEXA_OWNER_PASSWORD });
  console.log(`membership: organization owner ${config.HEXA_OWNER_EMAIL} ${outcome}`);
} finally {
  await db.destroy();
}
