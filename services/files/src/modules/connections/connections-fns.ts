import type { Schemas } from '@hexa/contract';
import { httpError } from '@hexa/kit';

export type ConnectionType = Schemas['ConnectionType'];
export type FieldInput = Schemas['ConnectionFieldInput'];

/** The fields each type needs (OpenHEXA's connection types), in the order a form shows them. */
export const requiredFields: Record<ConnectionType, readonly string[]> = {
  POSTGRESQL: ['host', 'port', 'dbName', 'username', 'password'],
  S3: ['bucketName', 'accessKeyId', 'secretAccessKey'],
  GCS: ['bucketName', 'serviceAccountKey'],
  DHIS2: ['url', 'username', 'password'],
  IASO: ['url', 'username', 'password'],
  CUSTOM: [],
};

/** Fields whose value is a secret by nature, whatever the type: sending one as not secret is refused. */
export const alwaysSecret: ReadonlySet<string> = new Set(['password', 'secretAccessKey', 'serviceAccountKey']);

/** Each type's name for people. */
const typeLabels: Record<ConnectionType, string> = {
  POSTGRESQL: 'PostgreSQL',
  S3: 'Amazon S3',
  GCS: 'Google Cloud Storage',
  DHIS2: 'DHIS2',
  IASO: 'IASO',
  CUSTOM: 'Custom',
};

/** The types whose connections `test` can try for real. */
export const testableTypes: ReadonlySet<ConnectionType> = new Set(['POSTGRESQL']);

/** What a form needs to know of each type (`GET /connection-types`): the rules above, as data. */
export const connectionTypeInfos: Schemas['ConnectionTypeInfo'][] = (Object.keys(requiredFields) as ConnectionType[]).map((type) => ({
  type,
  label: typeLabels[type],
  fields: requiredFields[type].map((code) => ({ code, secret: alwaysSecret.has(code) })),
  testable: testableTypes.has(type),
}));

/** One part of an environment variable's name: camelCase split (`dbName` → `DB_NAME`), upper-case, anything else `_`. */
function envPart(text: string): string {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, '_');
}

/**
 * The environment variable that carries a connection's field in runs,
 * OpenHEXA's `<CONNECTION_SLUG>_<FIELD_CODE>`.
 *
 * @example
 * envNameOf('dhis2-burkina', 'password') // 'DHIS2_BURKINA_PASSWORD'
 * envNameOf('warehouse', 'dbName') // 'WAREHOUSE_DB_NAME'
 */
export function envNameOf(slug: string, code: string): string {
  return `${envPart(slug)}_${envPart(code)}`;
}

/** A connection slug made from its name: lower-case ASCII words joined by `-`, at most 40 characters. */
export function slugFromName(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/g, '');
  return slug === '' ? 'connection' : slug;
}

/**
 * Checks a full set of fields against the type's rules: codes unique (also as
 * environment variables), required fields present with a value, secrets
 * secret, PostgreSQL's port a port. `hasValue` says whether a field has a
 * value (sent, or kept from before for a secret).
 */
export function checkFields(slug: string, type: ConnectionType, fields: FieldInput[], hasValue: (field: FieldInput) => boolean): void {
  const seen = new Map<string, string>();
  for (const [index, field] of fields.entries()) {
    const env = envNameOf(slug, field.code);
    const clash = seen.get(env);
    if (clash !== undefined) {
      throw httpError('invalid_input', `Fields "${clash}" and "${field.code}" would both be ${env} in runs.`, { errors: [{ field: `body/fields/${index}/code`, message: `same environment variable as "${clash}"` }] });
    }
    seen.set(env, field.code);
    if (alwaysSecret.has(field.code) && !field.secret) {
      throw httpError('secret_required', `The field "${field.code}" holds a secret: send it with "secret": true.`, { errors: [{ field: `body/fields/${index}/secret`, message: 'must be true' }] });
    }
  }
  const missing = requiredFields[type].filter((code) => {
    const field = fields.find((candidate) => candidate.code === code);
    return field === undefined || !hasValue(field) || (field.value !== undefined && field.value.trim() === '');
  });
  if (missing.length > 0) {
    throw httpError('connection_field_missing', `A ${type} connection needs ${missing.map((code) => `"${code}"`).join(', ')}.`, {
      errors: missing.map((code) => ({ field: `body/fields/${code}`, message: 'is required with a value' })),
    });
  }
  if (type === 'POSTGRESQL') {
    const port = fields.find((field) => field.code === 'port');
    if (port?.value !== undefined && !(/^\d{1,5}$/.test(port.value) && Number(port.value) >= 1 && Number(port.value) <= 65535)) {
      throw httpError('invalid_input', 'The field "port" must be a port number (1–65535).', { errors: [{ field: 'body/fields/port', message: 'must be a port number' }] });
    }
  }
}
