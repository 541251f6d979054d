import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createMailTransport, mailDestination } from '../src/modules/mail/mail-transport.js';

const message = {
  to: 'ada@example.org',
  subject: 'Olive invited you to Malaria on Hexa',
  text: 'Open this link:\nhttp://localhost:8080/invitations/accept?token=SECRET-TOKEN-0123456789-abcdefghijklmnopqrstu\n',
  html: '<p><a href="http://localhost:8080/invitations/accept?token=SECRET-TOKEN-0123456789-abcdefghijklmnopqrstu">Accept</a></p>',
};

describe('when no SMTP server is configured (development)', () => {
  let folder: string;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'hexa-mail-'));
  });
  afterAll(() => rm(folder, { recursive: true, force: true }));

  it('writes each e-mail to the folder, readable only by its owner, and logs where without the link', async () => {
    const logged: { object: object; message: string }[] = [];
    const transport = createMailTransport({
      smtpUrl: '',
      from: 'Hexa <no-reply@hexa.local>',
      mailDir: join(folder, 'mail'),
      log: { info: (object, text) => void logged.push({ object, message: text }) },
    });
    await transport.send(message);
    transport.close();

    const files = (await readdir(join(folder, 'mail'))).sort();
    expect(files).toHaveLength(2);
    const [eml, txt] = files as [string, string];
    expect(eml).toMatch(/\.eml$/);
    expect(txt).toMatch(/\.txt$/);
    const text = await readFile(join(folder, 'mail', txt), 'utf8');
    expect(text).toContain('To: ada@example.org');
    expect(text).toContain('token=SECRET-TOKEN-0123456789-abcdefghijklmnopqrstu');
    const whole = await readFile(join(folder, 'mail', eml), 'utf8');
    expect(whole).toContain('Subject: Olive invited you to Malaria on Hexa');
    expect(whole).toMatch(/^From: Hexa <no-reply@hexa\.local>/m);
    expect((await stat(join(folder, 'mail', txt))).mode & 0o777).toBe(0o600);
    expect((await stat(join(folder, 'mail'))).mode & 0o777).toBe(0o700);

    expect(logged).toHaveLength(1);
    expect(logged[0]!.message).toContain(join(folder, 'mail', txt));
    expect(JSON.stringify(logged)).not.toContain('SECRET-TOKEN');
  });
});

describe('when the worker starts', () => {
  it('says without SMTP that e-mails are not sent and names the whole folder, never a link', () => {
    const line = mailDestination({ smtpUrl: '', mailDir: '.hexa/mail' });
    expect(line).toContain(`not sent but written to ${resolve('.hexa/mail')} `);
    expect(line).toContain('never in this log');
  });

  it('says e-mail goes over SMTP without naming the URL, which may hold credentials', () => {
    const line = mailDestination({ smtpUrl: 'smtps://mailer:s3cret@smtp.example.org:465', mailDir: '.hexa/mail' });
    expect(line).toBe('invitation e-mail over SMTP (HEXA_SMTP_URL)');
  });
});
