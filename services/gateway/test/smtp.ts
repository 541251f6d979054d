import { createServer, type AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { eventually } from '@hexa/testing';

/** A real SMTP server inside the test: it takes every message and parses it with mailparser. */
export interface SmtpListener {
  url: string;
  port: number;
  /** Every message received, in order. */
  messages: ParsedMail[];
  /** Waits until `count` messages (default 1) went to `to`, and returns them all. */
  mailsTo(to: string, count?: number): Promise<ParsedMail[]>;
  close(): Promise<void>;
}

/** A port nothing listens on now: where an SMTP server that is down would be. */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Starts the listener on `port` (0: any free one). No TLS and no login: a
 * relay on the loopback. `refuses` names recipients it answers 550 for, as a
 * server does for a mailbox that does not exist. `losesFirstAnswer` names
 * recipients whose first message it takes whole (and keeps) but answers 451
 * for, as when the server's answer is lost on the way back: the sender sees a
 * failure for a mail that was delivered.
 */
export async function startSmtp(port = 0, options: { refuses?: (address: string) => boolean; losesFirstAnswer?: (address: string) => boolean } = {}): Promise<SmtpListener> {
  const messages: ParsedMail[] = [];
  const answerLost = new Set<string>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (options.refuses?.(address.address)) {
        callback(Object.assign(new Error('Mailbox unavailable'), { responseCode: 550 }));
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          messages.push(parsed);
          const loses = session.envelope.rcptTo.map((to) => to.address).find((address) => options.losesFirstAnswer?.(address) && !answerLost.has(address));
          if (loses === undefined) return callback();
          answerLost.add(loses);
          callback(Object.assign(new Error('Answer lost'), { responseCode: 451 }));
        })
        .catch((error: Error) => callback(error));
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actual = (server.server.address() as AddressInfo).port;
  const recipients = (mail: ParsedMail): string[] => (Array.isArray(mail.to) ? mail.to : mail.to ? [mail.to] : []).flatMap((address) => address.value.map((entry) => entry.address ?? ''));
  return {
    url: `smtp://127.0.0.1:${actual}`,
    port: actual,
    messages,
    async mailsTo(to, count = 1) {
      return eventually(async () => {
        const found = messages.filter((mail) => recipients(mail).includes(to));
        return found.length >= count ? found : undefined;
      }, 20_000);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The token of the invitation link in a message's text part. */
export function linkOf(mail: ParsedMail): URL {
  const match = /(https?:\/\/\S+\/invitations\/accept\?token=[A-Za-z0-9_-]{43})/.exec(mail.text ?? '');
  if (!match) throw new Error(`No invitation link in:\n${mail.text}`);
  return new URL(match[1]!);
}

export function tokenOf(mail: ParsedMail): string {
  return linkOf(mail).searchParams.get('token')!;
}
