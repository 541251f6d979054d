import closeWithGrace from 'close-with-grace';
import type { FastifyInstance } from 'fastify';

/** How long in-flight work gets to finish on SIGTERM/SIGINT before the process exits. */
const gracePeriodMs = 10_000;

/**
 * Listens and closes gracefully on SIGINT/SIGTERM: stops accepting, lets
 * requests finish, then runs the app's onClose hooks (pools, queues).
 */
export async function serve(app: FastifyInstance, options: { host: string; port: number }): Promise<void> {
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
