import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ownerLogin, startStack, type Stack } from '../../../services/gateway/test/stack.js';
import { grantRole } from '../../../services/gateway/test/workspace-personas.js';
import { collectPageErrors, launchChromium, screenshot } from './browser.js';

/**
 * The console in a real browser (Debian's Chromium through playwright-core)
 * against the real platform: gateway, membership and workspaces in this
 * process on ephemeral ports, the gateway serving the console's build. No
 * part of the backend is faked; the only shortcut is granting a Viewer role
 * in membership's table (this stack runs no workers to deliver an invitation):
 * the invitation flow runs end to end in platform.int.test.ts.
 */
/** Each test takes under 10 s alone; the ceiling leaves room for the rest of the suite sharing two cores. */
const browserTestTimeoutMs = 60_000;

describe('the console in a browser', () => {
  let stack: Stack;
  let baseUrl: string;
  let browser: Browser;
  let ownerToken: string;

  beforeAll(async () => {
    stack = await startStack();
    // Ephemeral port; the refresh cookie has no domain, so it holds for 127.0.0.1 as for localhost.
    baseUrl = await stack.gateway.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchChromium();
    ownerToken = await stack.login(ownerLogin.email, ownerLogin.password);
    for (const name of ['Alpha Team', 'Beta Lab']) {
      const created = await stack.call({ method: 'POST', url: '/api/workspaces', token: ownerToken, payload: { name, countries: ['SN'] } });
      expect(created.statusCode).toBe(201);
    }
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  async function newPage(): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
    const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    return { context, page, errors: collectPageErrors(page) };
  }

  async function signIn(page: Page, email: string, password: string): Promise<void> {
    await page.goto('/');
    await page.waitForURL(/\/login/);
    await page.getByLabel('E-mail').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  const selector = (page: Page) => page.getByRole('button', { name: /^Workspace:/ });
  // The page's own title (the home page's Markdown may have an h1 of its own).
  const workspaceTitle = (page: Page, name: string) => page.locator('#workspace-title', { hasText: name });

  describe('when the organization owner works in it', () => {
    it('signs in, switches and creates workspaces, reads the home page, manages tokens and signs out', async () => {
      const { context, page, errors } = await newPage();
      await signIn(page, ownerLogin.email, ownerLogin.password);
      // The first workspace by name; the selector (top-left) names it.
      await page.waitForURL(/\/w\/alpha-team$/);
      await page.getByRole('button', { name: 'Workspace: Alpha Team' }).waitFor();
      const box = await selector(page).boundingBox();
      expect(box && box.x < 100 && box.y < 100).toBe(true);

      // Switch with a search in the selector.
      await selector(page).click();
      await page.getByRole('searchbox', { name: 'Search workspaces' }).fill('beta');
      await page.getByRole('link', { name: 'Alpha Team' }).waitFor({ state: 'detached' });
      await page.getByRole('link', { name: 'Beta Lab' }).click();
      await page.waitForURL(/\/w\/beta-lab$/);
      await workspaceTitle(page, 'Beta Lab').waitFor();
      await selector(page).click();
      // The current workspace is highlighted for eyes and screen readers alike.
      await page.locator('#workspace-selector a[aria-current="true"]', { hasText: 'Beta Lab' }).waitFor();
      await screenshot(page, 'workspace-selector');

      // Create a workspace through the dialog: countries by name, Markdown with an attack in it.
      await page.getByRole('button', { name: 'Create workspace' }).click();
      const dialog = page.getByRole('dialog', { name: 'Create workspace' });
      await dialog.getByLabel('Name').fill('Malaria Burkina Faso');
      await dialog.getByLabel('Find a country').fill('burkina');
      await dialog.getByRole('checkbox', { name: 'Burkina Faso' }).check();
      await dialog.getByRole('button', { name: 'Remove Burkina Faso' }).waitFor();
      await dialog
        .getByLabel('Description (Markdown, optional)')
        .fill('## Purpose\n\nWeekly malaria cases, see [the source](https://example.org/data).\n\n<img src="x" onerror="window.__hacked = 1"><script>window.__hacked = 2</script>');
      await dialog.getByRole('heading', { name: 'Purpose' }).waitFor();
      await screenshot(page, 'create-workspace');
      await dialog.getByRole('button', { name: 'Create', exact: true }).click();
      // Live status: the databases service is not part of this platform yet, so it stays provisioning.
      await dialog.getByRole('status').filter({ hasText: 'Provisioning' }).waitFor();
      await dialog.getByRole('button', { name: 'Open workspace' }).click();
      await page.waitForURL(/\/w\/malaria-burkina-faso$/);

      // The home page, rendered and sanitised.
      const home = page.getByRole('article');
      await workspaceTitle(page, 'Malaria Burkina Faso').waitFor();
      await home.getByRole('heading', { level: 2, name: 'Purpose' }).waitFor();
      await expect(home.getByTestId('workspace-status').textContent()).resolves.toBe('Provisioning');
      await expect(home.getByText('Burkina Faso', { exact: true }).count()).resolves.toBe(1);
      const link = home.getByRole('link', { name: 'the source' });
      await expect(link.getAttribute('href')).resolves.toBe('https://example.org/data');
      await expect(link.getAttribute('rel')).resolves.toBe('noopener noreferrer');
      await expect(page.locator('.markdown [onerror], .markdown script').count()).resolves.toBe(0);
      await expect(page.evaluate(() => (window as { __hacked?: number }).__hacked)).resolves.toBeUndefined();
      await screenshot(page, 'workspace-home');

      // An Admin (here through the organization role) has Settings.
      await page.getByRole('link', { name: 'Settings' }).click();
      await page.getByRole('heading', { name: 'General' }).waitFor();
      await expect(page.getByText('malaria-burkina-faso', { exact: true }).count()).resolves.toBe(1);

      // A reload keeps the session (refresh cookie, token in memory only) and "/" returns to the last workspace.
      await page.goto('/');
      await page.waitForURL(/\/w\/malaria-burkina-faso$/);
      const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie);
      expect(stored).not.toMatch(/eyJ/); // no JWT anywhere a script can read

      // Personal access tokens: created (shown once), usable, revoked.
      await page.getByRole('link', { name: 'Access tokens' }).click();
      await page.getByRole('heading', { level: 1, name: 'Personal access tokens' }).waitFor();
      await page.getByText('You have no personal access token.').waitFor();
      await page.getByLabel('Name', { exact: true }).fill('ci export');
      await page.getByLabel('Access', { exact: true }).selectOption('full');
      await page.getByRole('button', { name: 'Create token' }).click();
      const secret = await page.getByLabel('Token “ci export”').inputValue();
      expect(secret).toMatch(/^hexa_pat_[A-Za-z0-9_-]{43}$/);
      expect((await stack.call({ method: 'GET', url: '/api/me', token: secret })).statusCode).toBe(200);
      await page.getByRole('button', { name: 'Done' }).click();
      await page.getByLabel('Token “ci export”').waitFor({ state: 'detached' });
      await screenshot(page, 'access-tokens');
      await page.getByRole('button', { name: 'Revoke ci export' }).click();
      await page.getByRole('button', { name: 'Confirm revoke' }).click();
      await page.getByText('You have no personal access token.').waitFor();
      expect((await stack.call({ method: 'GET', url: '/api/me', token: secret })).statusCode).toBe(401);

      // Signing out ends the session: a reload does not bring it back.
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(/\/login$/);
      await page.goto('/w/beta-lab');
      await page.waitForURL(/\/login\?next=/);
      await page.getByRole('heading', { name: 'Sign in to Hexa' }).waitFor();
      await screenshot(page, 'sign-in');

      // Chromium reports a CSP violation when DOMPurify parses the attack (in an inert DOMParser
      // document): a report, not a run — `__hacked` stayed undefined and no handler reached the page.
      expect(errors.filter((error) => !/Executing inline event handler violates/.test(error))).toEqual([]);
      await context.close();
    }, browserTestTimeoutMs);
  });

  describe('when a Viewer opens a workspace', () => {
    it('shows the workspace without Settings, Connections or "Create workspace"', async () => {
      const viewer = await stack.createUser('vera@example.org', 'MEMBER');
      const beta = (await stack.call({ method: 'GET', url: '/api/workspaces/beta-lab', token: ownerToken })).json() as { id: string };
      // The role as an accepted invitation leaves it, in membership's table and in the workspaces service's
      // replica that its workers would fill (this stack runs no workers; the invitation flow has its own tests).
      await grantRole(stack, { slug: 'beta-lab', id: beta.id }, viewer.id, 'VIEWER');

      const { context, page, errors } = await newPage();
      await signIn(page, 'vera@example.org', 'password of vera@example.org');
      await page.waitForURL(/\/w\/beta-lab$/);
      await workspaceTitle(page, 'Beta Lab').waitFor();
      const nav = page.getByRole('navigation', { name: 'Beta Lab pages' });
      await nav.getByRole('link', { name: 'Home' }).waitFor();
      await expect(nav.getByRole('link', { name: 'Settings' }).count()).resolves.toBe(0);
      await expect(nav.getByRole('link', { name: 'Connections' }).count()).resolves.toBe(0);
      await expect(page.getByRole('button', { name: /Edit/ }).count()).resolves.toBe(0);

      await selector(page).click();
      await page.getByRole('link', { name: 'Beta Lab' }).waitFor();
      // Only the workspace the Viewer belongs to, and no "Create workspace" for someone who administers nothing.
      await expect(page.getByRole('link', { name: 'Alpha Team' }).count()).resolves.toBe(0);
      await expect(page.getByRole('button', { name: 'Create workspace' }).count()).resolves.toBe(0);
      await screenshot(page, 'viewer');

      // A narrow window: one column, the selector and the navigation still there.
      await page.keyboard.press('Escape');
      await page.setViewportSize({ width: 390, height: 800 });
      await expect(selector(page).isVisible()).resolves.toBe(true);
      await expect(nav.getByRole('link', { name: 'Home' }).isVisible()).resolves.toBe(true);
      await page.setViewportSize({ width: 1280, height: 800 });

      // A typed URL does not open the settings either.
      await page.goto('/w/beta-lab/settings');
      await page.getByText("Only the workspace's Admins see its settings.").waitFor();
      // Nor the connections: the page says who sees them, and asks the API nothing.
      await page.goto('/w/beta-lab/connections');
      await page.getByText('Editors and Admins of this workspace see and use its connections.').waitFor();
      await expect(page.getByRole('button', { name: 'New connection' }).count()).resolves.toBe(0);
      // And a workspace the Viewer is not a member of does not exist for them.
      await page.goto('/w/alpha-team');
      await page.getByText('This workspace does not exist, or you are not one of its members.').waitFor();

      expect(errors.filter((error) => !/status of 404/.test(error))).toEqual([]);
      await context.close();
    }, browserTestTimeoutMs);
  });
});
