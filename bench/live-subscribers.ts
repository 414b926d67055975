import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

/**
 * The subscribers of the live bench, in a process of their own so that the gateway's memory is the gateway's:
 * told over IPC to open `count` WebSocket subscriptions over `connections` connections (filters in turn), it
 * answers `ready` once every one is acknowledged, records when each alert change arrives, and answers
 * `receipts` with them when asked.
 */

interface Open {
  readonly type: 'open';
  readonly url: string;
  readonly count: number;
  readonly connections: number;
  readonly filters: readonly Record<string, unknown>[];
}
type Message = Open | { readonly type: 'receipts' } | { readonly type: 'close' };

const QUERY = `subscription ($filter: AlertFilter) { alertChanges(filter: $filter) { kind alert { id lastUpdateTime } } }`;
const clients: ReturnType<typeof createClient>[] = [];
/** Per alert id, the lastUpdateTime it came with and the wall-clock time (ms) of each arrival. */
const receipts = new Map<string, { lastUpdateTime: string; at: number[] }>();

async function open(message: Open): Promise<void> {
  let acknowledged = 0;
  for (let c = 0; c < message.connections; c++) {
    clients.push(
      createClient({
        url: `${message.url.replace(/^http/, 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: false,
      }),
    );
  }
  await new Promise<void>((ready) => {
    for (let i = 0; i < message.count; i++) {
      const client = clients[i % clients.length]!;
      const filter = message.filters[i % message.filters.length];
      client.subscribe<{ alertChanges: { alert: { id: string; lastUpdateTime: string } } }>(
        { query: QUERY, variables: { filter } },
        {
          next: ({ data }) => {
            const alert = data?.alertChanges.alert;
            if (!alert) return;
            const entry = receipts.get(alert.id) ?? { lastUpdateTime: alert.lastUpdateTime, at: [] };
            entry.at.push(Date.now());
            receipts.set(alert.id, entry);
          },
          error: (error) => console.error('bench subscriber:', error),
          complete: () => {},
        },
      );
    }
    // graphql-ws acknowledges a subscription by nothing: one connection_ack per connection, then the server
    // holds every subscription sent on it. Waiting for each connection's ack is waiting for all of them.
    for (const client of clients) {
      client.on('connected', () => {
        if (++acknowledged === clients.length) setTimeout(ready, 500);
      });
    }
  });
}

process.on('message', (message: Message) => {
  void (async () => {
    if (message.type === 'open') {
      await open(message);
      process.send!({ type: 'ready' });
    } else if (message.type === 'receipts') {
      process.send!({ type: 'receipts', receipts: [...receipts] });
    } else {
      await Promise.all(clients.map((c) => c.dispose()));
      process.exit(0);
    }
  })();
});
