import { readFileSync } from 'node:fs';
import { backendServiceNames, serviceNames, serviceRegistry, serviceUrlSetting, type BackendServiceName, type ServiceName } from '@hexa/contract';

/**
 * One field of a service's configuration, read from the environment, or
 * from the file named by `<NAME>_FILE` (for keys and Docker/Kubernetes
 * secrets). A secret's value is never printed.
 */
export interface ConfigField<T> {
  parse(raw: string): T;
  default?: T;
  secret?: boolean;
  description: string;
}

type Spec = Record<string, ConfigField<unknown>>;
export type ConfigOf<S extends Spec> = { [K in keyof S]: S[K] extends ConfigField<infer T> ? T : never };

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const fail = (message: string): never => {
  throw new Error(message);
};

/** A string; `pattern` restricts it. */
export function str(description: string, options: { default?: string; secret?: boolean; pattern?: RegExp; minLength?: number } = {}): ConfigField<string> {
  return {
    description,
    ...(options.default !== undefined ? { default: options.default } : {}),
    ...(options.secret ? { secret: true } : {}),
    parse(raw) {
      if (options.minLength !== undefined && raw.length < options.minLength) fail(`must be at least ${options.minLength} characters`);
      if (options.pattern && !options.pattern.test(raw)) fail(`must match ${options.pattern}`);
      return raw;
    },
  };
}

/** An integer within bounds. */
export function int(description: string, options: { default?: number; min?: number; max?: number } = {}): ConfigField<number> {
  return {
    description,
    ...(options.default !== undefined ? { default: options.default } : {}),
    parse(raw) {
      if (!/^-?\d+$/.test(raw)) fail('must be an integer');
      const value = Number(raw);
      if (options.min !== undefined && value < options.min) fail(`must be at least ${options.min}`);
      if (options.max !== undefined && value > options.max) fail(`must be at most ${options.max}`);
      return value;
    },
  };
}

/** An absolute URL with one of the given protocols. */
export function url(description: string, options: { default?: string; protocols: string[]; secret?: boolean }): ConfigField<string> {
  return {
    description,
    ...(options.default !== undefined ? { default: options.default } : {}),
    ...(options.secret ? { secret: true } : {}),
    parse(raw) {
      let parsed: URL;
      try {
        parsed = new URL(raw);
      } catch {
        return fail('must be an absolute URL');
      }
      if (!options.protocols.includes(parsed.protocol.replace(/:$/, ''))) fail(`must use ${options.protocols.join(' or ')}`);
      return raw.replace(/\/$/, '');
    },
  };
}

/** One of a closed set of words. */
export function oneOf<const T extends string>(description: string, values: readonly T[], options: { default?: T } = {}): ConfigField<T> {
  return {
    description,
    ...(options.default !== undefined ? { default: options.default } : {}),
    parse(raw) {
      if (!(values as readonly string[]).includes(raw)) fail(`must be one of ${values.join(', ')}`);
      return raw as T;
    },
  };
}

/** A JSON object of SPKI PEM public keys by service name: `{"gateway": "-----BEGIN PUBLIC KEY-----…"}`. */
export function publicKeys(description: string): ConfigField<Partial<Record<ServiceName, string>>> {
  return {
    description,
    parse(raw) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        return fail('must be a JSON object of PEM public keys by service name');
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) fail('must be a JSON object of PEM public keys by service name');
      for (const [name, key] of Object.entries(parsed as Record<string, unknown>)) {
        if (!serviceNames.includes(name as ServiceName)) fail(`names an unknown service ${JSON.stringify(name)}`);
        if (typeof key !== 'string' || !key.includes('BEGIN PUBLIC KEY')) fail(`key of ${name} must be an SPKI PEM public key`);
      }
      return parsed as Partial<Record<ServiceName, string>>;
    },
  };
}

/**
 * Reads and validates every field at once and fails fast with one readable
 * message that names each problem.
 *
 * @example
 * const config = loadConfig({ PORT: int('HTTP port', { default: 8081 }) });
 */
export function loadConfig<S extends Spec>(spec: S, env: NodeJS.ProcessEnv = process.env): ConfigOf<S> {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(spec)) {
    let raw = env[name];
    const file = env[`${name}_FILE`];
    if (raw === undefined && file !== undefined) {
      try {
        raw = readFileSync(file, 'utf8').trim();
      } catch {
        problems.push(`${name}_FILE: cannot read ${file}`);
        continue;
      }
    }
    if (raw === undefined || raw === '') {
      if (field.default !== undefined) values[name] = field.default;
      else problems.push(`${name}: missing (${field.description})`);
      continue;
    }
    try {
      values[name] = field.parse(raw);
    } catch (error) {
      const shown = field.secret ? '(secret)' : JSON.stringify(raw);
      problems.push(`${name}=${shown}: ${(error as Error).message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  return values as ConfigOf<S>;
}

type ServiceUrlFields = { [S in BackendServiceName as `${Uppercase<S>}_URL`]: ConfigField<string> };

/** The internal base URL of every service behind the gateway (`MEMBERSHIP_URL`…), from the service registry. */
export const serviceUrlsConfig = Object.fromEntries(
  backendServiceNames.map((service) => [
    serviceUrlSetting(service),
    url(`internal URL of the ${service} service`, { protocols: ['http', 'https'], default: `http://127.0.0.1:${serviceRegistry[service].port}` }),
  ]),
) as ServiceUrlFields;

/** A service's base URL from a configuration that includes `serviceUrlsConfig`. */
export function serviceUrlOf(config: ConfigOf<ServiceUrlFields>, service: BackendServiceName): string {
  return config[serviceUrlSetting(service) as keyof ConfigOf<ServiceUrlFields>];
}

/** Fields every service shares. */
export const commonConfig = {
  ...serviceUrlsConfig,
  HOST: str('interface to listen on', { default: '127.0.0.1' }),
  LOG_LEVEL: oneOf('pino log level', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info' }),
  DATABASE_URL: url('PostgreSQL of the platform', { protocols: ['postgres', 'postgresql'], default: 'postgres://postgres@127.0.0.1:5432/hexa', secret: true }),
  REDIS_URL: url('Redis for queues and cache invalidation', { protocols: ['redis', 'rediss'], default: 'redis://127.0.0.1:6379', secret: true }),
  HEXA_QUEUE_PREFIX: str('prefix of every Redis key the platform writes', { default: 'hexa', pattern: /^[a-z][a-z0-9_-]{0,40}$/ }),
  HEXA_SERVICE_KEY: str("this service's own Ed25519 private key (PKCS8 PEM); it signs the internal tokens the service sends", { secret: true, pattern: /BEGIN PRIVATE KEY/ }),
  HEXA_IDEMPOTENCY_LEASE_SECONDS: int('how long a creating request may run before a retry with its Idempotency-Key may take it over (it died before committing)', { default: 60, min: 1, max: 3600 }),
  HEXA_SERVICE_PUBLIC_KEYS: publicKeys('public keys of every service (JSON object of SPKI PEM by service name); they verify the internal tokens this service receives'),
} as const;

/** Schema names are generated or configured, then quoted; this keeps them plain. */
export const schemaNamePattern = /^[a-z_][a-z0-9_]{0,62}$/;

/** The PostgreSQL schema a service owns; one migration history per schema. */
export function databaseSchemaConfig(defaultSchema: string) {
  return str('PostgreSQL schema owned by this service', { default: defaultSchema, pattern: schemaNamePattern });
}
