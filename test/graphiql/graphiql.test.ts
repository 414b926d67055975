import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { OperationTypeNode, parse } from 'graphql';
import type { Browser, Page, Request, Route } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_TABS } from '../../src/graphiql/browser/examples.js';
import type { GraphQLResponse, TestGateway } from '../helpers/gateway.js';
import { startTestGateway } from '../helpers/gateway.js';

/** Debian's Chromium; `.ci/run` installs it. Playwright never downloads a browser here. */
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = 'test/.artifacts';
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

/** The example tabs by operation name, with the figure each one's comment states ("about N Defender calls"). */
const TABS = EXAMPLE_TABS.map(({ query }) => ({
  name: /^query (\w+)/m.exec(query)![1]!,
  refused: /^# Meant to be refused/.test(query),
  /** NaN when the comment states none (or the operation is refused, for 0 calls). */
  statedCalls: /^# Meant to be refused/.test(query)
    ? Number.NaN
    : Number(/about (\d+) Defender calls/.exec(query)?.[1] ?? Number.NaN),
}));
/** The tab whose walk advanced hunting answers, and the relationship levels it serves. */
const HUNTED = {
  name: 'AlertWalk',
  levels: ['alerts.nodes.user.machines', 'alerts.nodes.user.machines.logonUsers'],
};
/** The one tab meant to be refused, and what its comment says the refusal names. */
const REFUSED = {
  code: 'QUERY_TOO_EXPENSIVE',
  costliestPath: ['alerts', 'nodes', 'user', 'machines', 'logonUsers'],
};

const chromiumMissing = !existsSync(CHROMIUM);
const inCi = process.env.CI === 'true';

// Locally, a machine without Chromium skips; in CI its absence is a failure (`.ci/run` installs it).
describe.skipIf(chromiumMissing && !inCi)('GraphiQL in a browser, offline', () => {
  let gw: TestGateway;
  let browser: Browser;
  let page: Page;
  /** Every request the page tried to send off this machine. */
  const offMachine: string[] = [];
  /** Console errors and uncaught exceptions, CSP violations included. */
  const pageErrors: string[] = [];
  /** The body of every dry run the page sent. */
  const dryRuns: { query: string; operationName: string | null }[] = [];
  /** Each tab's first run, by operation name. */
  const firstRuns = new Map<string, number>();

  beforeAll(async () => {
    if (chromiumMissing) {
      throw new Error(
        `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium), as .ci/run does`,
      );
    }
    // The defaults of `npm start` (Defender's limits, MAX_OPERATION_CALLS, DEFENDER_PLANS=auto), with short polls
    // so that the live tab's subscription sees a change within the test.
    gw = await startTestGateway({ server: { plans: 'auto', live: { pollIntervalMs: 500 } } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    // Watched, not routed: routing would make Chromium send `Cache-Control: no-cache`, which the gateway honours
    // by reading nothing from its cache, and the second tour of the tabs is about what the cache saves. Off this
    // machine the network refuses them anyway.
    context.on('request', (request) => {
      const { hostname } = new URL(request.url());
      if (hostname !== '127.0.0.1' && hostname !== 'localhost' && !request.url().startsWith('data:')) {
        offMachine.push(request.url());
      }
    });
    page = await context.newPage();
    // Fail with Playwright's own account of what it waited for, well before the test's timeout.
    page.setDefaultTimeout(WAIT.timeout);
    page.on('console', (message) => {
      // A refusal is a 400, which Chromium reports as a failed load; the tab meant to be refused runs into it.
      if (/status of 400 \(Bad Request\)/.test(message.text())) return;
      if (message.type() === 'error' || message.type() === 'warning') pageErrors.push(message.text());
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('request', (request) => {
      if (isDryRun(request)) dryRuns.push(request.postDataJSON() as (typeof dryRuns)[number]);
    });
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
      .toEqual([
        'AlertQueue',
        'Machine',
        'User',
        'RateLimit',
        'AlertWalk',
        'TooExpensive',
        'Triage',
        'LiveAlerts',
      ]);
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

  it('shows each example tab’s estimate before Run at zero calls, then runs it without errors (the refusal tab: exactly its refusal)', async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    for (const tab of TABS) {
      const before = gw.sim.calls.length;
      await selectTab(page, tab.name);

      const estimate = await shownEstimate(page, tab.name, tab.refused ? 'refused' : 'estimate');
      // The dry run planned the operation and called nothing.
      expect(gw.sim.calls.length, tab.name).toBe(before);
      if (tab.refused) {
        expect(estimate.refusal, tab.name).toContain(REFUSED.code);
        expect(estimate['costliest path'], tab.name).toBe(REFUSED.costliestPath.join('.'));
      } else {
        expect(estimate.estimate, tab.name).toMatch(/^(expected \d+ calls \(\d+–\d+\)|\d+ calls)$/);
      }

      const result = await run(page, tab.name);
      const calls = gw.sim.calls.length - before;
      if (tab.refused) {
        expect(result.status, tab.name).toBe(400);
        expect(result).not.toHaveProperty('data');
        expect(result.errors?.map((e) => e.extensions?.['code'])).toEqual([REFUSED.code]);
        expect(result.errors?.[0]?.extensions?.['cost']).toMatchObject({
          costliestPath: REFUSED.costliestPath,
        });
        expect(calls, `${tab.name} is refused before any call`).toBe(0);
        await expect.poll(() => page.locator('.graphiql-response').innerText(), WAIT).toContain('"errors"');
      } else {
        expect(result.errors, tab.name).toBeUndefined();
        expect(
          Object.values(result.data ?? {}).every((value) => value !== null),
          tab.name,
        ).toBe(true);
        await expect.poll(() => page.locator('.graphiql-response').innerText(), WAIT).toContain('"data"');
      }
      // The pane says what the run cost, which is what Defender saw.
      expect(await runCalls(page), tab.name).toBe(calls);
      expect(result.extensions?.upstream?.calls, tab.name).toBe(calls);
      if (!Number.isNaN(tab.statedCalls)) {
        expect(
          Math.abs(calls - tab.statedCalls),
          `${tab.name}: the calls its comment states`,
        ).toBeLessThanOrEqual(tab.statedCalls * 0.2);
      }
      if (tab.name === HUNTED.name) {
        // Hunting was in the estimate before Run, and after Run the pane says which source served each level.
        expect(estimate['by API'], tab.name).toMatch(/\bhunting \d/);
        const upstream = result.extensions?.upstream as unknown as {
          plans: { path: string; source: string; calls: number }[];
          byApi: Record<string, { calls: number }>;
        };
        expect(upstream.plans.map((p) => [p.path, p.source])).toEqual(
          HUNTED.levels.map((level) => [level, 'hunting']),
        );
        expect(upstream.byApi['hunting']?.calls).toBeGreaterThanOrEqual(HUNTED.levels.length);
        expect(upstream.byApi['users/{id}/machines']?.calls ?? 0).toBe(0);
        expect(upstream.byApi['machines/{id}/logonusers']?.calls ?? 0).toBe(0);
        expect(await runFigure(page, 'by API')).toContain(`hunting ${upstream.byApi['hunting']!.calls}`);
        for (const plan of upstream.plans) {
          expect(await runFigure(page, `plan ${plan.path}`)).toBe(
            `hunting, ${plan.calls} ${plan.calls === 1 ? 'call' : 'calls'}`,
          );
        }
        // Fewer calls than the REST plan's one per user and one per device would take.
        expect(calls).toBeLessThan(20);
      }
      firstRuns.set(tab.name, calls);
      await page.screenshot({ path: `${ARTIFACTS}/graphiql-${tab.name}.png` });
    }
    // The whole tour fits one operation's cap and one minute of each API's budget.
    expect(Math.max(...firstRuns.values())).toBeLessThanOrEqual(50);
  });

  it('runs every tab a second time as cleanly, for fewer calls or none', async () => {
    for (const tab of TABS) {
      const before = gw.sim.calls.length;
      await selectTab(page, tab.name);
      await shownEstimate(page, tab.name, tab.refused ? 'refused' : 'estimate');
      const result = await run(page, tab.name);
      const calls = gw.sim.calls.length - before;
      if (tab.refused) {
        expect(result.errors?.map((e) => e.extensions?.['code'])).toEqual([REFUSED.code]);
        expect(calls).toBe(0);
      } else {
        expect(result.errors, tab.name).toBeUndefined();
        const first = firstRuns.get(tab.name)!;
        expect(calls, tab.name).toBeLessThanOrEqual(first);
        if (first > 0) expect(calls, `${tab.name} again, from the cache`).toBeLessThan(first);
      }
      expect(await runCalls(page), tab.name).toBe(calls);
      await page.screenshot({ path: `${ARTIFACTS}/graphiql-${tab.name}-again.png` });
    }
  });

  it('runs a nested query typed by the user, shows its estimate, its result and what it cost upstream', async () => {
    const alertId = gw.sim.tenant.alerts[0]!.id;
    await selectTab(page, 'RateLimit');
    await replaceDocument(page, NESTED_QUERY);
    // GraphiQL has read the new document once the tab no longer carries the example's operation name.
    await expect.poll(() => page.locator('.graphiql-tab-active').innerText(), WAIT).toBe('<untitled>');
    await page.getByRole('button', { name: /^Prettify query/ }).click();
    await expect
      .poll(() => page.locator('.graphiql-query-editor .view-line').count(), WAIT)
      .toBeGreaterThan(10);
    const before = gw.sim.calls.length;
    await shownEstimate(page, '', 'estimate');

    await page.getByRole('button', { name: /^Execute query/ }).click();

    await expect.poll(() => page.locator('.graphiql-response').innerText(), WAIT).toContain(`"${alertId}"`);
    await expect.poll(() => runCalls(page), WAIT).toBe(gw.sim.calls.length - before);
    expect(gw.sim.calls.length).toBeGreaterThan(before);
    await expect
      .poll(() => page.locator('[data-testid="run-cost"] [data-figure="cache hits"] dd').innerText(), WAIT)
      .toMatch(/^\d+$/);
    await page.screenshot({ path: `${ARTIFACTS}/graphiql.png` });
  });

  it('sends no dry run while the document does not parse, nor for a subscription', async () => {
    const sent = dryRuns.length;
    await replaceDocument(page, '{ rateLimit { api ');
    await expect.poll(() => estimateText(page), WAIT).toBe('The estimate waits for a document that parses.');
    await replaceDocument(page, 'subscription Changes { alertChanges { kind } }');
    await expect.poll(() => estimateText(page), WAIT).toBe('Subscriptions are not estimated.');
    // Back to a document that parses: its dry run is the next one sent, for it.
    await replaceDocument(page, 'query Budget { rateLimit { api remaining } }');
    await shownEstimate(page, 'Budget', 'estimate');
    expect(dryRuns.slice(sent).map((d) => d.operationName)).toEqual(['Budget']);
  });

  it('runs the LiveAlerts tab over WebSocket and shows a change as it happens', async () => {
    await page.locator('.graphiql-tab', { hasText: 'LiveAlerts' }).click();
    await expect.poll(() => page.locator('.graphiql-tab-active').innerText(), WAIT).toBe('LiveAlerts');
    gw.sim.resetCalls();
    // Run at once, while GraphiQL still names the operation of the tab before (`Budget`, from the test above): the
    // page runs the document's own operation, over WebSocket to the gateway itself.
    const socket = page.waitForEvent('websocket');
    await page.getByRole('button', { name: /^Execute query/ }).click();
    expect((await socket).url()).toBe(`${gw.url.replace(/^http/, 'ws')}/graphql`);
    // The poller has its watermark once its second call went out: a change from now on is found.
    await expect.poll(() => gw.sim.calls.filter((c) => c.api === 'alerts').length, WAIT).toBeGreaterThan(1);

    const machineId = gw.sim.tenant.machines.find((m) => m.onboardingStatus === 'Onboarded')!.id;
    const created = gw.sim.createAlert({ machineId, severity: 'High', title: 'Seen live in GraphiQL' });

    await expect
      .poll(() => page.locator('.graphiql-response').innerText(), WAIT)
      .toContain(`"${created.id}"`);
    expect(normalized(await page.locator('.graphiql-response').innerText())).toContain('"kind": "CREATED"');
  });

  // Last of the tours: from here on, routing makes every request of the page `Cache-Control: no-cache`.
  it('drops the answer for a document no longer in the editor', async () => {
    // Hold the dry run of `Slow` until the editor holds `Fast` and shows its estimate.
    let held: Route | undefined;
    await page.route('**/graphql', async (route) => {
      if (isDryRun(route.request()) && route.request().postDataJSON()?.operationName === 'Slow') {
        held = route;
        return;
      }
      return route.fallback();
    });
    const slowFailed = page.waitForEvent('requestfailed', (r) => r.postDataJSON()?.operationName === 'Slow');
    await replaceDocument(page, 'query Slow { rateLimit { api } }');
    await expect.poll(() => held !== undefined, WAIT).toBe(true);
    await replaceDocument(page, 'query Fast { rateLimit { limit } }');
    await shownEstimate(page, 'Fast', 'estimate');
    // The newer document aborted the older request; had it answered, nothing would show it.
    await slowFailed;
    await held!
      .fulfill({ json: { extensions: { upstream: { calls: 0, cacheHits: 0, dryRun: true } } } })
      .catch(() => {});
    await page.unroute('**/graphql');
    expect(await page.locator('[data-testid="estimate"]').getAttribute('data-operation')).toBe('Fast');
  });

  it('loaded everything from the gateway itself, within its Content-Security-Policy, and dry-ran only queries that parse', () => {
    expect(offMachine).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(dryRuns.length).toBeGreaterThanOrEqual(TABS.length);
    for (const { query } of dryRuns) {
      const operations = parse(query).definitions.flatMap((d) =>
        d.kind === 'OperationDefinition' ? [d.operation] : [],
      );
      expect(operations).not.toContain(OperationTypeNode.SUBSCRIPTION);
    }
  });
});

function isDryRun(request: Request): boolean {
  return request.method() === 'POST' && request.headers()['x-dry-run'] === 'true';
}

/** Makes the tab with this operation name the active one. */
async function selectTab(page: Page, name: string): Promise<void> {
  await page.locator('.graphiql-tab-button').getByText(name, { exact: true }).click();
  await expect.poll(() => page.locator('.graphiql-tab-active').innerText(), WAIT).toBe(name);
}

/**
 * Waits until the pane shows the dry run's answer for this operation in this state, and returns its figures by
 * name (and the refusal's text as `refusal`).
 */
async function shownEstimate(page: Page, operation: string, state: string): Promise<Record<string, string>> {
  const pane = page.locator(`[data-testid="estimate"][data-operation="${operation}"][data-state="${state}"]`);
  try {
    await pane.waitFor(WAIT);
  } catch (error) {
    const shown = page.locator('[data-testid="estimate"]');
    throw new Error(
      `The pane shows ${await shown.getAttribute('data-state')} for "${await shown.getAttribute('data-operation')}" ` +
        `(${await shown.innerText()}), not ${state} for "${operation}"`,
      { cause: error },
    );
  }
  const figures: Record<string, string> = {};
  for (const figure of await pane.locator('[data-figure]').all()) {
    const name = (await figure.getAttribute('data-figure'))!;
    const value = figure.locator('dd');
    figures[name] = (await value.count()) > 0 ? await value.innerText() : await figure.innerText();
  }
  return figures;
}

/** The text of the pane's "Before Run" part. */
async function estimateText(page: Page): Promise<string> {
  return page.locator('[data-testid="estimate"] .upstream-cost-body').innerText();
}

/** Presses Run and returns the operation's response as the gateway sent it, with its status. */
async function run(page: Page, name: string): Promise<GraphQLResponse> {
  const response = page.waitForResponse(
    (r) => !isDryRun(r.request()) && r.request().postDataJSON()?.operationName === name,
  );
  await page.getByRole('button', { name: /^Execute query/ }).click();
  const answer = await response;
  return { status: answer.status(), ...((await answer.json()) as object) };
}

/** The calls the pane says the last run made, once it shows them. */
async function runCalls(page: Page): Promise<number> {
  const calls = page.locator('[data-testid="run-cost"] [data-figure="calls"] dd');
  await calls.waitFor();
  return Number(await calls.innerText());
}

/** A figure of the pane's "Last Run" part, by name. */
async function runFigure(page: Page, name: string): Promise<string> {
  return page.locator(`[data-testid="run-cost"] [data-figure="${name}"] dd`).innerText();
}

/** Replaces the active tab's document with `text`, as typed. */
async function replaceDocument(page: Page, text: string): Promise<void> {
  await page.locator('.graphiql-query-editor .monaco-editor').click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.insertText(text);
  // Monaco may close a brace itself: drop what follows the cursor.
  await page.keyboard.press('ControlOrMeta+Shift+End');
  await page.keyboard.press('Delete');
}

/** Text as Monaco renders it, with its non-breaking spaces and line breaks as single spaces. */
function normalized(text: string): string {
  return text.replace(/\s+/g, ' ');
}
