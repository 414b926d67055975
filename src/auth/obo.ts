import { createHash } from 'node:crypto';
import { ConfidentialClientApplication } from '@azure/msal-node';
import type { Principal } from './jwt.js';
import { ErrorCode, GatewayError } from '../errors.js';
import type { MsalOptions, TokenProvider } from './tokens.js';
import {
  TokenAcquisitionError,
  msalConfiguration,
  parseAuthorityHost,
  toTokenAcquisitionError,
  waitFor,
} from './tokens.js';

export interface OboOptions extends MsalOptions {
  /** Callers whose MSAL client (and its token cache) is kept; the least recently used goes first. Default 1,000. */
  readonly maxCallers?: number;
}

/**
 * Defender tokens on behalf of each caller (`DEFENDER_AUTH_MODE=obo`), so Defender's device-group visibility
 * applies per person. Each caller gets its own MSAL client, hence its own token cache: a cache entry can only
 * ever hold one person's tokens (MSAL's advice for web APIs using OBO). The provider's identity partitions
 * the gateway's cache and in-flight sharing per caller. There is no fallback: a failed exchange is
 * UNAUTHENTICATED or FORBIDDEN, never a call with the application's own identity.
 */
export class OboTokenProviders {
  readonly #apps = new Map<string, ConfidentialClientApplication>();
  /**
   * Exchanges in flight, by caller and inbound token. MSAL does not share them: an operation whose first
   * Defender calls start together, on a cold cache, would otherwise send one on-behalf-of request per call.
   */
  readonly #pending = new Map<string, Promise<string>>();
  readonly #authorityUrl: URL;
  readonly #maxCallers: number;

  constructor(private readonly options: OboOptions) {
    this.#authorityUrl = parseAuthorityHost(options.authorityHost);
    this.#maxCallers = options.maxCallers ?? 1_000;
  }

  /** The token provider of one caller; throws FORBIDDEN for an application token, which has no user to act for. */
  forPrincipal(principal: Principal): TokenProvider {
    if (!principal.isUser) {
      throw new GatewayError(
        ErrorCode.Forbidden,
        'Delegated access to Defender needs a user token, not an application token.',
      );
    }
    const app = this.#appFor(principal.id);
    const { scope, timeoutMs = 30_000 } = this.options;
    const describe = `${this.#authorityUrl.host} on behalf of a caller`;
    return {
      identity: `obo:${createHash('sha256').update(principal.id).digest('hex').slice(0, 32)}`,
      getToken: (signal) => {
        signal?.throwIfAborted();
        const key = `${principal.id}\n${createHash('sha256').update(principal.token).digest('hex')}`;
        let exchange = this.#pending.get(key);
        if (!exchange) {
          exchange = app
            .acquireTokenOnBehalfOf({ oboAssertion: principal.token, scopes: [scope] })
            .then((result) => {
              if (!result?.accessToken) {
                throw new TokenAcquisitionError(
                  `No token from ${describe}: no access token`,
                  'unrecognized_error',
                  false,
                );
              }
              return result.accessToken;
            })
            .catch((error: unknown) => {
              throw toTokenAcquisitionError(error, describe);
            })
            .finally(() => this.#pending.delete(key));
          this.#pending.set(key, exchange);
        }
        return waitFor(exchange, timeoutMs, describe, signal);
      },
    };
  }

  #appFor(callerId: string): ConfidentialClientApplication {
    let app = this.#apps.get(callerId);
    if (app) {
      // Most recently used last, so the first key is the one to evict.
      this.#apps.delete(callerId);
    } else {
      app = new ConfidentialClientApplication(msalConfiguration(this.options, this.#authorityUrl));
    }
    this.#apps.set(callerId, app);
    if (this.#apps.size > this.#maxCallers) this.#apps.delete(this.#apps.keys().next().value!);
    return app;
  }
}
