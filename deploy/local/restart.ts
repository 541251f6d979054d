/**
 * How the supervisor (deploy/local/run.ts) restarts a process that ended while
 * the platform was not stopping: whatever its exit code (a child that a stray
 * SIGTERM closed gracefully exits 0, and must not stay down), after a delay
 * that doubles from 1 s with each crash in a row up to 30 s, and starts again
 * from 1 s once the process has stayed up a minute. (concurrently's own
 * RestartProcess restarts only non-zero exits, and its delay neither stops
 * growing nor resets: after a dozen crashes over the platform's life a
 * process waited over an hour.)
 */
import type { CloseEvent, Command, FlowController, Logger } from 'concurrently';
import { Subject } from 'rxjs';

export interface RestartPolicy {
  /** The delay after the first crash in a row, doubled after each further one. */
  firstDelayMs: number;
  maxDelayMs: number;
  /** A process up this long counts as healthy: its next crash is a first one again. */
  stableAfterMs: number;
}

export const defaultRestartPolicy: RestartPolicy = { firstDelayMs: 1_000, maxDelayMs: 30_000, stableAfterMs: 60_000 };

/** How many crashes in a row a process has had, counting the one that just ended a run of `uptimeMs`. */
export function crashesInARow(previous: number, uptimeMs: number, policy: RestartPolicy): number {
  return uptimeMs >= policy.stableAfterMs ? 1 : previous + 1;
}

/** The wait before restarting after the `crashes`-th crash in a row (1 → first delay). */
export function restartDelayMs(crashes: number, policy: RestartPolicy): number {
  // The exponent is bounded too, so that a long run of crashes cannot overflow to Infinity.
  const doublings = Math.min(Math.max(crashes - 1, 0), 30);
  return Math.min(policy.firstDelayMs * 2 ** doublings, policy.maxDelayMs);
}

/**
 * A concurrently flow controller, last in the chain: restarts each process
 * that ends before `stop` is aborted, and lets through only the exits that
 * happen once it is, so that concurrently's result settles when every process
 * has ended on the supervisor's signal. Such an exit counts as a success
 * whatever its code: a process still starting when the signal came is killed
 * by it before its handler is installed. A process waiting for its restart
 * when the stop comes is not started again.
 */
export class RestartUnexpectedExits implements FlowController {
  constructor(private readonly options: { logger: Logger; stop: AbortSignal; policy: RestartPolicy }) {}

  handle(commands: Command[]): { commands: Command[] } {
    const { logger, stop, policy } = this.options;
    /** The processes waiting for their restart: on the stop, each ends there. */
    const waiting = new Map<Command, { timer: NodeJS.Timeout; end: () => void }>();
    stop.addEventListener('abort', () => {
      for (const { timer, end } of waiting.values()) {
        clearTimeout(timer);
        end();
      }
      waiting.clear();
    });
    return {
      commands: commands.map((command) => {
        const closes = new Subject<CloseEvent>();
        let crashes = 0;
        const end = (event: CloseEvent) => {
          closes.next({ ...event, exitCode: 0 });
          closes.complete();
        };
        command.close.subscribe((event) => {
          if (stop.aborted) return end(event);
          crashes = crashesInARow(crashes, event.timings.durationSeconds * 1000, policy);
          const delay = restartDelayMs(crashes, policy);
          logger.logCommandEvent(`${command.command} ended unexpectedly (crash ${crashes} in a row); restarting in ${delay / 1000} s`, command);
          waiting.set(command, {
            end: () => end(event),
            timer: setTimeout(() => {
              waiting.delete(command);
              logger.logCommandEvent(`${command.command} restarted`, command);
              command.start();
            }, delay),
          });
        });
        // A proxy, so that what later code changes lands on the original command (as concurrently's own controllers
        // do). `start` reports the exit on `this.close`: it runs on the command underneath, whose stream this one reads.
        return new Proxy(command, {
          get: (target, property) => (property === 'close' ? closes : property === 'start' ? () => target.start() : target[property as keyof Command]),
        });
      }),
    };
  }
}
