import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createTransport } from 'nodemailer';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** Where e-mail goes: an SMTP server, or (development) a folder. */
export interface MailTransport {
  /** Resolves once the server took the message; rejects when it could not (retried by the caller). */
  send(message: MailMessage): Promise<void>;
  close(): void;
}

/** An SMTP server that does not answer within these gives up the attempt (the job retries later). */
const smtpTimeouts = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };

interface MailLog {
  info(object: object, message: string): void;
}

/**
 * Nodemailer to `smtpUrl` (smtp:// or smtps://, credentials in the URL), or,
 * when it is empty, a folder: each message is written as `<name>.eml` (the
 * whole message, for a mail client) and `<name>.txt` (its text part, with the
 * link whole), and the log names the file. The log never shows the link: its
 * token is a secret, and logs travel further than a developer's folder.
 */
export function createMailTransport(options: { smtpUrl: string; from: string; mailDir: string; log: MailLog }): MailTransport {
  if (options.smtpUrl) {
    const transport = createTransport({ url: options.smtpUrl, ...smtpTimeouts }, { from: options.from });
    return {
      async send(message) {
        await transport.sendMail(message);
      },
      close: () => transport.close(),
    };
  }
  const folder = resolve(options.mailDir);
  const composer = createTransport({ streamTransport: true, buffer: true }, { from: options.from });
  return {
    async send(message) {
      const composed = await composer.sendMail(message);
      await mkdir(folder, { recursive: true, mode: 0o700 });
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}`;
      const file = resolve(folder, `${name}.txt`);
      await writeFile(resolve(folder, `${name}.eml`), composed.message as Buffer, { mode: 0o600 });
      await writeFile(file, `To: ${message.to}\nSubject: ${message.subject}\n\n${message.text}`, { mode: 0o600 });
      options.log.info({ to: message.to, file }, `e-mail written to ${file} (no SMTP server configured: set HEXA_SMTP_URL); the link is in the file`);
    },
    close: () => composer.close(),
  };
}

/**
 * Where e-mail goes, for the worker's startup line: over SMTP (the URL is
 * not named: it may hold credentials), or the folder in full, saying the
 * links are in its files and never in the log.
 */
export function mailDestination(options: { smtpUrl: string; mailDir: string }): string {
  if (options.smtpUrl) return 'invitation e-mail over SMTP (HEXA_SMTP_URL)';
  return `no HEXA_SMTP_URL, so e-mails are not sent but written to ${resolve(options.mailDir)} (each link in its .txt file, never in this log)`;
}

/**
 * What an Admin may read of a failed delivery: the error's code and message,
 * without anything that looks like credentials of the SMTP URL.
 */
export function describeMailError(error: unknown): string {
  const { code, responseCode, message } = error as { code?: string; responseCode?: number; message?: string };
  const text = [code, responseCode, message ?? String(error)].filter((part) => part !== undefined && part !== '').join(': ');
  return text.replace(/\/\/[^@\s/]+@/g, '//[redacted]@').slice(0, 500);
}

/** True when the server refused the message for good (an SMTP 5xx answer): retrying sends the same refusal. */
export function isRejectedForGood(error: unknown): boolean {
  const { responseCode } = error as { responseCode?: number };
  return typeof responseCode === 'number' && responseCode >= 500 && responseCode < 600;
}
