/**
 * GraphiQL for defender-graph, as the browser runs it: bundled by `scripts/build-graphiql.ts` into
 * `dist/graphiql-assets/` and served by `src/graphiql/route.ts`, so the page needs nothing from the internet.
 */
import { tryParseJSONC, useGraphiQL } from '@graphiql/react';
import { GraphiQL } from 'graphiql';
import type { GraphiQLProps } from 'graphiql';
import type { MutableRefObject } from 'react';
import { StrictMode, createElement as h, useEffect, useMemo, useRef, useState } from 'react';
import { createRoot } from 'react-dom/client';
import type { DryRunState, EditorRequest } from './dry-run.js';
import { DryRuns } from './dry-run.js';
import { EXAMPLE_TABS, HEADERS_PLACEHOLDER, LIVE_ALERTS_TAB, TRIAGE_TAB } from './examples.js';
import { webSocketUrl, withSubscriptions } from './live.js';
import type { UpstreamCost } from './upstream-cost.js';
import { UpstreamCostPanel, costReportingFetcher, dryRunSender } from './upstream-cost.js';

/** File names of the Monaco workers, built before this bundle (see `scripts/build-graphiql.ts`). */
declare const GRAPHIQL_WORKERS: { readonly editor: string; readonly json: string; readonly graphql: string };

/** The few browser globals this page touches: the project's tsconfig is Node's, without the DOM library. */
interface BrowserGlobals {
  readonly document: { getElementById(id: string): Element | null };
  readonly location: { readonly pathname: string; readonly protocol: string; readonly host: string };
  readonly Worker: new (url: URL, options?: { name?: string }) => object;
  MonacoEnvironment?: { getWorker(workerId: string, label: string): object };
}
const browser = globalThis as unknown as BrowserGlobals;

// Monaco starts its language services in workers; they are files next to this bundle, never a CDN's.
browser.MonacoEnvironment = {
  getWorker(_workerId, label) {
    const file = label === 'json' || label === 'graphql' ? GRAPHIQL_WORKERS[label] : GRAPHIQL_WORKERS.editor;
    return new browser.Worker(new URL(file, import.meta.url), { name: label });
  },
};

/** The page is served at the GraphQL endpoint itself, so its own path is where queries go (behind a proxy too). */
const ENDPOINT = browser.location.pathname;

/**
 * GraphiQL with the examples of docs/clients.md as tabs, the headers editor open, and the cost pane below the
 * result: each tab's estimate before Run and its last run's cost.
 */
function App() {
  /** Each tab's last run, by tab id: a tab shows its own, not the one another tab ran. */
  const [costs, setCosts] = useState<ReadonlyMap<string, UpstreamCost | null>>(new Map());
  const activeTab = useRef<string>('');
  const fetcher = useMemo<GraphiQLProps['fetcher']>(
    // Subscriptions go over WebSocket (live.ts, one connection per set of headers), queries as JSON POSTs.
    () =>
      withSubscriptions((params, options) => {
        // The tab that runs, read as the run starts (GraphiQL calls the fetcher at once): a tab switch while the
        // answer is on its way does not move the cost to another tab.
        const tab = activeTab.current;
        const report = (cost: UpstreamCost | null) => setCosts((old) => new Map(old).set(tab, cost));
        return costReportingFetcher(ENDPOINT, report)(params, options);
      }, webSocketUrl(browser.location)),
    [],
  );
  return h(
    GraphiQL,
    {
      fetcher,
      defaultTabs: [...EXAMPLE_TABS, TRIAGE_TAB, LIVE_ALERTS_TAB],
      defaultHeaders: HEADERS_PLACEHOLDER,
      defaultEditorToolsVisibility: 'headers',
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
    },
    h(GraphiQL.Logo, null, 'defender-graph'),
    h(GraphiQL.Footer, null, h(CostPane, { costs, activeTab })),
  );
}

/**
 * The cost pane, inside GraphiQL so that it reads the active tab: every change of its operation, variables or
 * headers (GraphiQL stores them after a short debounce of its own) goes to the dry runs, which send one once the
 * editor has been quiet for 400 ms.
 */
function CostPane({
  costs,
  activeTab,
}: {
  readonly costs: ReadonlyMap<string, UpstreamCost | null>;
  readonly activeTab: MutableRefObject<string>;
}) {
  const tab = useGraphiQL((state) => state.tabs[state.activeTabIndex]);
  const [estimate, setEstimate] = useState<DryRunState>({ status: 'idle', reason: 'empty' });
  const [dryRuns] = useState(() => new DryRuns({ send: dryRunSender(ENDPOINT), onState: setEstimate }));
  useEffect(() => () => dryRuns.dispose(), [dryRuns]);
  useEffect(() => {
    activeTab.current = tab?.id ?? '';
    if (tab) dryRuns.update(editorRequestOf(tab));
  }, [tab, dryRuns, activeTab]);
  return h(UpstreamCostPanel, {
    operationName: tab?.operationName ?? null,
    estimate,
    cost: tab ? costs.get(tab.id) : undefined,
  });
}

/** A tab's editors as a request; variables or headers that do not parse as JSONC are undefined. */
function editorRequestOf(tab: {
  query: string | null;
  operationName: string | null;
  variables?: string | null;
  headers?: string | null;
}): EditorRequest {
  return {
    query: tab.query ?? '',
    operationName: tab.operationName,
    variables: jsonc(tab.variables),
    headers: jsonc(tab.headers),
  };
}

function jsonc(text: string | null | undefined): Record<string, unknown> | undefined {
  try {
    return tryParseJSONC(text ?? '') ?? {};
  } catch {
    return undefined;
  }
}

const container = browser.document.getElementById('graphiql');
if (!container) throw new Error('GraphiQL: the page has no element with id "graphiql" to render into.');
createRoot(container).render(h(StrictMode, null, h(App)));
