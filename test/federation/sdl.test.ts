import { readFileSync } from 'node:fs';
import { buildSubgraphSchema, printSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLNamedType } from 'graphql';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../helpers/gateway.js';
import { startTestGateway } from '../helpers/gateway.js';

/** The SDL published to the schema registry and given to frontend teams (`npm run sdl`). */
const COMMITTED = readFileSync(new URL('../../schema.subgraph.graphql', import.meta.url), 'utf8');

let gw: TestGateway;
let served: string;
beforeAll(async () => {
  gw = await startTestGateway();
  const res = await gw.query<{ _service: { sdl: string } }>('{ _service { sdl } }');
  expect(res.errors).toBeUndefined();
  served = res.data!._service.sdl;
});
afterAll(() => gw?.close());

/** Two SDLs of one subgraph, whatever their formatting or how much of the federation spec they spell out. */
const canonical = (sdl: string) => printSubgraphSchema(buildSubgraphSchema(parse(sdl)));

describe('the subgraph SDL', () => {
  it('is what _service { sdl } answers, with no upstream call', () => {
    expect(canonical(COMMITTED)).toBe(canonical(served));
    expect(gw.sim.calls).toHaveLength(0);
  });

  it('makes Machine, Alert and User entities, with the keys a supergraph joins on', () => {
    const keys = (type: string) =>
      [...COMMITTED.matchAll(new RegExp(`^type ${type} (.*) \\{$`, 'gm'))].map((m) => m[1]);
    expect(keys('Machine')).toEqual(['@key(fields: "id") @key(fields: "computerDnsName")']);
    expect(keys('Alert')).toEqual(['@key(fields: "id")']);
    expect(keys('User')).toEqual(['@key(fields: "id") @key(fields: "accountName")']);
  });

  it('describes every type, field, argument and enum value, for the teams that query it', () => {
    const schema = buildSubgraphSchema(parse(COMMITTED));
    const own = (type: GraphQLNamedType) =>
      !type.name.startsWith('_') &&
      !['Query', 'String', 'Int', 'Float', 'Boolean', 'ID'].includes(type.name) &&
      !type.name.includes('__');
    const undescribed: string[] = [];
    const check = (name: string, description: string | null | undefined) => {
      if (!description?.trim()) undescribed.push(name);
    };
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name === 'Query' || own(type)) check(type.name, type.description);
      if (!(type.name === 'Query' || own(type))) continue;
      if ('getFields' in type) {
        for (const field of Object.values(type.getFields())) {
          if (field.name.startsWith('_')) continue;
          check(`${type.name}.${field.name}`, field.description);
          for (const arg of 'args' in field ? field.args : []) {
            check(`${type.name}.${field.name}(${arg.name})`, arg.description);
          }
        }
      }
      if ('getValues' in type) {
        for (const value of type.getValues()) check(`${type.name}.${value.name}`, value.description);
      }
    }
    expect(undescribed).toEqual([]);
  });
});
