import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, commonConfig, databaseSchemaConfig, int, loadConfig, oneOf, str, url } from '../src/config.js';

const spec = {
  PORT: int('HTTP port', { default: 8081, min: 0, max: 65535 }),
  MODE: oneOf('mode', ['fast', 'safe'], { default: 'safe' }),
  API_URL: url('where the API is', { protocols: ['http', 'https'] }),
  TOKEN: str('a secret token', { secret: true, minLength: 16 }),
  DATABASE_SCHEMA: databaseSchemaConfig('membership'),
};

function problemsOf(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(spec, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('loadConfig', () => {
  it('applies defaults and parses values', () => {
    const config = loadConfig(spec, { API_URL: 'http://127.0.0.1:8081/', TOKEN: 'sixteen chars ok' });
    expect(config).toEqual({ PORT: 8081, MODE: 'safe', API_URL: 'http://127.0.0.1:8081', TOKEN: 'sixteen chars ok', DATABASE_SCHEMA: 'membership' });
  });

  it('names every problem at once, with what each setting is for', () => {
    const message = problemsOf({ PORT: 'eighty', MODE: 'slow', DATABASE_SCHEMA: 'Bad Schema"' });
    expect(message).toContain('PORT="eighty": must be an integer');
    expect(message).toContain('MODE="slow": must be one of fast, safe');
    expect(message).toContain('API_URL: missing (where the API is)');
    expect(message).toContain('TOKEN: missing (a secret token)');
    expect(message).toContain('DATABASE_SCHEMA="Bad Schema\\"": must match');
  });

  it('never prints a secret, even a wrong one', () => {
    const message = problemsOf({ API_URL: 'http://x', TOKEN: 'too-short-secret'.slice(0, 10) });
    expect(message).toContain('TOKEN=(secret): must be at least 16 characters');
    expect(message).not.toContain('too-short');
    const database = (() => {
      try {
        loadConfig({ DATABASE_URL: commonConfig.DATABASE_URL }, { DATABASE_URL: 'mysql://admin:hunter2@db/x' });
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(database).toContain('DATABASE_URL=(secret): must use postgres or postgresql');
    expect(database).not.toContain('hunter2');
  });

  it('rejects out-of-range numbers and URLs of another protocol', () => {
    expect(problemsOf({ PORT: '70000', API_URL: 'ftp://host', TOKEN: 'sixteen chars ok' })).toMatch(/PORT="70000": must be at most 65535[\s\S]*API_URL="ftp:\/\/host": must use http or https/);
  });

  it('reads <NAME>_FILE when set, trimmed, and says when the file cannot be read', () => {
    const folder = mkdtempSync(join(tmpdir(), 'hexa-config-'));
    try {
      writeFileSync(join(folder, 'token'), 'a token read from a file\n');
      const config = loadConfig(spec, { API_URL: 'https://api.example.org', TOKEN_FILE: join(folder, 'token') });
      expect(config.TOKEN).toBe('a token read from a file');
      expect(problemsOf({ API_URL: 'https://api.example.org', TOKEN_FILE: join(folder, 'missing') })).toContain(`TOKEN_FILE: cannot read ${join(folder, 'missing')}`);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
