import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';

/** Debian's Chromium (scripts/lib/ensure.sh installs it); playwright-core cannot download a browser here. */
export const chromiumPath = process.env.HEXA_CHROMIUM ?? '/usr/bin/chromium';

/** The build the gateway serves (scripts/test.sh runs `pnpm console:build` before Jest). */
export const consoleBuild = fileURLToPath(new URL('../dist/index.html', import.meta.url));

/**
 * Chromium as ENVIRONMENT.md says it runs on these machines: headless, no
 * sandbox (root), nothing that reaches the network by itself. Playwright gives
 * each launch a fresh profile (user data dir) of its own.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(chromiumPath)) throw new Error(`${chromiumPath} is missing: run npm test (it installs Debian's chromium) or set HEXA_CHROMIUM`);
  if (!existsSync(consoleBuild)) throw new Error(`${consoleBuild} is missing: run pnpm console:build (npm test does it)`);
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * Saves a screenshot under docs/screenshots when HEXA_SCREENSHOTS=1, so the
 * README's pictures come from the same run that checks the pages; a normal
 * `npm test` writes nothing into the work tree. `part` shoots one element
 * instead of the window: a page dense with text would make a picture twice
 * the size of the others for no more to see.
 */
export async function screenshot(page: Page, name: string, part?: Locator): Promise<void> {
  if (process.env.HEXA_SCREENSHOTS !== '1') return;
  const folder = fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url));
  mkdirSync(folder, { recursive: true });
  await (part ?? page).screenshot({ path: `${folder}${name}.png` });
}

/** Fails the test on anything the page logs as an error (a CSP violation, an uncaught exception). */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    // A 401 on the first refresh (no session yet) is logged by the browser as a failed resource; it is expected.
    if (message.type() === 'error' && !/status of 401/.test(message.text())) errors.push(`console: ${message.text()}`);
  });
  return errors;
}
