import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { ValidationRule } from 'graphql';

/**
 * Structural limits, checked while parsing and validating, so a rejected document never executes and costs no
 * Defender call (the upstream cost itself is the estimate's job, see cost.ts). Sized for this schema: the
 * deepest useful query, `alerts { edges { node { user { machines { logonUsers { id } } } } } }`, has depth 7.
 */
export const QUERY_LIMITS = {
  maxDepth: 10,
  maxAliases: 15,
  maxDirectives: 50,
  maxTokens: 1_000,
  /**
   * Nesting of a request's `variables` and `extensions` (objects and lists, the outer object included); deeper is
   * BAD_USER_INPUT before parsing. The deepest input of this schema, `{ filter: { ids: [ … ] } }`, has depth 3.
   */
  maxInputDepth: 32,
  /** Request body, in bytes; larger is 413 before parsing. */
  maxBodyBytes: 100_000,
} as const;

export function queryLimits(): {
  plugins: ApolloServerPlugin[];
  validationRules: ValidationRule[];
} {
  const armor = new ApolloArmor({
    maxDepth: { n: QUERY_LIMITS.maxDepth, flattenFragments: true },
    maxAliases: { n: QUERY_LIMITS.maxAliases },
    maxDirectives: { n: QUERY_LIMITS.maxDirectives },
    // graphql-js counts tokens while parsing (Apollo's `parseOptions.maxTokens`: a parse failure, GRAPHQL_VALIDATION_FAILED, 400);
    // armor's own check re-lexes the document and surfaces as a 500.
    maxTokens: { enabled: false },
    // Cost is what Defender calls an operation needs: the upstream estimate (cost.ts) bounds it; armor's
    // structural cost would refuse cheap, cached pages of 500 items.
    costLimit: { enabled: false },
    // Suggestions are stripped from every message in one place, the error formatter (errors.ts); armor's mask
    // misses enum suggestions and leaves "[Suggestion hidden]?" in the others.
    blockFieldSuggestion: { enabled: false },
  });
  const { plugins, validationRules } = armor.protect();
  // armor's declarations point at @apollo/server's CommonJS types; the plugins are plain objects either way.
  return { plugins: plugins as unknown as ApolloServerPlugin[], validationRules };
}
