import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../helpers/gateway.js';
import { startTestGateway } from '../helpers/gateway.js';

/** Debian's Chromium; `.ci/run` installs it. Playwright never downloads a browser here. */
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = 'test/.artifacts/graphiql.png';
/** The flags that keep Chromium from calling Google's services (the machine's network refuses them). */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** How long a step may wait for the page (Playwright's waits and `expect.poll`), well within the test's timeout. */
const WAIT = { timeout: 10_000 };

const NESTED_QUERY =
  '{ alerts(first: 3) { nodes { id title machine { computerDnsName } user { accountName } } } }';

const chromiumMissing = !existsSync(CHROMIUM);
const inCi = process.env.CI === 'true';

// Locally, a machine without Chromium skips; in CI its absence is a failure (`.ci/run` installs it).
describe.skipIf(chromiumMissing && !inCi)('GraphiQL in a browser, offline', () => {
  let gw: TestGateway;
  let browser: Browser;
  let page: Page;
  /** Every request the page tried to send off this machine (all aborted). */
  const offMachine: string[] = [];
  /** Console errors and uncaught exceptions, CSP violations included. */
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (chromiumMissing) {
      throw new Error(
        `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium), as .ci/run does`,
      );
    }
    gw = await startTestGateway();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    await context.route('**/*', (route) => {
      const { hostname } = new URL(route.request().url());
      if (hostname === '127.0.0.1' || hostname === 'localhost') return route.continue();
      offMachine.push(route.request().url());
      return route.abort();
    });
    page = await context.newPage();
    // Fail with Playwright's own account of what it waited for, well before the test's timeout.
    page.setDefaultTimeout(WAIT.timeout);
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') pageErrors.push(message.text());
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });

  afterAll(async () => {
    await browser?.close();
    await gw?.close();
  });

  it('opens GraphiQL at /graphql with the examples as tabs and the headers editor open', async () => {
    const response = await page.goto(`${gw.url}/graphql`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("default-src 'none'");

    await page.locator('.graphiql-query-editor .monaco-editor').waitFor();
    await expect
      .poll(() => page.locator('.graphiql-tab').allInnerTexts(), WAIT)
      .toEqual(['AlertQueue', 'Machine', 'User', 'RateLimit', 'Triage']);
    // The headers editor is open, with the bearer-token placeholder.
    await expect
      .poll(async () => normalized(await page.locator('.graphiql-editor-tool').innerText()), WAIT)
      .toContain('// "Authorization": "Bearer <token>"');
    // The schema arrived by introspection: the docs explorer lists the root fields.
    await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
    const docs = page.locator('.graphiql-doc-explorer');
    await docs.getByRole('link', { name: 'Query', exact: true }).click();
    await docs.getByText('rateLimit', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Hide Documentation Explorer' }).click();
  });

  it('runs a nested query typed by the user, shows its result and what it cost upstream', async () => {
    const alertId = gw.sim.tenant.alerts[0]!.id;
    await page.locator('.graphiql-query-editor .monaco-editor').click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.insertText(NESTED_QUERY);
    // Monaco closed the first brace itself: drop what follows the cursor.
    await page.keyboard.press('ControlOrMeta+Shift+End');
    await page.keyboard.press('Delete');
    // GraphiQL has read the new document once the tab no longer carries the example's operation name.
    await expect.poll(() => page.locator('.graphiql-tab-active').innerText(), WAIT).toBe('<untitled>');
    await page.getByRole('button', { name: /^Prettify query/ }).click();
    await expect
      .poll(() => page.locator('.graphiql-query-editor .view-line').count(), WAIT)
      .toBeGreaterThan(10);
    gw.sim.resetCalls();

    await page.getByRole('button', { name: /^Execute query/ }).click();

    await expect.poll(() => page.locator('.graphiql-response').innerText(), WAIT).toContain(`"${alertId}"`);
    const calls = page.locator('[data-testid="upstream-cost"] [data-figure="calls"] dd');
    await calls.waitFor();
    // What the panel says the query cost is what the Defender API saw.
    expect(Number(await calls.innerText())).toBe(gw.sim.calls.length);
    expect(gw.sim.calls.length).toBeGreaterThan(0);
    await expect
      .poll(
        () => page.locator('[data-testid="upstream-cost"] [data-figure="cache hits"] dd').innerText(),
        WAIT,
      )
      .toMatch(/^\d+$/);

    await mkdir('test/.artifacts', { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
  });

  it('loaded everything from the gateway itself, within its Content-Security-Policy', () => {
    expect(offMachine).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});

/** Text as Monaco renders it, with its non-breaking spaces and line breaks as single spaces. */
function normalized(text: string): string {
  return text.replace(/\s+/g, ' ');
}
