import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dropSchema, flushRedisPrefix, serviceKeyEnv, testDatabaseUrl, testRedisUrl, uniqueQueuePrefix, uniqueSchema } from '@hexa/testing';

// The service's entry points as production runs them: separate processes, configured by the environment.
const serviceDir = fileURLToPath(new URL('..', import.meta.url));
const schema = uniqueSchema('workspaces');
const env = {
  PATH: process.env.PATH,
  DATABASE_URL: testDatabaseUrl,
  DATABASE_SCHEMA: schema,
  REDIS_URL: testRedisUrl,
  HEXA_QUEUE_PREFIX: uniqueQueuePrefix(),
  ...serviceKeyEnv('workspaces'),
  MEMBERSHIP_URL: 'http://127.0.0.1:9',
  PORT: '0',
  LOG_LEVEL: 'info',
};

function runToEnd(file: string, extra: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: serviceDir, env: { ...env, ...extra }, encoding: 'utf8', timeout: 20_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface Running { child: ChildProcess; output: () => string; exited: Promise<number | null> }

/** Starts an entry point and resolves once its output matches `ready`. */
async function start(file: string, ready: RegExp): Promise<Running & { match: RegExpExecArray }> {
  const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: serviceDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not get ready:\n${output}`)), 15_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const found = ready.exec(output);
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => reject(new Error(`${file} exited with ${code}:\n${output}`)));
  });
  return { child, output: () => output, exited, match };
}

afterAll(async () => {
  await dropSchema(schema);
  await flushRedisPrefix(env.HEXA_QUEUE_PREFIX);
});

describe('the migrate script', () => {
  it('applies the migrations once, then finds nothing to do', () => {
    const first = runToEnd('src/migrate.ts');
    expect(first).toMatchObject({ status: 0, stdout: 'workspaces: 1 migration(s) applied: 2026-11-26T1700-initial\n' });
    expect(runToEnd('src/migrate.ts')).toMatchObject({ status: 0, stdout: 'workspaces: 0 migration(s) applied\n' });
  });
});

describe('when the configuration is wrong', () => {
  it('exits 78 naming every problem, without a stack trace or the secret', () => {
    const result = runToEnd('src/server.ts', { HEXA_SERVICE_KEY: 'not a key', PORT: 'eighty' });
    expect(result.status).toBe(78);
    expect(result.stderr).toBe('workspaces: Invalid configuration:\n  HEXA_SERVICE_KEY=(secret): must match /BEGIN PRIVATE KEY/\n  PORT="eighty": must be an integer\n');
  });
});

describe('when the server gets SIGTERM', () => {
  it('stops listening and exits 0', async () => {
    const server = await start('src/server.ts', /Server listening at (http:\/\/127\.0\.0\.1:\d+)/);
    const baseUrl = server.match[1]!;
    expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.output()).toContain('"signal":"SIGTERM","msg":"closing"');
    await expect(fetch(`${baseUrl}/healthz`)).rejects.toThrow();
  });
});

describe('when the outbox worker gets SIGTERM', () => {
  it('stops its relay and exits 0', async () => {
    const worker = await start('src/worker.ts', /outbox relay started/);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(worker.output()).toContain('closing on SIGTERM');
  });
});
