import { readFile } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import pg from 'pg';
import { eventually, testDatabaseUrl } from '@hexa/testing';
import { ownerLogin, startPlatform, type Platform } from '../../../deploy/local/test/platform.js';
import { linkOf, startSmtp, type SmtpListener } from '../../../services/gateway/test/smtp.js';
import { collectPageErrors, launchChromium, screenshot } from './browser.js';

/**
 * The console in Debian's Chromium against the platform as `npm start` runs
 * it (deploy/local/run.ts: every server and worker under the supervisor, the
 * gateway serving the console's build), with its mail going to an SMTP
 * listener in this test. Nothing is faked or written to a table behind the
 * platform's back: the invited person arrives through the e-mail's link.
 */
const platformPort = 28_080;
// About 30 s alone; several times that when the rest of the suite shares the two cores.
const flowTimeoutMs = 420_000;

describe('the console against the running platform', () => {
  let platform: Platform;
  let smtp: SmtpListener;
  let browser: Browser;

  beforeAll(async () => {
    smtp = await startSmtp();
    platform = await startPlatform({
      serverUrl: testDatabaseUrl,
      port: platformPort,
      env: { HEXA_SMTP_URL: smtp.url, HEXA_PUBLIC_URL: `http://127.0.0.1:${platformPort}` },
    });
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
    await smtp?.close();
  }, 60_000);

  async function newPage(): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
    const context = await browser.newContext({ baseURL: platform.url, viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    return { context, page, errors: collectPageErrors(page) };
  }

  const nav = (page: Page, workspace: string) => page.getByRole('navigation', { name: `${workspace} pages` });

  it(
    'an owner sets up a workspace, invites a new person who signs up from the e-mail as a Viewer, and regenerates the database password',
    async () => {
      const owner = await newPage();
      const page = owner.page;

      // Sign in; no workspace yet: create one and follow it until its database is ready.
      await page.goto('/');
      await page.waitForURL(/\/login/);
      await page.getByLabel('E-mail').fill(ownerLogin.email);
      await page.getByLabel('Password').fill(ownerLogin.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'No workspace yet' }).waitFor();
      await page.getByRole('button', { name: 'Create workspace' }).click();
      const dialog = page.getByRole('dialog', { name: 'Create workspace' });
      await dialog.getByLabel('Name').fill('Field Data');
      await dialog.getByRole('button', { name: 'Create', exact: true }).click();
      await dialog.getByRole('status').filter({ hasText: 'Ready' }).waitFor({ timeout: 60_000 });
      await dialog.getByRole('button', { name: 'Open workspace' }).click();
      await page.waitForURL(/\/w\/field-data$/);

      // Home page: edit with a live preview, save, read it rendered (and sanitised).
      await page.getByRole('button', { name: 'Edit home page' }).click();
      const editor = page.getByRole('form', { name: 'Edit home page' });
      await editor.getByLabel('Home page (Markdown)').fill('## Weekly reports\n\nCases by district, from [the ministry](https://example.org/cases).\n\n<img src="x" onerror="window.__hacked = 1">');
      await editor.getByRole('region', { name: 'Preview' }).getByRole('heading', { name: 'Weekly reports' }).waitFor();
      await screenshot(page, 'home-edit');
      await editor.getByRole('button', { name: 'Save home page' }).click();
      await editor.waitFor({ state: 'detached' });
      const home = page.getByRole('article');
      await home.getByRole('heading', { level: 2, name: 'Weekly reports' }).waitFor();
      await expect(home.getByRole('link', { name: 'the ministry' }).getAttribute('rel')).resolves.toBe('noopener noreferrer');
      await expect(page.locator('.markdown [onerror]').count()).resolves.toBe(0);

      // Settings: countries picked by name, the effective image shown, a configuration property.
      await nav(page, 'Field Data').getByRole('link', { name: 'Settings' }).click();
      await page.getByLabel('Find a country').fill('seneg');
      await page.getByRole('checkbox', { name: 'Senegal' }).check();
      await page.getByRole('button', { name: 'Save general settings' }).click();
      await page.getByRole('form', { name: 'General' }).getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
      // The Docker image: the platform's default is shown; one set here replaces it, and can be reset.
      const defaultImage = (await page.getByTestId('effective-image').textContent())?.trim() ?? '';
      expect(defaultImage).toMatch(/\S/);
      await page.getByLabel('Image for this workspace').fill('registry.example.org/field/env:1.2');
      await page.getByRole('button', { name: 'Save image' }).click();
      await page.getByTestId('effective-image').filter({ hasText: 'registry.example.org/field/env:1.2' }).waitFor();
      await page.getByRole('button', { name: 'Use the platform default' }).click();
      await page.getByTestId('effective-image').filter({ hasText: defaultImage }).waitFor();
      await page.getByLabel('Image for this workspace').fill('Not An Image!');
      await page.getByRole('button', { name: 'Save image' }).click();
      await page.getByRole('form', { name: 'Docker image' }).getByRole('alert').waitFor();
      await page.getByLabel('Key').fill('DEFAULT_WEEKS');
      await page.getByLabel('Value (JSON)', { exact: true }).fill('4');
      await page.getByRole('button', { name: 'Add property' }).click();
      await page.getByRole('button', { name: 'Edit DEFAULT_WEEKS' }).waitFor();

      // Another Admin changes the configuration meanwhile: the next save is refused and says what changed.
      const token = await platform.login();
      const other = await fetch(`${platform.url}/api/workspaces/field-data/configuration/REPORT_URL`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ value: 'https://example.org/report' }),
      });
      expect(other.status).toBe(200);
      await page.getByRole('button', { name: 'Edit DEFAULT_WEEKS' }).click();
      await page.getByLabel('Value of DEFAULT_WEEKS (JSON)').fill('not json');
      await page.getByRole('button', { name: 'Save DEFAULT_WEEKS' }).click();
      await page.getByText(/Not valid JSON/).waitFor();
      await page.getByLabel('Value of DEFAULT_WEEKS (JSON)').fill('6');
      await page.getByRole('button', { name: 'Save DEFAULT_WEEKS' }).click();
      await page.getByRole('alert').filter({ hasText: 'another Admin changed the configuration' }).filter({ hasText: 'Added: “REPORT_URL”' }).waitFor();
      await page.getByRole('button', { name: 'Reload configuration' }).click();
      await page.getByRole('button', { name: 'Edit REPORT_URL' }).waitFor();
      await page.getByRole('button', { name: 'Edit DEFAULT_WEEKS' }).click();
      await page.getByLabel('Value of DEFAULT_WEEKS (JSON)').fill('6');
      await page.getByRole('button', { name: 'Save DEFAULT_WEEKS' }).click();
      await page.getByRole('button', { name: 'Edit DEFAULT_WEEKS' }).waitFor();
      const configuration = await fetch(`${platform.url}/api/workspaces/field-data/configuration`, { headers: { authorization: `Bearer ${token}` } });
      expect(await configuration.json()).toEqual({ properties: { DEFAULT_WEEKS: 6, REPORT_URL: 'https://example.org/report' } });
      await page.evaluate(() => window.scrollTo(0, 0));
      await screenshot(page, 'settings');

      // Members: invite a new person by e-mail as a Viewer.
      await nav(page, 'Field Data').getByRole('link', { name: 'Members' }).click();
      await page.getByLabel('Name or e-mail').fill('nina@example.org');
      await page.getByLabel('Role', { exact: true }).selectOption('VIEWER');
      await page.getByRole('button', { name: 'Invite', exact: true }).click();
      await page.getByRole('status').filter({ hasText: 'Invitation sent to nina@example.org as Viewer.' }).waitFor();
      await page.getByRole('region', { name: 'Pending invitations' }).getByText('nina@example.org').waitFor();
      await screenshot(page, 'members');

      // The e-mail's link, opened by the new person in a browser of their own.
      const [mail] = await smtp.mailsTo('nina@example.org');
      const link = linkOf(mail!);
      expect(link.origin).toBe(platform.url);
      const invited = await newPage();
      await invited.page.goto(`${link.pathname}${link.search}`);
      await invited.page.getByTestId('invitation-summary').filter({ hasText: 'Field Data' }).filter({ hasText: 'Viewer' }).waitFor();
      await invited.page.getByLabel('Your name').fill('Nina Ndiaye');
      await invited.page.getByLabel('Password', { exact: true }).fill('mangoes in the dry season');
      await invited.page.getByLabel('Password again').fill('mangoes in the dry season');
      await screenshot(invited.page, 'invitation');
      await invited.page.getByRole('button', { name: 'Create account and accept' }).click();
      await invited.page.waitForURL(/\/w\/field-data$/);
      await invited.page.locator('#workspace-title', { hasText: 'Field Data' }).waitFor();
      // A Viewer: no Settings, no Audit trail, no Edit, no invite form, no credentials, no regeneration.
      const viewerNav = nav(invited.page, 'Field Data');
      await viewerNav.getByRole('link', { name: 'Members' }).waitFor();
      await expect(viewerNav.getByRole('link', { name: 'Settings' }).count()).resolves.toBe(0);
      await expect(viewerNav.getByRole('link', { name: 'Audit trail' }).count()).resolves.toBe(0);
      await expect(invited.page.getByRole('button', { name: 'Edit home page' }).count()).resolves.toBe(0);
      await invited.page.getByText('Editors and Admins of this workspace edit its home page.').waitFor();
      await viewerNav.getByRole('link', { name: 'Members' }).click();
      await invited.page.getByRole('row', { name: /Nina Ndiaye/ }).getByText('Viewer').waitFor();
      await expect(invited.page.getByRole('button', { name: 'Invite', exact: true }).count()).resolves.toBe(0);
      await invited.page.getByText("Only the workspace's Admins invite people and change roles.").waitFor();
      await viewerNav.getByRole('link', { name: 'Database' }).click();
      await invited.page.getByText('Editors and Admins of this workspace see the credentials.').waitFor();
      await invited.page.getByText("Only the workspace's Admins regenerate the password.").waitFor();
      await expect(invited.page.getByRole('button', { name: /Show credentials|Regenerate password/ }).count()).resolves.toBe(0);
      await invited.page.getByText('This database has no table yet.').waitFor();
      await screenshot(invited.page, 'viewer-database');
      expect(invited.errors.filter((error) => !/status of 40[134]/.test(error))).toEqual([]);
      await invited.context.close();

      // The owner sees the invitation accepted: Nina is a member, nothing is pending.
      await page.reload();
      await page.getByRole('row', { name: /Nina Ndiaye/ }).waitFor();
      await page.getByRole('region', { name: 'Pending invitations' }).getByText('No pending invitation.').waitFor();
      // Roles change from the list; an invitation can be revoked before it is used.
      await page.getByLabel('Role of Nina Ndiaye').selectOption('EDITOR');
      await page.getByRole('status').filter({ hasText: 'Nina Ndiaye is now Editor.' }).waitFor();
      await page.getByLabel('Name or e-mail').fill('later@example.org');
      await page.getByRole('button', { name: 'Invite', exact: true }).click();
      await page.getByRole('region', { name: 'Pending invitations' }).getByText('later@example.org').waitFor();
      await page.getByRole('button', { name: 'Revoke the invitation to later@example.org' }).click();
      await page.getByRole('status').filter({ hasText: 'Invitation to later@example.org revoked.' }).waitFor();
      await page.getByRole('region', { name: 'Pending invitations' }).getByText('No pending invitation.').waitFor();

      // Database: a table made with the credentials shows with its rows; the password is regenerated.
      await nav(page, 'Field Data').getByRole('link', { name: 'Database' }).click();
      await page.getByRole('button', { name: 'Show credentials' }).click();
      const oldUrl = await page.getByLabel('Connection URL', { exact: true }).inputValue();
      const client = new pg.Client({ connectionString: oldUrl });
      await client.connect();
      await client.query(`create table cases (district text not null, week int, count int); insert into cases values ('Dakar', 1, 12), ('Thiès', 1, 7), ('Kaolack', 1, null)`);
      // A table wider than the 100 columns the API lists: the console shows how many it really has.
      await client.query(`create table wide (${Array.from({ length: 120 }, (_, index) => `c${index + 1} int`).join(', ')})`);
      await client.end();
      await page.reload();
      await page.getByRole('button', { name: 'Open cases' }).click();
      const rows = page.getByRole('region', { name: 'cases' });
      await rows.getByRole('cell', { name: 'Thiès' }).waitFor();
      await expect(page.getByRole('row', { name: /^cases Table 3 3/ }).count()).resolves.toBe(1);
      await expect(page.getByRole('row', { name: /^wide Table 0 120/ }).count()).resolves.toBe(1);
      await page.getByRole('button', { name: 'Open wide' }).click();
      await page.getByText('The first 100 of 120 columns, by position.').waitFor();
      await page.getByRole('button', { name: 'Open cases' }).click();
      await rows.getByRole('cell', { name: 'Thiès' }).waitFor();
      await screenshot(page, 'database');

      await page.getByRole('button', { name: 'Show credentials' }).click();
      await page.getByRole('button', { name: 'Regenerate password' }).click();
      await page.getByRole('button', { name: 'Confirm: regenerate password' }).click();
      await page.getByTestId('rotation-status').filter({ hasText: 'The password was regenerated' }).waitFor({ timeout: 60_000 });
      const newUrl = await page.getByLabel('Connection URL', { exact: true }).inputValue();
      expect(newUrl).not.toBe(oldUrl);
      const fresh = new pg.Client({ connectionString: newUrl });
      await fresh.connect();
      await fresh.end();
      await expect(new pg.Client({ connectionString: oldUrl }).connect()).rejects.toThrow(/password authentication failed/);

      // The audit trail shows what happened, newest first.
      await nav(page, 'Field Data').getByRole('link', { name: 'Audit trail' }).click();
      // Entries arrive a moment after the change (the workspaces worker writes them): refresh until they are there.
      await eventually(async () => {
        await page.getByRole('button', { name: 'Refresh' }).click();
        await page.getByRole('button', { name: 'Refresh' }).isEnabled();
        return (await page.getByRole('rowheader', { name: 'Database password rotation succeeded' }).count()) > 0 ? true : undefined;
      }, 30_000, 1000);
      await page.getByRole('rowheader', { name: 'Configuration property set' }).first().waitFor();
      await page.getByRole('rowheader', { name: 'Invitation accepted' }).first().waitFor();
      await screenshot(page, 'audit');

      // An existing user, found by name, invited as Editor: they accept on their start screen.
      const created = await fetch(`${platform.url}/api/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'omar@example.org', name: 'Omar Sall', password: 'a password for omar 1', organizationRole: 'MEMBER' }),
      });
      expect(created.status).toBe(201);
      await nav(page, 'Field Data').getByRole('link', { name: 'Members' }).click();
      await page.getByLabel('Name or e-mail').fill('oma');
      await page.getByRole('list', { name: 'People found' }).getByRole('button', { name: /Omar Sall/ }).click();
      await page.getByText('Inviting Omar Sall (omar@example.org).').waitFor();
      await page.getByLabel('Role', { exact: true }).selectOption('EDITOR');
      await page.getByRole('button', { name: 'Invite', exact: true }).click();
      await page.getByRole('status').filter({ hasText: 'Invitation sent to Omar Sall as Editor.' }).waitFor();
      const omar = await newPage();
      await omar.page.goto('/');
      await omar.page.waitForURL(/\/login/);
      await omar.page.getByLabel('E-mail').fill('omar@example.org');
      await omar.page.getByLabel('Password').fill('a password for omar 1');
      await omar.page.getByRole('button', { name: 'Sign in' }).click();
      const invitationsForMe = omar.page.getByRole('region', { name: 'Invitations for you' });
      await invitationsForMe.getByText(/invited you to Field Data as Editor/).waitFor();
      await screenshot(omar.page, 'my-invitations');
      await omar.page.getByRole('button', { name: 'Accept the invitation to Field Data' }).click();
      await invitationsForMe.getByRole('link', { name: 'Field Data' }).click();
      await omar.page.waitForURL(/\/w\/field-data$/);
      // An Editor edits the home page and sees the credentials, but has no Settings and no regeneration.
      await omar.page.getByRole('button', { name: 'Edit home page' }).waitFor();
      await expect(nav(omar.page, 'Field Data').getByRole('link', { name: 'Settings' }).count()).resolves.toBe(0);
      await nav(omar.page, 'Field Data').getByRole('link', { name: 'Database' }).click();
      await omar.page.getByRole('button', { name: 'Show credentials' }).waitFor();
      await omar.page.getByText("Only the workspace's Admins regenerate the password.").waitFor();
      expect(omar.errors.filter((error) => !/status of 401/.test(error))).toEqual([]);
      await omar.context.close();

      // Archive (typing the name to confirm), then restore as the organization's owner.
      const oldProject = await fetch(`${platform.url}/api/workspaces`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Old Project' }),
      });
      expect(oldProject.status).toBe(201);
      await page.goto('/w/old-project/settings');
      await page.getByLabel('Type Old Project to confirm').fill('Old');
      await expect(page.getByRole('button', { name: 'Archive workspace' }).isDisabled()).resolves.toBe(true);
      await page.getByLabel('Type Old Project to confirm').fill('Old Project');
      await page.getByRole('button', { name: 'Archive workspace' }).click();
      await page.waitForURL(/\/w\/field-data$/);
      await page.getByRole('link', { name: 'Archived workspaces' }).click();
      await page.getByRole('button', { name: 'Restore Old Project' }).click();
      await page.waitForURL(/\/w\/old-project$/);
      // The default home page's links lead to the console's pages, in this tab.
      await page.getByRole('article').getByRole('link', { name: 'Members' }).click();
      await page.waitForURL(/\/w\/old-project\/members$/);
      await page.getByRole('heading', { level: 1, name: 'Members' }).waitFor();

      // A narrow window: one column, the settings still usable.
      await page.setViewportSize({ width: 390, height: 860 });
      await page.goto('/w/field-data/settings');
      await page.getByRole('button', { name: 'Save general settings' }).waitFor();
      await page.getByRole('button', { name: 'Edit DEFAULT_WEEKS' }).waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await screenshot(page, 'settings-narrow');

      // The 400 is the refused image, the 412 the conflict above. Chromium reports a CSP violation when DOMPurify parses the preview's
      // attack in an inert document: a report, not a run (no handler reached the page).
      expect(owner.errors.filter((error) => !/status of (400|412)|Executing inline event handler violates/.test(error))).toEqual([]);
      await expect(page.evaluate(() => (window as { __hacked?: number }).__hacked)).resolves.toBeUndefined();
      await owner.context.close();
    },
    flowTimeoutMs,
  );

  it(
    'a pipeline run shows its logs live until it succeeds, an uploaded file appears in the files list and is renamed, and a PostgreSQL connection is created and tested',
    async () => {
      // A workspace of its own, made through the API and followed until its database is ready (runs get its credentials).
      const token = await platform.login();
      const auth = { authorization: `Bearer ${token}` };
      const created = await fetch(`${platform.url}/api/workspaces`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Pipelines Lab' }) });
      expect(created.status).toBe(201);
      await eventually(async () => {
        const workspace = (await (await fetch(`${platform.url}/api/workspaces/pipelines-lab`, { headers: auth })).json()) as { status: string };
        return workspace.status === 'ready' ? true : undefined;
      }, 120_000, 1000);

      const owner = await newPage();
      const page = owner.page;
      await page.goto('/w/pipelines-lab/pipelines');
      await page.waitForURL(/\/login/);
      await page.getByLabel('E-mail').fill(ownerLogin.email);
      await page.getByLabel('Password').fill(ownerLogin.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(/\/w\/pipelines-lab\/pipelines$/);
      await page.getByText('No pipeline yet.').waitFor();

      // Create a pipeline whose command prints a line, waits, and prints another.
      await page.getByRole('button', { name: 'New pipeline' }).click();
      const form = page.getByRole('region', { name: 'New pipeline' });
      await form.getByLabel('Name', { exact: true }).fill('Hello Hexa');
      await expect(form.getByLabel('Code', { exact: true }).inputValue()).resolves.toBe('hello-hexa');
      await form.getByLabel('Command (JSON array)').fill('sh -c "echo hi"');
      await form.getByRole('button', { name: 'Create pipeline' }).click();
      await form.getByRole('alert').filter({ hasText: 'JSON array' }).waitFor();
      await form.getByLabel('Command (JSON array)').fill('["sh", "-c", "echo hello from hexa; sleep 4; echo done"]');
      await form.getByRole('button', { name: 'Create pipeline' }).click();
      await page.getByRole('status').filter({ hasText: 'Pipeline Hello Hexa created.' }).waitFor();
      const card = page.getByRole('article', { name: /Hello Hexa/ });
      await card.getByText('["sh","-c","echo hello from hexa; sleep 4; echo done"]').waitFor();
      await screenshot(page, 'pipelines');

      // Launch it with parameters: the run page follows the output as it is written.
      await card.getByRole('button', { name: 'Launch Hello Hexa' }).click();
      await card.getByLabel('Parameters (JSON object, optional)').fill('{"weeks": 4}');
      await card.getByRole('button', { name: 'Launch run' }).click();
      await page.waitForURL(/\/w\/pipelines-lab\/runs\/[0-9a-f-]{36}$/);
      const output = page.getByRole('log', { name: 'Output' });
      await output.filter({ hasText: 'hello from hexa' }).waitFor({ timeout: 120_000 });
      // Live: the first line is on the page while the command still sleeps before its last line.
      await expect(output.textContent()).resolves.not.toContain('done');
      await page.getByTestId('run-status').filter({ hasText: 'Running' }).waitFor();
      await page.getByRole('button', { name: 'Cancel run' }).waitFor();
      await output.filter({ hasText: /hello from hexa\s+done/ }).waitFor({ timeout: 60_000 });
      await page.getByTestId('run-status').filter({ hasText: 'Succeeded' }).waitFor();
      await expect(page.getByTestId('run-exit-code').textContent()).resolves.toBe('0');
      await expect(page.getByTestId('run-duration').textContent()).resolves.toMatch(/^\d+ s$/);
      await page.getByText('{"weeks":4}').waitFor();
      await expect(page.getByRole('button', { name: 'Cancel run' }).count()).resolves.toBe(0);
      await screenshot(page, 'run');

      // The runs list shows it, and filters by status.
      await page.getByRole('link', { name: '← All runs' }).click();
      await page.getByRole('row', { name: /hello-hexa Succeeded/ }).waitFor();
      await page.getByLabel('Status').selectOption('failed');
      await page.getByText('No run matches this filter.').waitFor();

      // Files: upload one into a new folder, see it listed, download it back.
      await nav(page, 'Pipelines Lab').getByRole('link', { name: 'Files' }).click();
      await page.getByText('No file yet.').waitFor();
      await page.getByLabel('New folder').fill('reports');
      await page.getByRole('button', { name: 'Create folder' }).click();
      await page.getByRole('button', { name: 'Open folder reports' }).click();
      await page.waitForURL(/\/files\?folder=reports$/);
      await page.getByText('This folder is empty.').waitFor();
      await page.getByLabel('Upload a file').setInputFiles({ name: 'cases à Dakar.csv', mimeType: 'text/csv', buffer: Buffer.from('district,cases\nDakar,12\n') });
      await page.getByRole('status').filter({ hasText: 'cases à Dakar.csv uploaded.' }).waitFor();
      await page.getByRole('rowheader', { name: 'cases à Dakar.csv' }).waitFor();
      await expect(page.getByRole('row', { name: /cases à Dakar\.csv/ }).getByText('24 bytes').count()).resolves.toBe(1);
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download cases à Dakar.csv' }).click()]);
      expect(download.suggestedFilename()).toBe('cases à Dakar.csv');
      await expect(readFile(await download.path(), 'utf8')).resolves.toBe('district,cases\nDakar,12\n');
      await screenshot(page, 'files');
      // The breadcrumb leads back to the root, where the folder is listed.
      await page.getByRole('navigation', { name: 'Folder path' }).getByRole('button', { name: 'Workspace files' }).click();
      await page.getByRole('button', { name: 'Open folder reports' }).click();
      // Rename the file; then a move onto the folder's own name is refused, in words.
      await page.getByRole('button', { name: 'Rename or move cases à Dakar.csv' }).click();
      await page.getByLabel('New path of cases à Dakar.csv').fill('reports/dakar.csv');
      await page.getByRole('button', { name: 'Move', exact: true }).click();
      await page.getByRole('status').filter({ hasText: 'cases à Dakar.csv moved to reports/dakar.csv.' }).waitFor();
      await page.getByRole('rowheader', { name: 'dakar.csv', exact: true }).waitFor();
      await expect(page.getByRole('rowheader', { name: 'cases à Dakar.csv' }).count()).resolves.toBe(0);
      await page.getByRole('button', { name: 'Rename or move dakar.csv' }).click();
      await page.getByLabel('New path of dakar.csv').fill('reports');
      await page.getByRole('button', { name: 'Move', exact: true }).click();
      await page.getByRole('alert').filter({ hasText: 'Something of that name is already there. Choose another name.' }).waitFor();

      // Connections: a PostgreSQL connection to the workspace's own database (a real server the files service reaches).
      const credentials = (await (await fetch(`${platform.url}/api/workspaces/pipelines-lab/database/credentials`, { headers: auth })).json()) as { host: string; port: number; dbName: string; username: string; password: string };
      await nav(page, 'Pipelines Lab').getByRole('link', { name: 'Connections' }).click();
      await page.getByText('No connection yet.').waitFor();
      await page.getByRole('button', { name: 'New connection' }).click();
      const connectionForm = page.getByRole('region', { name: 'New connection' });
      await connectionForm.getByLabel('Type').selectOption({ label: 'PostgreSQL' });
      await connectionForm.getByLabel('Name', { exact: true }).fill('Lab Database');
      await connectionForm.getByLabel('host', { exact: true }).fill(credentials.host);
      await connectionForm.getByLabel('port', { exact: true }).fill(String(credentials.port));
      await connectionForm.getByLabel('dbName', { exact: true }).fill(credentials.dbName);
      await connectionForm.getByLabel('username', { exact: true }).fill(credentials.username);
      await connectionForm.getByLabel('password (secret)').fill(credentials.password);
      await connectionForm.getByRole('button', { name: 'Create connection' }).click();
      await page.getByRole('status').filter({ hasText: 'Connection Lab Database created.' }).waitFor();
      // Listed with each field's variable in runs; the password is nowhere on the page.
      const connection = page.getByRole('article', { name: /Lab Database/ });
      await connection.getByRole('row', { name: `dbName ${credentials.dbName} LAB_DATABASE_DB_NAME` }).waitFor();
      await connection.getByRole('row', { name: 'password Secret, never shown LAB_DATABASE_PASSWORD' }).waitFor();
      expect(await page.content()).not.toContain(credentials.password);
      await connection.getByRole('button', { name: 'Test Lab Database' }).click();
      await connection.getByRole('status').filter({ hasText: 'Connected: PostgreSQL' }).waitFor();
      await screenshot(page, 'connections', connection);
      // A wrong password, saved over the stored one, is the server's refusal in the test's result.
      await connection.getByRole('button', { name: 'Edit Lab Database' }).click();
      await connection.getByLabel('password (secret)').fill('not the password');
      await connection.getByRole('button', { name: 'Save Lab Database' }).click();
      await page.getByRole('status').filter({ hasText: 'Connection Lab Database saved.' }).waitFor();
      await connection.getByRole('button', { name: 'Test Lab Database' }).click();
      await connection.getByRole('alert').filter({ hasText: 'password authentication failed' }).waitFor();
      await connection.getByRole('button', { name: 'Delete Lab Database' }).click();
      await connection.getByRole('button', { name: 'Confirm delete' }).click();
      await page.getByText('No connection yet.').waitFor();

      // The 409 is the refused move.
      expect(owner.errors.filter((error) => !/status of (401|409)/.test(error))).toEqual([]);
      await owner.context.close();
    },
    flowTimeoutMs,
  );
});
