import closeWithGrace from 'close-with-grace';
import type { FastifyInstance } from 'fastify';
import { ConfigError } from './config.js';
import { collectGarbageWhenIdle } from './idle-gc.js';

/** The exit status of a process whose configuration is wrong (sysexits' EX_CONFIG). */
export const configErrorExitCode = 78;

/**
 * For entry points: loads the configuration, or prints what is wrong (no
 * stack trace, no secret) and exits with status 78.
 *
 * @example
 * const config = configOrExit('workspaces', loadWorkspacesConfig);
 */
export function configOrExit<T>(process_: string, load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`${process_}: ${error.message}`);
    process.exit(configErrorExitCode);
  }
}

/** How long in-flight work gets to finish on SIGTERM/SIGINT before the process exits. */
const gracePeriodMs = 10_000;

/**
 * Listens and closes gracefully on SIGINT/SIGTERM: stops accepting, lets
 * requests finish, then runs the app's onClose hooks (pools, queues). Once a
 * load is over, the garbage it left is collected (`collectGarbageWhenIdle`).
 */
export async function serve(app: FastifyInstance, options: { host: string; port: number }): Promise<void> {
  const collector = collectGarbageWhenIdle({ collected: () => app.log.debug('garbage collected after a load') });
  app.addHook('onClose', async () => collector.stop());
  closeWithGrace({ delay: gracePeriodMs }, async ({ err, signal }) => {
    if (err) app.log.error({ err }, 'closing after an error');
    else app.log.info({ signal }, 'closing');
    await app.close();
  });
  await app.listen({ host: options.host, port: options.port });
}

/** Runs `close` once on SIGINT/SIGTERM (for workers), then exits. */
export function closeOnSignal(close: () => Promise<void>, log: (message: string) => void = console.error): void {
  closeWithGrace({ delay: gracePeriodMs }, async ({ err, signal }) => {
    log(err ? `closing after an error: ${String(err)}` : `closing on ${String(signal)}`);
    await close();
  });
}
