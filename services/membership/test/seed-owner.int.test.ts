import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createDatabase, migrateToLatest } from '@hexa/kit';
import { createServiceSchema, dropSchema, query, type ServiceDatabase } from '@hexa/testing';
import { membershipMigrations, type MembershipDatabase } from '../src/index.js';
import { hashPassword, verifyPassword } from '../src/modules/users/passwords.js';

// The seed as `npm start` runs it: a process of its own, connected as membership's role,
// reporting to its supervisor over an IPC channel.
const serviceDir = fileURLToPath(new URL('..', import.meta.url));
const givenPassword = 'the password npm start holds';
let database: ServiceDatabase;
/** Each seed is a Node process that loads TypeScript (seconds on a busy 2-core machine), and a test runs up to four. */
const processTimeoutMs = 90_000;

beforeAll(async () => {
  database = await createServiceSchema('membership');
  const db = createDatabase<MembershipDatabase>({ url: database.url, schema: database.schema });
  try {
    await migrateToLatest(db, database.schema, membershipMigrations);
  } finally {
    await db.destroy();
  }
});

afterAll(async () => {
  await dropSchema(database.schema);
});

interface SeedRun {
  status: number | null;
  stdout: string;
  stderr: string;
  messages: unknown[];
}

function seed(env: Record<string, string>): Promise<SeedRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/seed-owner.ts'], {
    cwd: serviceDir,
    env: { PATH: process.env.PATH, DATABASE_URL: database.url, DATABASE_SCHEMA: database.schema, HEXA_OWNER_PASSWORD: givenPassword, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const run: SeedRun = { status: null, stdout: '', stderr: '', messages: [] };
  child.stdout!.on('data', (chunk: Buffer) => (run.stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
  child.on('message', (message) => run.messages.push(message));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ ...run, status: code })));
}

async function ownerRow(email: string) {
  const [row] = await query<{ password_hash: string; organization_role: string; updated_at: Date }>(
    `select password_hash, organization_role, updated_at from "${database.schema}".users where email = $1`,
    [email],
  );
  return row!;
}

const kept = (email: string, signsIn: boolean) =>
  `membership: organization owner ${email} exists; password kept${signsIn ? '' : ' (not the one given; HEXA_OWNER_PASSWORD_RESET=true sets it)'}\n`;

describe('the owner seed', () => {
  it('creates the owner once; a restart keeps a password changed in Hexa meanwhile', async () => {
    const email = 'olive@example.org';
    const first = await seed({ HEXA_OWNER_EMAIL: email });
    expect(first).toMatchObject({ status: 0, stdout: `membership: organization owner ${email} created\n`, messages: [{ seedOwner: { outcome: 'created', passwordSignsIn: true } }] });
    expect(await verifyPassword((await ownerRow(email)).password_hash, givenPassword)).toBe(true);

    // The owner changes the password in Hexa.
    await query(`update "${database.schema}".users set password_hash = $1 where email = $2`, [await hashPassword('changed in Hexa, not in .hexa'), email]);
    const changed = await ownerRow(email);

    const second = await seed({ HEXA_OWNER_EMAIL: email });
    expect(second).toMatchObject({ status: 0, stdout: kept(email, false), messages: [{ seedOwner: { outcome: 'kept', passwordSignsIn: false } }] });
    expect(await ownerRow(email)).toEqual(changed);
    expect(await verifyPassword(changed.password_hash, 'changed in Hexa, not in .hexa')).toBe(true);

    // A new HEXA_OWNER_PASSWORD changes nothing either: the seed only creates.
    const third = await seed({ HEXA_OWNER_EMAIL: email, HEXA_OWNER_PASSWORD: 'a new password in the environment' });
    expect(third).toMatchObject({ status: 0, stdout: kept(email, false) });
    expect(await ownerRow(email)).toEqual(changed);

    // Given the current password, it says that one signs in.
    expect(await seed({ HEXA_OWNER_EMAIL: email, HEXA_OWNER_PASSWORD: 'changed in Hexa, not in .hexa' })).toMatchObject({
      status: 0,
      stdout: kept(email, true),
      messages: [{ seedOwner: { outcome: 'kept', passwordSignsIn: true } }],
    });

    for (const run of [first, second, third]) expect(run.stdout + run.stderr + JSON.stringify(run.messages)).not.toMatch(/password npm start holds|new password in the environment/);
  }, processTimeoutMs);

  it('resets the password and the Owner role only when asked to', async () => {
    const email = 'oscar@example.org';
    await seed({ HEXA_OWNER_EMAIL: email });
    await query(`update "${database.schema}".users set password_hash = $1, organization_role = 'MEMBER' where email = $2`, [await hashPassword('forgotten password'), email]);

    const reset = await seed({ HEXA_OWNER_EMAIL: email, HEXA_OWNER_PASSWORD_RESET: 'true' });
    expect(reset).toMatchObject({
      status: 0,
      stdout: `membership: organization owner ${email} exists; password reset to the one given\n`,
      messages: [{ seedOwner: { outcome: 'reset', passwordSignsIn: true } }],
    });
    const row = await ownerRow(email);
    expect(row.organization_role).toBe('OWNER');
    expect(await verifyPassword(row.password_hash, givenPassword)).toBe(true);
  }, processTimeoutMs);

  it('creates one owner when two seeds run at once', async () => {
    const email = 'twins@example.org';
    const runs = await Promise.all([seed({ HEXA_OWNER_EMAIL: email }), seed({ HEXA_OWNER_EMAIL: email })]);
    expect(runs.map((run) => [run.status, run.stderr])).toEqual([[0, ''], [0, '']]);
    // One created it; the other found it (whichever lost the race on the unique e-mail), and both know the password works.
    expect(runs.map((run) => run.messages)).toEqual(
      expect.arrayContaining([[{ seedOwner: { outcome: 'created', passwordSignsIn: true } }], [{ seedOwner: { outcome: expect.stringMatching(/^(created|kept)$/), passwordSignsIn: true } }]]),
    );
    expect(await query(`select count(*)::int as owners from "${database.schema}".users where email = $1`, [email])).toEqual([{ owners: 1 }]);
  });

  it('runs without a supervisor, as an operator would run it by hand', async () => {
    const email = 'solo@example.org';
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/seed-owner.ts'], {
      cwd: serviceDir,
      env: { PATH: process.env.PATH, DATABASE_URL: database.url, DATABASE_SCHEMA: database.schema, HEXA_OWNER_EMAIL: email, HEXA_OWNER_PASSWORD: givenPassword },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(0);
    expect(stdout).toBe(`membership: organization owner ${email} created\n`);
  });
});
