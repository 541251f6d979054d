import { bridgeGatewayOf, isLoopback } from '../src/modules/engine/database-relay.js';
import { boundedAppend, generateRunToken, hashRunToken, maskedValues, maskSecrets, outcomeOf, runEnvironment, takeFlushable, truncationMarker } from '../src/modules/runs/runs-fns.js';

describe('when output holds a secret', () => {
  it('masks every occurrence, the longer secret first', () => {
    expect(maskSecrets('pw=abc url=x:abc@h abcd', ['abc', 'abcd'])).toBe('pw=***** url=x:*****@h *****');
  });
  it('masks each line of a multi-line secret, as output stored a line at a time shows it, but not its trivially short lines', () => {
    const key = JSON.stringify({ type: 'service_account', private_key: '-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----\n' }, null, 2);
    const printed = `key:\n${key.split('\n').map((line) => `    ${line}`).join('\n')}\n`;
    const masked = maskSecrets(printed, [key]);
    expect(masked).toBe('key:\n    {\n      *****\n      *****\n    }\n');
    expect(maskSecrets(`whole: ${key}`, [key])).toBe('whole: *****');
    expect(maskSecrets('{\n}\nsecret-line\n', ['{\n  secret-line\n}'])).toBe('{\n}\n*****\n');
  });
  it('ignores empty secrets', () => {
    expect(maskSecrets('nothing here', [''])).toBe('nothing here');
  });
});

describe('when output is buffered for storage', () => {
  it('stores whole lines only, so a secret is never split across two writes', () => {
    expect(takeFlushable('one\ntwo\nthr', false)).toEqual({ flush: 'one\ntwo\n', rest: 'thr' });
    expect(takeFlushable('partial', false)).toEqual({ flush: '', rest: 'partial' });
  });
  it('stores everything once the run ended', () => {
    expect(takeFlushable('tail', true)).toEqual({ flush: 'tail', rest: '' });
  });
  it('stores a line that grew too long rather than holding it forever', () => {
    const long = 'x'.repeat(70_000);
    expect(takeFlushable(long, false)).toEqual({ flush: long, rest: '' });
  });
});

describe('when a log reaches its limit', () => {
  it('keeps what fits, then the marker once, then nothing', () => {
    const first = boundedAppend(0, false, 'abcdef', 4);
    expect(first).toEqual({ append: `abcd${truncationMarker(4)}`, truncated: true });
    expect(boundedAppend(4, true, 'more', 4)).toEqual({ append: '', truncated: true });
    expect(boundedAppend(0, false, 'ab', 4)).toEqual({ append: 'ab', truncated: false });
  });
  it('counts bytes (UTF-8), not characters, and never cuts a character in two', () => {
    // 'é' is 2 bytes, '€' 3, '😀' 4 (two UTF-16 units).
    expect(boundedAppend(0, false, 'éé', 4)).toEqual({ append: 'éé', truncated: false });
    expect(boundedAppend(0, false, 'ééé', 4)).toEqual({ append: `éé${truncationMarker(4)}`, truncated: true });
    expect(boundedAppend(0, false, 'a€€', 6)).toEqual({ append: `a€${truncationMarker(6)}`, truncated: true });
    expect(boundedAppend(1, false, '😀😀', 8)).toEqual({ append: `😀${truncationMarker(8)}`, truncated: true });
    expect(truncationMarker(4)).toContain('first 4 bytes');
  });
});

describe('when a container ended', () => {
  it('tells canceled, timed out, memory-killed, failed and succeeded apart', () => {
    expect(outcomeOf({ exitCode: 137, oomKilled: false }, { kind: 'canceled', reason: 'Canceled by a user' }, 64)).toEqual({ status: 'canceled', reason: 'Canceled by a user' });
    expect(outcomeOf({ exitCode: 137, oomKilled: false }, { kind: 'timed_out', timeoutSeconds: 5 }, 64)).toEqual({ status: 'timed_out', reason: 'Stopped after its time limit of 5 s' });
    expect(outcomeOf({ exitCode: 137, oomKilled: true }, undefined, 64)).toEqual({ status: 'failed', reason: 'Killed: it used more than its memory limit of 64 MB' });
    expect(outcomeOf({ exitCode: 3, oomKilled: false }, undefined, 64)).toEqual({ status: 'failed', reason: 'Exited with code 3' });
    expect(outcomeOf({ exitCode: 0, oomKilled: false }, undefined, 64)).toEqual({ status: 'succeeded', reason: null });
  });
});

describe('when a run token is made', () => {
  it('has the prefix the gateway recognises and is stored only as its SHA-256', () => {
    const token = generateRunToken(32);
    expect(token).toMatch(/^hexa_run_[A-Za-z0-9_-]{43}$/);
    expect(hashRunToken(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(generateRunToken(32)).not.toBe(token);
  });
});

describe('when the environment of a run is built', () => {
  it('names the variables as OpenHEXA does, with the database URL encoded', () => {
    const env = runEnvironment({
      serverUrl: 'http://host.docker.internal:8080',
      slug: 'malaria',
      runId: 'run-1',
      pipelineCode: 'etl',
      token: 'hexa_run_x',
      configuration: { a: 1 },
      parameters: { p: 'v' },
      database: { host: 'db', port: 5433, dbName: 'ws', username: 'user', password: 'p@ss/word' },
      connections: { WAREHOUSE_HOST: 'warehouse.example.org', HEXA_TOKEN: 'from a connection named hexa' },
    });
    expect(env).toEqual(expect.arrayContaining([
      'WAREHOUSE_HOST=warehouse.example.org',
      'HEXA_CONFIG={"a":1}',
      'HEXA_PARAMETERS={"p":"v"}',
      'WORKSPACE_DATABASE_PORT=5433',
      'WORKSPACE_DATABASE_URL=postgresql://user:p%40ss%2Fword@db:5433/ws',
    ]));
    // A connection cannot shadow the platform's own variables.
    expect(env.filter((entry) => entry.startsWith('HEXA_TOKEN='))).toEqual(['HEXA_TOKEN=hexa_run_x']);
  });
});

describe('when the values to mask are read back from an environment', () => {
  it('takes the named variables\' values, whole (an "=" inside a value stays), and skips empty ones', () => {
    const environment = ['HEXA_TOKEN=hexa_run_x', 'WAREHOUSE_PASSWORD=a=b', 'EMPTY=', 'PLAIN=1'];
    expect(maskedValues(environment, ['HEXA_TOKEN', 'WAREHOUSE_PASSWORD', 'EMPTY', 'MISSING'])).toEqual(['hexa_run_x', 'a=b']);
  });
});

describe('when the relay looks for the Docker bridge', () => {
  it('takes the gateway Docker names, or the subnet\'s first address', () => {
    expect(bridgeGatewayOf([{ Subnet: '172.17.0.0/16', Gateway: '172.17.0.1' }])).toBe('172.17.0.1');
    expect(bridgeGatewayOf([{ Subnet: '172.18.0.0/16' }])).toBe('172.18.0.1');
    expect(bridgeGatewayOf([])).toBeUndefined();
  });
  it('relays only servers that listen on loopback', () => {
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('localhost')).toBe(true);
    expect(isLoopback('db.example.org')).toBe(false);
  });
});
