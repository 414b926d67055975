/**
 * GraphiQL for defender-graph, as the browser runs it: bundled by `scripts/build-graphiql.ts` into
 * `dist/graphiql-assets/` and served by `src/graphiql/route.ts`, so the page needs nothing from the internet.
 */
import { GraphiQL } from 'graphiql';
import { StrictMode, createElement as h, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { EXAMPLE_TABS, HEADERS_PLACEHOLDER, TRIAGE_TAB } from './examples.js';
import type { UpstreamCost } from './upstream-cost.js';
import { UpstreamCostPanel, costReportingFetcher } from './upstream-cost.js';

/** File names of the Monaco workers, built before this bundle (see `scripts/build-graphiql.ts`). */
declare const GRAPHIQL_WORKERS: { readonly editor: string; readonly json: string; readonly graphql: string };

/** The few browser globals this page touches: the project's tsconfig is Node's, without the DOM library. */
interface BrowserGlobals {
  readonly document: { getElementById(id: string): Element | null };
  readonly location: { readonly pathname: string };
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

/** GraphiQL with the examples of docs/clients.md as tabs, the headers editor open, and the upstream cost below the result. */
function App() {
  const [cost, setCost] = useState<UpstreamCost | null | undefined>(undefined);
  // The page is served at the GraphQL endpoint itself, so its own path is where queries go (behind a proxy too).
  const fetcher = useMemo(() => costReportingFetcher(browser.location.pathname, setCost), []);
  return h(
    GraphiQL,
    {
      fetcher,
      defaultTabs: [...EXAMPLE_TABS, TRIAGE_TAB],
      defaultHeaders: HEADERS_PLACEHOLDER,
      defaultEditorToolsVisibility: 'headers',
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
    },
    h(GraphiQL.Logo, null, 'defender-graph'),
    h(GraphiQL.Footer, null, h(UpstreamCostPanel, { cost })),
  );
}

const container = browser.document.getElementById('graphiql');
if (!container) throw new Error('GraphiQL: the page has no element with id "graphiql" to render into.');
createRoot(container).render(h(StrictMode, null, h(App)));
