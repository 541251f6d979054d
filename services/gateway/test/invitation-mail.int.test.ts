import { eventually, flushRedisPrefix, query } from '@hexa/testing';
import { startSmtp, tokenOf, unusedPort, type SmtpListener } from './smtp.js';
import { ownerLogin, startStack, type Stack } from './stack.js';
import { team } from './team.js';
import { startWorkers, type Workers } from './workers.js';

// The invitation e-mail when the SMTP server is down, comes back, or refuses a recipient: the invitation
// is never lost, the failure shows to the Admins, and the worker's log never shows a token.

let port: number;
let smtp: SmtpListener | undefined;
let stack: Stack;
let workers: Workers;
let owner: string;
let t: ReturnType<typeof team>;
const logLines: string[] = [];

beforeAll(async () => {
  port = await unusedPort();
  stack = await startStack({ membershipEnv: { HEXA_SMTP_URL: `smtp://127.0.0.1:${port}` } });
  workers = await startWorkers(stack, {}, { log: { write: (line: string) => void logLines.push(line) } });
  owner = await stack.login(ownerLogin.email, ownerLogin.password);
  t = team(stack, owner);
});
afterAll(async () => {
  await workers.close();
  await stack.close();
  await smtp?.close();
  await flushRedisPrefix(stack.queuePrefix);
});

async function invitationOf(slug: string, id: string) {
  const listed = await t.api('GET', `/workspaces/${slug}/invitations`, owner);
  return listed.body.items.find((item: { id: string }) => item.id === id);
}

describe('when the SMTP server is down, then comes back', () => {
  it('records each failed delivery on the invitation, keeps it pending, and delivers a working link once the server answers', async () => {
    const { slug } = await t.newWorkspace();
    const email = 'patient@example.org';
    const invited = await t.api('POST', `/workspaces/${slug}/invitations`, owner, { email, role: 'VIEWER' });
    expect(invited.status).toBe(201);

    const failed = await eventually(async () => {
      const item = await invitationOf(slug, invited.body.id);
      return item?.delivery.status === 'failed' && item.delivery.attempts >= 2 ? item : undefined;
    }, 20_000);
    expect(failed).toMatchObject({ status: 'PENDING', delivery: { status: 'failed', lastError: expect.stringContaining('ECONNREFUSED'), lastAttemptAt: expect.any(String), sentAt: null } });

    // The server comes back on its address: the job's next retry (backoff) delivers.
    smtp = await startSmtp(port, { refuses: (address) => address.startsWith('bounce'), losesFirstAnswer: (address) => address.startsWith('twice') });
    const [mail] = await smtp.mailsTo(email);
    const token = tokenOf(mail!);
    const preview = await t.api('GET', `/invitations/preview?token=${token}`, undefined);
    expect([preview.status, preview.body.email]).toEqual([200, email]);
    const sent = await eventually(async () => {
      const item = await invitationOf(slug, invited.body.id);
      return item?.delivery.status === 'sent' ? item : undefined;
    });
    expect(sent.delivery).toMatchObject({ lastError: null, sentAt: expect.any(String) });
    expect(sent.delivery.attempts).toBeGreaterThanOrEqual(3);
    expect(smtp.messages.filter((message) => message.subject?.includes('invited you'))).toHaveLength(1);

    expect(logLines.join('')).toContain('job failed');
    expect(logLines.join('')).not.toContain(token);
  });
});

describe('when the SMTP server refuses the recipient', () => {
  it('stops retrying at once, shows the refusal to the Admins and keeps the invitation', async () => {
    smtp ??= await startSmtp(port, { refuses: (address) => address.startsWith('bounce') });
    const { slug } = await t.newWorkspace();
    const invited = await t.api('POST', `/workspaces/${slug}/invitations`, owner, { email: 'bounce@example.org', role: 'EDITOR' });
    const refused = await eventually(async () => {
      const item = await invitationOf(slug, invited.body.id);
      return item?.delivery.status === 'failed' ? item : undefined;
    });
    expect(refused).toMatchObject({ status: 'PENDING', delivery: { attempts: 1, lastError: expect.stringContaining('550') } });
    const [row] = await query<{ status: string }>(`select status from "${stack.schemas.membership}".invitations where id = $1`, [invited.body.id]);
    expect(row).toEqual({ status: 'PENDING' });
    // No second attempt follows.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect((await invitationOf(slug, invited.body.id)).delivery.attempts).toBe(1);
  });
});

describe('when the SMTP server delivers a mail but its answer is lost', () => {
  it('sends the same working link again, so the mail that arrived first still lets the person in', async () => {
    const { slug } = await t.newWorkspace();
    const email = 'twice@example.org';
    const invited = await t.api('POST', `/workspaces/${slug}/invitations`, owner, { email, role: 'EDITOR' });
    expect(invited.status).toBe(201);

    // The first attempt's mail arrived, but the worker saw a failure and retried: two mails, one send.
    const [first, second] = await smtp!.mailsTo(email, 2);
    expect(tokenOf(second!)).toBe(tokenOf(first!));
    await eventually(async () => ((await invitationOf(slug, invited.body.id))?.delivery.status === 'sent' ? true : undefined));
    const preview = await t.api('GET', `/invitations/preview?token=${tokenOf(first!)}`, undefined);
    expect([preview.status, preview.body.email, preview.body.role]).toEqual([200, email, 'EDITOR']);

    // A resend makes a new link, and the old one stops working.
    const resent = await t.api('POST', `/workspaces/${slug}/invitations/${invited.body.id}/resend`, owner);
    expect(resent.status).toBe(200);
    const [, , third] = await smtp!.mailsTo(email, 3);
    expect(tokenOf(third!)).not.toBe(tokenOf(first!));
    expect((await t.api('GET', `/invitations/preview?token=${tokenOf(third!)}`, undefined)).status).toBe(200);
    expect((await t.api('GET', `/invitations/preview?token=${tokenOf(first!)}`, undefined)).status).toBe(404);
  });
});
