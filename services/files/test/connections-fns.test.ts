import { checkFields, envNameOf, slugFromName } from '../src/modules/connections/connections-fns.js';

describe('when a connection is named', () => {
  it('makes OpenHEXA\'s variable names: <SLUG>_<FIELD_CODE>, upper-case, camelCase split, anything else _', () => {
    expect(envNameOf('dhis2-burkina', 'password')).toBe('DHIS2_BURKINA_PASSWORD');
    expect(envNameOf('warehouse', 'dbName')).toBe('WAREHOUSE_DB_NAME');
    expect(envNameOf('s3', 'secretAccessKey')).toBe('S3_SECRET_ACCESS_KEY');
    expect(envNameOf('x', 'db_name')).toBe('X_DB_NAME');
  });

  it('makes a slug from the name', () => {
    expect(slugFromName('Entrepôt de données (prod)')).toBe('entrepot-de-donnees-prod');
    expect(slugFromName('!!!')).toBe('connection');
    expect(slugFromName('a'.repeat(60))).toHaveLength(40);
  });
});

describe('when fields are checked', () => {
  const has = (field: { value?: string }) => field.value !== undefined;
  it('needs each type\'s fields and keeps secrets secret', () => {
    expect(() => checkFields('s', 'GCS', [{ code: 'bucketName', value: 'b', secret: false }], has)).toThrow(/serviceAccountKey/);
    expect(() => checkFields('s', 'CUSTOM', [{ code: 'password', value: 'p', secret: false }], has)).toThrow(/holds a secret/);
    expect(() => checkFields('s', 'CUSTOM', [{ code: 'token', value: 'p', secret: true }], has)).not.toThrow();
    expect(() =>
      checkFields('s', 'POSTGRESQL', ['host', 'port', 'dbName', 'username'].map((code) => ({ code, value: code === 'port' ? '99999' : 'x', secret: false })).concat([{ code: 'password', value: 'p', secret: true }]), has),
    ).toThrow(/port number/);
  });
});
