import { join } from 'node:path';
import { commonConfig, databaseSchemaConfig, int, loadConfig, str, url, type ConfigField, type ConfigOf } from '@hexa/kit';

/** A positive decimal such as 0.5 or 2 (CPUs). */
function decimal(description: string, options: { default: number; min: number; max: number }): ConfigField<number> {
  return {
    description,
    default: options.default,
    parse(raw) {
      const value = Number(raw);
      if (!/^\d+(\.\d+)?$/.test(raw.trim()) || value < options.min || value > options.max) throw new Error(`must be a number between ${options.min} and ${options.max}`);
      return value;
    },
  };
}

export const runnerConfigSpec = {
  ...commonConfig,
  PORT: int('HTTP port of the runner service', { default: 8084, min: 0, max: 65535 }),
  DATABASE_SCHEMA: databaseSchemaConfig('runner'),
  // Short: a launch waits for the relay before its job reaches the worker (the scheduler's tick is the safety net).
  OUTBOX_RELAY_INTERVAL_MS: int('pause between two passes of the outbox relay', { default: 100, min: 20, max: 60_000 }),
  DOCKER_HOST: str('the Docker Engine: unix:///path/to/socket or tcp://host:port (empty: /var/run/docker.sock)', { default: '' }),
  // Keeps the containers of several platforms (or test runs) on one engine apart: each touches only its own.
  HEXA_RUNNER_INSTANCE: str('label value (hexa.instance) and name prefix of this platform\'s run containers', { default: 'hexa', pattern: /^[a-z][a-z0-9_-]{0,40}$/ }),
  HEXA_FILES_DIR: str('folder of the workspaces\' files: <dir>/<workspace id> is mounted at /home/hexa/workspace in each run', { default: join(process.cwd(), '.hexa', 'files') }),
  HEXA_SERVER_URL: url('the gateway as a run\'s container reaches it (HEXA_SERVER_URL in the container)', { protocols: ['http', 'https'], default: 'http://host.docker.internal:8080' }),
  RUN_DATABASE_RELAY_HOST: str('address on the host where the worker relays the workspace database cluster to containers (empty: the docker0 bridge address)', { default: '' }),
  RUN_DATABASE_RELAY_PORT: int('port of that relay (0: any free port; runs adopted after a restart get theirs back)', { default: 0, min: 0, max: 65535 }),
  RUN_DATABASE_HOST_IN_CONTAINER: str('the host name a container uses to reach the relay (WORKSPACE_DATABASE_HOST)', { default: 'host.docker.internal' }),
  RUN_NETWORK: str('the Docker network runs join: a bridge without traffic between containers, made by the worker when missing', { default: 'hexa-runs', pattern: /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/ }),
  RUN_CONCURRENCY_PER_WORKSPACE: int('runs of one workspace running at once; more wait queued', { default: 4, min: 1, max: 1000 }),
  RUN_DEFAULT_TIMEOUT_SECONDS: int('a pipeline\'s time limit when it names none', { default: 3600, min: 1, max: 604_800 }),
  RUN_MAX_TIMEOUT_SECONDS: int('the longest time limit a pipeline may ask for', { default: 86_400, min: 1, max: 604_800 }),
  RUN_DEFAULT_MEMORY_MB: int('a pipeline\'s memory limit when it names none', { default: 1024, min: 6, max: 1_048_576 }),
  RUN_MAX_MEMORY_MB: int('the most memory a pipeline may ask for', { default: 8192, min: 6, max: 1_048_576 }),
  RUN_DEFAULT_CPUS: decimal('a pipeline\'s CPU limit when it names none', { default: 1, min: 0.01, max: 1024 }),
  RUN_MAX_CPUS: decimal('the most CPUs a pipeline may ask for', { default: 4, min: 0.01, max: 1024 }),
  RUN_PIDS_LIMIT: int('processes a run\'s container may hold at once', { default: 256, min: 8, max: 1_000_000 }),
  RUN_LOG_MAX_BYTES: int('bytes (UTF-8) of output kept per run; beyond them the log is marked truncated', { default: 1_048_576, min: 1024, max: 104_857_600 }),
  RUN_IMAGE_PULL_TIMEOUT_MS: int('how long a missing image may take to pull before the run fails', { default: 60_000, min: 1000, max: 3_600_000 }),
  RUN_STOP_GRACE_SECONDS: int('a canceled run gets SIGTERM, then SIGKILL after this long', { default: 2, min: 0, max: 300 }),
  RUN_SCHEDULE_INTERVAL_MS: int('how often the worker looks for queued runs it can start and for cancellations', { default: 500, min: 50, max: 60_000 }),
  RUN_LOG_FLUSH_INTERVAL_MS: int('how often a running run\'s output is stored', { default: 250, min: 20, max: 60_000 }),
  WORKER_CONCURRENCY: int('run.requested jobs the worker handles at once (each starts containers, then returns)', { default: 8, min: 1, max: 64 }),
  JOB_LOCK_MS: int('a job whose worker died is taken over after this long', { default: 10_000, min: 1000, max: 600_000 }),
  JOB_STALLED_CHECK_MS: int('how often the worker looks for jobs whose worker died', { default: 10_000, min: 500, max: 600_000 }),
  RUN_TOKEN_BYTES: int('random bytes of a run token (HEXA_TOKEN)', { default: 32, min: 16, max: 64 }),
};

export type RunnerConfig = ConfigOf<typeof runnerConfigSpec>;

export function loadRunnerConfig(env: NodeJS.ProcessEnv = process.env): RunnerConfig {
  return loadConfig(runnerConfigSpec, env);
}

/** The settings back as environment variables: what a worker process is started with (tests start one). */
export function runnerConfigEnv(config: RunnerConfig): Record<string, string> {
  return Object.fromEntries(Object.entries(config).map(([name, value]) => [name, typeof value === 'object' ? JSON.stringify(value) : String(value)]));
}
