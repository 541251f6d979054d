import { configurationETag, configurationProblems, identifierWords, ifMatchAccepts, jsonDepth, looksLikeSecret, maxConfigurationBytes, maxConfigurationKeys } from '../src/modules/configuration/configuration-fns.js';

describe('when a configuration key looks like a secret', () => {
  it.each(['db_password', 'DB_PASSWORD', 'Password', 'smtpPasswd', 'client_secret', 'SECRET', 'github_token', 'AccessToken', 'ApiKey', 'API_KEY', 'apiKey', 'api_key', 'APIKEY', 'APIKey', 'KEY', 'key', 'private_key', 'PrivateKey', 'aws_access_key_id', 'SSH_KEYS', 'db_pwd', 'GCP_CREDENTIALS', 'key2'])(
    'refuses %s',
    (key) => {
      expect(looksLikeSecret(key)).toBe(true);
    },
  );

  it.each(['monkey', 'Monkey', 'keyboard', 'KEYBOARD_LAYOUT', 'turkey_regions', 'hockey', 'whiskey', 'donkey', 'MAX_ROWS', 'feature_flag', 'default_country', 'DHIS2_URL', 'keynote', 'monkey_keyboard'])('accepts %s', (key) => {
    expect(looksLikeSecret(key)).toBe(false);
  });

  it('splits identifiers into words at underscores, digits and case changes', () => {
    expect(identifierWords('APIKey2_forHTTPServer')).toEqual(['api', 'key', 'for', 'http', 'server']);
  });
});

describe('when a whole configuration is checked', () => {
  const fieldOf = (key: string) => `body/properties/${key}`;

  it('accepts any JSON but null as a value', () => {
    expect(configurationProblems({ a: 'text', b: 1.5, c: false, d: { nested: [1, null, { x: 'y' }] }, e: [], f: '' }, fieldOf)).toEqual([]);
  });

  it('names each key that looks like a secret or holds null, pointing to connections', () => {
    expect(configurationProblems({ db_password: 'x', fine: 1, empty: null }, fieldOf)).toEqual([
      { field: 'body/properties/db_password', message: '"db_password" looks like the name of a secret; keep secrets in the workspace\'s connections, not in its configuration' },
      { field: 'body/properties/empty', message: 'a value cannot be null; delete the property instead' },
    ]);
  });

  it('refuses more than the maximum number of keys, and more than the maximum size', () => {
    const many = Object.fromEntries(Array.from({ length: maxConfigurationKeys + 1 }, (_, index) => [`k${index}`, index]));
    expect(configurationProblems(many, fieldOf)).toEqual([{ field: 'body', message: `the configuration would hold ${maxConfigurationKeys + 1} properties; at most ${maxConfigurationKeys}` }]);
    const big = { text: 'é'.repeat(maxConfigurationBytes / 2) };
    expect(configurationProblems(big, fieldOf)[0]?.message).toMatch(/would take \d+ bytes as JSON; at most 65536/);
  });

  it('refuses values nested deeper than 20 levels without walking them recursively', () => {
    let deep: unknown = 1;
    for (let level = 0; level < 100_000; level += 1) deep = [deep];
    expect(jsonDepth(deep)).toBe(21);
    expect(configurationProblems({ deep }, fieldOf)).toEqual([{ field: 'body/properties/deep', message: 'the value nests deeper than 20 levels' }]);
    expect(jsonDepth({ a: [{ b: 1 }] })).toBe(3);
  });
});

describe('when If-Match is compared with the current ETag', () => {
  const current = configurationETag(7);

  it('matches the same strong tag, one of a list, or *', () => {
    expect(current).toBe('"configuration-7"');
    expect(ifMatchAccepts('"configuration-7"', current)).toBe(true);
    expect(ifMatchAccepts(' "configuration-6" , "configuration-7"', current)).toBe(true);
    expect(ifMatchAccepts('*', current)).toBe(true);
  });

  it('does not match another version, a weak tag or an unquoted value', () => {
    expect(ifMatchAccepts('"configuration-6"', current)).toBe(false);
    expect(ifMatchAccepts('W/"configuration-7"', current)).toBe(false);
    expect(ifMatchAccepts('configuration-7', current)).toBe(false);
    expect(ifMatchAccepts('', current)).toBe(false);
  });
});
