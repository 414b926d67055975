import { createHash, randomUUID } from 'node:crypto';
import type { RedisConnection } from '../cache/redis.js';
import { closeRedis, withTimeout } from '../cache/redis.js';
import type { StartSource } from './hub.js';
import type { LocalSourceOptions, PollerCount } from './local-source.js';
import type { WatermarkStore } from './poller.js';
import { AlertPoller, memoryWatermarks } from './poller.js';
import type { AlertChangeEvent, Watermark } from './watermark.js';

export interface SharedSourceOptions extends LocalSourceOptions {
  /** The `CACHE_URL` connection (commands); a duplicate of it listens to the changes. */
  readonly redis: RedisConnection;
  /** Prefix of every key and channel. Default `defender-graph:live`. */
  readonly prefix?: string;
}

/** How long a Redis command may take before it counts as failed (ms). */
const REDIS_TIMEOUT_MS = 500;

/** How long the first subscription waits for the listening connection to open (ms). */
const CONNECT_TIMEOUT_MS = 2_000;

/** Extends the lease only for the replica that holds it. */
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
/** Gives the lease up only for the replica that holds it. */
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** What one replica publishes for the others: who polled, and the changes of one tick. */
interface Published {
  readonly from: string;
  readonly changes: readonly AlertChangeEvent[];
}

/**
 * Across replicas (`CACHE_URL`): for each upstream identity with subscribers anywhere, exactly one replica
 * polls. Each replica with subscribers for it tries every third of an interval to take a lease in Redis
 * (`SET NX PX`, two thirds of an interval long) and the holder renews it as often, so when the holder dies
 * another replica takes over within one interval, from the watermark the holder left in Redis. The holder
 * publishes each tick's changes on the identity's channel; every replica hands them to its own subscribers.
 * While Redis does not answer, a replica polls for its own subscribers, as without Redis, and goes back to the
 * lease when Redis answers again. Keys and channels are named by a hash of the identity, never the identity.
 */
export function sharedSource(
  options: SharedSourceOptions,
  running: PollerCount,
): StartSource & { publish: (identity: string, changes: readonly AlertChangeEvent[]) => void } {
  const replica = randomUUID();
  const prefix = options.prefix ?? 'defender-graph:live';
  const renewEveryMs = Math.max(20, Math.floor(options.intervalMs / 3));
  const leaseMs = 2 * renewEveryMs;
  const listener = sharedListener(options.redis);
  const redis = (command: string[]) => withTimeout(options.redis.sendCommand(command), REDIS_TIMEOUT_MS);

  const channelOf = (identity: string) => `${prefix}:changes:${keyOf(identity)}`;
  /** Changes this replica learnt of itself (a write), for the other replicas' subscribers of the identity. */
  const publish = (identity: string, changes: readonly AlertChangeEvent[]) => {
    const message = JSON.stringify({ from: replica, changes } satisfies Published);
    redis(['PUBLISH', channelOf(identity), message]).catch(() => {});
  };

  const start: StartSource = (identity, tokens, deliver) => {
    const key = keyOf(identity);
    const lease = `${prefix}:lease:${key}`;
    const channel = channelOf(identity);
    const watermarks = redisWatermarks(
      redis,
      `${prefix}:watermark:${key}`,
      Math.max(60_000, 10 * options.intervalMs),
    );
    let poller: AlertPoller | undefined;
    let holding = false;
    let stopped = false;
    let listening = false;
    const onMessage = (message: string) => {
      const published = JSON.parse(message) as Published;
      if (published.from !== replica) deliver(published.changes);
    };
    const publishing = (changes: readonly AlertChangeEvent[]) => {
      deliver(changes);
      publish(identity, changes);
    };
    const startPolling = (store: WatermarkStore) => {
      poller = new AlertPoller({
        client: options.client,
        ...(tokens && { tokens }),
        budget: options.budget,
        intervalMs: options.intervalMs,
        watermarks: store,
        onChanges: publishing,
        ...(options.observer && { onTick: options.observer.onPoll }),
        ...(options.onError && { onError: options.onError }),
        ...(options.tracing && { tracing: options.tracing }),
      });
      poller.start();
      running.value++;
    };
    const stopPolling = async () => {
      const current = poller;
      if (!current) return;
      poller = undefined;
      running.value--;
      await current.stop();
    };

    /** One round of the lease: listen, renew or take, and poll exactly while holding it. */
    const round = async () => {
      try {
        if (!listening) {
          await listener.add(channel, onMessage);
          listening = true;
        }
        if (holding) {
          holding = Number(await redis(['EVAL', RENEW, '1', lease, replica, String(leaseMs)])) === 1;
        } else {
          const taken = await redis(['SET', lease, replica, 'NX', 'PX', String(leaseMs)]);
          if (String(taken) === 'OK') {
            holding = true;
            await stopPolling(); // a poller started while Redis was unreachable
            if (!stopped) startPolling(watermarks);
          }
        }
        if (!holding) await stopPolling();
      } catch {
        holding = false;
        if (!poller && !stopped) startPolling(memoryWatermarks());
      }
    };
    let timer: NodeJS.Timeout | undefined;
    let current: Promise<void> = Promise.resolve();
    const loop = () => {
      current = round().finally(() => {
        if (!stopped) timer = setTimeout(loop, renewEveryMs);
      });
    };
    loop();

    return {
      async stop() {
        stopped = true;
        clearTimeout(timer);
        await current;
        await stopPolling();
        if (holding) await redis(['EVAL', RELEASE, '1', lease, replica]).catch(() => {});
        holding = false;
        if (listening) await listener.remove(channel, onMessage).catch(() => {});
      },
    };
  };
  return Object.assign(start, { publish });
}

/** Keys and channels are named by a hash of the identity, never the identity. */
function keyOf(identity: string): string {
  return createHash('sha256').update(identity).digest('hex').slice(0, 32);
}

/** The watermark in Redis, for the replica that takes the lease over; it expires when nobody polls for long. */
function redisWatermarks(
  redis: (command: string[]) => Promise<unknown>,
  key: string,
  ttlMs: number,
): WatermarkStore {
  return {
    load: async () => {
      const stored = await redis(['GET', key]);
      return typeof stored === 'string' ? (JSON.parse(stored) as Watermark) : undefined;
    },
    save: async (watermark) => {
      await redis(['SET', key, JSON.stringify(watermark), 'PX', String(ttlMs)]);
    },
  };
}

/**
 * One subscriber connection (Redis needs a connection of its own for pub/sub) for every identity's channel,
 * opened with the first channel and closed with the last.
 */
function sharedListener(redis: RedisConnection) {
  let connection: RedisConnection | undefined;
  let channels = 0;
  return {
    async add(channel: string, onMessage: (message: string) => void): Promise<void> {
      if (!connection) {
        connection = redis.duplicate();
        connection.on('error', () => {});
        // Not awaited: it keeps reconnecting by itself, and `subscribe` fails at once until it is ready.
        connection.connect().catch(() => {});
      }
      const opened = connection;
      if (!opened.isReady) {
        await withTimeout(new Promise((ready) => opened.once('ready', ready)), CONNECT_TIMEOUT_MS);
      }
      await withTimeout(connection.subscribe(channel, onMessage), REDIS_TIMEOUT_MS);
      channels++;
    },
    async remove(channel: string, onMessage: (message: string) => void): Promise<void> {
      const current = connection;
      if (!current) return;
      channels--;
      if (channels > 0) return current.unsubscribe(channel, onMessage);
      connection = undefined;
      await closeRedis(current);
    },
  };
}
