import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';

/**
 * `Cache-Control: no-store` on every GraphQL response, as Apollo's cache-control plugin set it (no field of this
 * schema carries a cache hint, so it never computed anything else), without that plugin: its `willResolveField`
 * ran for every field of every operation and made Apollo wrap every resolver of the schema, about a tenth of
 * the execution path. Answers depend on who asks and on Defender's data: no shared cache may keep them.
 */
export function noStorePlugins(): ApolloServerPlugin[] {
  return [
    ApolloServerPluginCacheControlDisabled(),
    {
      async requestDidStart() {
        return {
          async willSendResponse({ response }) {
            if (!response.http.headers.has('cache-control'))
              response.http.headers.set('cache-control', 'no-store');
          },
        };
      },
    },
  ];
}
