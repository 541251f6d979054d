import { commonConfig, configOrExit, createDatabase, databaseSchemaConfig, loadConfig, oneOf, str } from '@hexa/kit';
import type { MembershipDatabase } from './database.js';
import { createUsersService } from './modules/users/users-service.js';

// Creates the first organization owner when there is none with this e-mail (`npm start` runs it every time).
// An existing account keeps its password unless HEXA_OWNER_PASSWORD_RESET=true.
const config = configOrExit('owner seed', () => loadConfig({
  DATABASE_URL: commonConfig.DATABASE_URL,
  DATABASE_SCHEMA: databaseSchemaConfig('membership'),
  HEXA_OWNER_EMAIL: str('e-mail of the organization owner', { pattern: /^[^@\s]+@[^@\s]+$/ }),
  HEXA_OWNER_PASSWORD: str('password of the organization owner', { secret: true, minLength: 12 }),
  HEXA_OWNER_NAME: str('name of the organization owner', { default: 'Organization Owner' }),
  HEXA_OWNER_PASSWORD_RESET: oneOf('set the password (and the Owner role) of an existing owner account', ['true', 'false'], { default: 'false' }),
}));

const said = {
  created: 'created',
  reset: 'exists; password reset to the one given',
  kept: 'exists; password kept',
} as const;

const db = createDatabase<MembershipDatabase>({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA });
try {
  const result = await createUsersService({ db }).seedOwner(
    { email: config.HEXA_OWNER_EMAIL, name: config.HEXA_OWNER_NAME, password: config.HEXA_OWNER_PASSWORD },
    { resetPassword: config.HEXA_OWNER_PASSWORD_RESET === 'true' },
  );
  const mismatch = result.passwordSignsIn ? '' : ' (not the one given; HEXA_OWNER_PASSWORD_RESET=true sets it)';
  console.log(`membership: organization owner ${config.HEXA_OWNER_EMAIL} ${said[result.outcome]}${mismatch}`);
  // A supervisor that started us with an IPC channel (npm start) learns whether the password it holds still works,
  // and prints it only then. Never the password itself.
  if (process.send) await new Promise<void>((resolve) => process.send!({ seedOwner: result }, () => resolve()));
} finally {
  await db.destroy();
}
