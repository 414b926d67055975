import { buildSchema, getNamedType, isObjectType } from 'graphql';
import type { GraphQLObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { DEFENDER_APIS } from '../../../src/defender/apis.js';
import { resolvers } from '../../../src/graphql/resolvers/index.js';
import { loadTypeDefs } from '../../../src/graphql/schema.js';
import type { Carried, ParentKind, Relationship, Source, TypeSources } from '../../../src/graphql/sources.js';
import { SOURCES, isFree, perParentSources, relationshipOf } from '../../../src/graphql/sources.js';

const schema = buildSchema(loadTypeDefs(), { assumeValidSDL: true });
const ENTITIES = ['Machine', 'User', 'Alert'] as const;
const TABLE = SOURCES as Record<string, TypeSources>;

function objectType(name: string): GraphQLObjectType {
  const type = schema.getType(name);
  if (!isObjectType(type)) throw new Error(`${name} is not an object type`);
  return type;
}

/** The entity a field's value holds: itself, or a connection's node. */
function entityOf(typeName: string): string | undefined {
  if ((ENTITIES as readonly string[]).includes(typeName)) return typeName;
  const node = schema.getType(typeName.replace(/Connection$/, 'Edge'));
  if (typeName.endsWith('Connection') && isObjectType(node))
    return getNamedType(node.getFields()['node']!.type).name;
  return undefined;
}

/** Every field of Query and of the entities whose value is (a list or page of) an entity. */
function schemaRelationships(): string[] {
  return ['Query', ...ENTITIES].flatMap((type) =>
    Object.values(objectType(type).getFields())
      .filter((field) => entityOf(getNamedType(field.type).name) !== undefined)
      .map((field) => `${type}.${field.name}`),
  );
}

function tableRelationships(): [string, string, Relationship][] {
  return Object.entries(TABLE).flatMap(([type, sources]) =>
    Object.entries(sources.relationships).map(
      ([field, r]) => [type, field, r] as [string, string, Relationship],
    ),
  );
}

function routesOf(source: Source): string[] {
  switch (source.kind) {
    case 'perParent':
      return [source.api, ...(source.primes ? [source.primes] : [])];
    case 'byId':
      return [source.single, source.list];
    case 'byName':
      return [source.api, source.primes];
    case 'page':
      return [source.api, ...(source.primes ? [source.primes] : [])];
    default:
      return [];
  }
}

function fieldsCarried(carried: Carried): readonly string[] {
  return 'only' in carried ? carried.only : carried.allBut;
}

describe('the source table', () => {
  it('has an entry for every relationship field of the schema, and none for anything else', () => {
    expect(
      tableRelationships()
        .map(([type, field]) => `${type}.${field}`)
        .sort(),
    ).toEqual(schemaRelationships().sort());
  });

  it("says each relationship's type as the schema does (a page's node type for a connection)", () => {
    for (const [type, field, relationship] of tableRelationships()) {
      const value = getNamedType(objectType(type).getFields()[field]!.type).name;
      expect(entityOf(value), `${type}.${field}`).toBe(relationship.type);
    }
  });

  it('names only Defender APIs for its routes', () => {
    const routes = [
      ...tableRelationships().flatMap(([, , r]) => r.sources.flatMap(routesOf)),
      ...Object.values(TABLE).flatMap((t) => Object.values(t.records).flatMap((s) => routesOf(s as Source))),
    ];
    expect(routes.length).toBeGreaterThan(10);
    for (const route of routes) expect(DEFENDER_APIS, route).toContain(route);
  });

  it('lists as carried only fields of the type', () => {
    for (const type of ENTITIES) {
      const fields = Object.keys(objectType(type).getFields());
      for (const carried of Object.values(SOURCES[type].carried) as Carried[]) {
        for (const field of fieldsCarried(carried)) expect(fields, `${type}.${field}`).toContain(field);
      }
    }
  });

  it('gives every partial kind a way to load its full record, and keys that kind carries for its relationships', () => {
    for (const type of ENTITIES) {
      for (const [kind, carried] of Object.entries(SOURCES[type].carried) as [ParentKind, Carried][]) {
        expect(SOURCES[type].records, `${type} ${kind}`).toHaveProperty(kind);
        if (!('only' in carried)) continue;
        for (const [field, relationship] of Object.entries(SOURCES[type].relationships) as [
          string,
          Relationship,
        ][]) {
          const source = relationship.sources[0]!;
          if (source.kind === 'perParent')
            expect(carried.only, `${type}.${field} on ${kind}`).toContain(source.key);
        }
      }
    }
  });

  it('makes relationships and carried fields free, and every other field of a partial parent cost its record', () => {
    expect(isFree('Machine', 'alertRef', 'computerDnsName')).toBe(true);
    expect(isFree('Machine', 'alertRef', 'logonUsers')).toBe(true);
    expect(isFree('Machine', 'alertRef', 'osPlatform')).toBe(false);
    expect(isFree('Machine', 'record', 'osPlatform')).toBe(true);
    expect(isFree('User', 'nameRef', 'alerts')).toBe(true);
    expect(isFree('User', 'alertRef', 'firstSeen')).toBe(false);
    expect(isFree('Alert', 'listed', 'title')).toBe(true);
    expect(isFree('Alert', 'listed', 'evidence')).toBe(false);
    expect(isFree('Alert', 'record', 'evidence')).toBe(true);
  });

  it('has a resolver for every field a partial parent does not carry (which loads the record)', () => {
    const byType = resolvers as unknown as Record<string, Record<string, unknown>>;
    for (const type of ENTITIES) {
      for (const kind of Object.keys(SOURCES[type].carried) as ParentKind[]) {
        const lacking = Object.keys(objectType(type).getFields()).filter((f) => !isFree(type, kind, f));
        expect(lacking.length, `${type} ${kind}`).toBeGreaterThan(0);
        for (const field of lacking) expect(byType[type], `${type}.${field}`).toHaveProperty(field);
      }
    }
  });

  it('defines each per-parent route once, searches through its own relationships', () => {
    const perParent = perParentSources();
    expect(new Set(perParent.map((s) => s.api)).size).toBe(perParent.length);
    expect(perParent.map((s) => s.api).sort()).toEqual([
      'alerts/{id}/user',
      'machines/{id}/alerts',
      'machines/{id}/logonusers',
      'users/{id}/alerts',
      'users/{id}/machines',
    ]);
    const search = SOURCES.User.records.nameRef;
    const through = relationshipOf('User', search.through)!;
    expect(through.sources[0]!.kind).toBe('perParent');
    expect(relationshipOf(through.type, search.then)?.sources[0]!.kind).toBe('perParent');
  });
});
