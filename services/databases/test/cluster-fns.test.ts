import { databaseNamesFor, generatePassword, loginUrl, userUrl } from '../src/modules/cluster/cluster-fns.js';
import { loadDatabasesConfig } from '../src/config.js';
import { serviceKeyEnv } from '@hexa/testing';

describe('when a workspace database is named', () => {
  it('takes the names from the workspace id and the prefix only', () => {
    expect(databaseNamesFor('hexa_ws_', '3F2A0C1E-0000-4000-8000-00000000ABCD')).toEqual({
      database: 'hexa_ws_3f2a0c1e00004000800000000000abcd',
      owner: 'hexa_ws_3f2a0c1e00004000800000000000abcd',
      reader: 'hexa_ws_3f2a0c1e00004000800000000000abcd_ro',
    });
  });

  it('refuses anything that is not a UUID, such as text a user typed', () => {
    for (const id of ['malaria-bf', "x'; drop database postgres; --", '', '3f2a0c1e-0000-4000-8000-00000000abcd; select']) {
      expect(() => databaseNamesFor('hexa_ws_', id)).toThrow('A workspace id is a UUID');
    }
  });
});

describe('when a password is generated', () => {
  it('is 43 characters of base64url (256 bits from the CSPRNG), different every time', () => {
    const passwords = new Set(Array.from({ length: 100 }, generatePassword));
    expect(passwords.size).toBe(100);
    for (const password of passwords) expect(password).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('when URLs are built for a login', () => {
  it('keeps the admin URL\'s server and options and shows users a postgresql:// URL', () => {
    expect(loginUrl('postgres://admin:secret@db.internal:5433/postgres?sslmode=require', 'hexa_ws_a', 'p/w@x', 'hexa_ws_a')).toBe('postgres://hexa_ws_a:p%2Fw%40x@db.internal:5433/hexa_ws_a?sslmode=require');
    expect(userUrl({ host: 'db.example.org', port: 5432 }, 'hexa_ws_a', 'pw', 'hexa_ws_a')).toBe('postgresql://hexa_ws_a:pw@db.example.org:5432/hexa_ws_a');
    expect(userUrl({ host: '::1', port: 5433 }, 'u', 'pw', 'd')).toBe('postgresql://u:pw@[::1]:5433/d');
  });
});

describe('when the encryption key is configured', () => {
  const base = { ...serviceKeyEnv('databases'), HEXA_WORKSPACE_DB_ADMIN_URL: 'postgres://admin:secret@127.0.0.1:5433/postgres' };

  it('takes 32 bytes of base64 and refuses anything else without printing it', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    // One key is a keyring of one (id k1); the kit's secrets.ts takes rotations (`k2:<new>,k1:<old>`).
    expect(loadDatabasesConfig({ ...base, HEXA_DATABASE_ENCRYPTION_KEY: key }).HEXA_DATABASE_ENCRYPTION_KEY).toEqual({ currentId: 'k1', keys: new Map([['k1', Buffer.alloc(32, 7)]]) });
    for (const wrong of [Buffer.alloc(16, 7).toString('base64'), 'not base64 at all!!', `${key}x`]) {
      expect(() => loadDatabasesConfig({ ...base, HEXA_DATABASE_ENCRYPTION_KEY: wrong })).toThrow('HEXA_DATABASE_ENCRYPTION_KEY=(secret): must be 32 bytes in base64');
    }
  });
});
