import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { composeServices } from '@apollo/composition';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserDto } from '../../src/defender/types.js';
import type { TestGateway } from '../helpers/gateway.js';
import { callKeys, startTestGateway } from '../helpers/gateway.js';

/**
 * Our subgraph beside a second one written for this test: a company directory that owns `Employee` and
 * references our `User` (by account name, as a directory knows it) and `Machine` (by Defender id). Both are
 * composed with `@apollo/composition` and served by `@apollo/gateway` in-process, which sends our subgraph the
 * shared secret as a router does.
 */

const SECRET = 'composition-test-router-secret';

const DIRECTORY_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

  type Query {
    employees: [Employee!]!
  }

  type Employee @key(fields: "upn") {
    upn: ID!
    name: String!
    account: User
    laptop: Machine
  }

  type User @key(fields: "accountName", resolvable: false) {
    accountName: String!
  }

  type Machine @key(fields: "id", resolvable: false) {
    id: ID!
  }
`;

interface Employee {
  readonly upn: string;
  readonly name: string;
  readonly accountName: string | null;
  readonly laptopId: string | null;
}

let gw: TestGateway;
let directory: ApolloServer;
let router: ApolloServer;
let employees: Employee[];
let supergraphSdl: string;

beforeAll(async () => {
  gw = await startTestGateway({ server: { routerSecret: SECRET } });
  const t = gw.sim.tenant;
  // Accounts whose name is theirs alone, so that a directory entry names one Defender account.
  const people = t.users
    .filter((u) => t.usersByAccountName(u.accountName).length === 1 && t.machinesOfUser(u).length > 0)
    .slice(0, 6);
  employees = [
    ...people.map((u: UserDto, i) => ({
      upn: `${u.accountName}@example.com`,
      name: `Employee ${i}`,
      accountName: u.accountName,
      laptopId: t.machinesOfUser(u)[0]!.id,
    })),
    { upn: 'contractor@example.com', name: 'A contractor', accountName: null, laptopId: null },
  ];

  directory = new ApolloServer({
    schema: buildSubgraphSchema({
      typeDefs: parse(DIRECTORY_SDL),
      resolvers: {
        Query: { employees: () => employees },
        Employee: {
          account: (e: Employee) => e.accountName && { __typename: 'User', accountName: e.accountName },
          laptop: (e: Employee) => e.laptopId && { __typename: 'Machine', id: e.laptopId },
        },
      },
    }),
    plugins: [ApolloServerPluginInlineTraceDisabled()],
  });
  const { url: directoryUrl } = await startStandaloneServer(directory, {
    listen: { port: 0, host: '127.0.0.1' },
  });

  // Our SDL as a schema registry gets it: `_service { sdl }`, asked with the router's secret.
  const ours = `${gw.url}/graphql`;
  const service = await gw.query<{ _service: { sdl: string } }>('{ _service { sdl } }', undefined, {
    'x-router-secret': SECRET,
  });
  const composed = composeServices([
    { name: 'defender', url: ours, typeDefs: parse(service.data!._service.sdl) },
    { name: 'directory', url: directoryUrl, typeDefs: parse(DIRECTORY_SDL) },
  ]);
  expect(composed.errors).toBeUndefined();
  supergraphSdl = composed.supergraphSdl!;

  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ url }) =>
      new RemoteGraphQLDataSource({
        url,
        willSendRequest: ({ request }) => {
          if (url === ours) request.http?.headers.set('x-router-secret', SECRET);
        },
      }),
  });
  router = new ApolloServer({ gateway });
  await router.start();
});

afterAll(async () => {
  await router?.stop();
  await directory?.stop();
  await gw?.close();
});

async function execute<D>(query: string): Promise<{ data?: D | null; errors?: readonly unknown[] }> {
  const response = await router.executeOperation({ query });
  if (response.body.kind !== 'single') throw new Error('expected a single result');
  return response.body.singleResult as { data?: D | null; errors?: readonly unknown[] };
}

describe('composition with a second subgraph', () => {
  it('composes into a supergraph where both subgraphs join on our keys', () => {
    expect(supergraphSdl).toContain('join__type(graph: DEFENDER, key: "id")');
    expect(supergraphSdl).toContain('join__type(graph: DEFENDER, key: "computerDnsName")');
    expect(supergraphSdl).toContain('join__type(graph: DEFENDER, key: "accountName")');
    expect(supergraphSdl).toContain('join__type(graph: DIRECTORY, key: "accountName", resolvable: false)');
  });

  it('answers a query crossing both subgraphs, with one batched machine lookup', async () => {
    gw.sim.resetCalls();
    const t = gw.sim.tenant;
    const res = await execute<{
      employees: {
        name: string;
        laptop: {
          computerDnsName: string | null;
          osPlatform: string | null;
          logonUsers: { id: string }[];
        } | null;
        account: { accountName: string; machines: { id: string }[] } | null;
      }[];
    }>(`{
      employees {
        name
        laptop { computerDnsName osPlatform logonUsers { id } }
        account { accountName machines { id } }
      }
    }`);
    expect(res.errors).toBeUndefined();

    const sorted = (ids: string[]) => [...ids].sort();
    expect(
      res.data!.employees.map((e) => ({
        ...e,
        account: e.account && { ...e.account, machines: sorted(e.account.machines.map((m) => m.id)) },
      })),
    ).toEqual(
      employees.map((e) => {
        const laptop = e.laptopId === null ? undefined : t.machineById(e.laptopId)!;
        return {
          name: e.name,
          laptop: laptop
            ? {
                computerDnsName: laptop.computerDnsName,
                osPlatform: laptop.osPlatform,
                logonUsers: t.logonUsers(laptop.id).map((u) => ({ id: u.id })),
              }
            : null,
          account: e.accountName
            ? {
                accountName: e.accountName,
                machines: sorted(t.machinesOfUser(t.usersByAccountName(e.accountName)[0]!).map((m) => m.id)),
              }
            : null,
        };
      }),
    );

    // Exactly what Defender saw: the laptops in one `id in (…)` lookup, each laptop's logon users once, and
    // each account's machines once; the accounts themselves cost nothing.
    const laptops = [...new Set(employees.flatMap((e) => (e.laptopId ? [e.laptopId] : [])))];
    const accounts = employees.flatMap((e) => (e.accountName ? [e.accountName.toLowerCase()] : []));
    expect(
      callKeys(gw.sim.calls)
        .map((k) => (k.startsWith('users/') ? k.toLowerCase() : k))
        .sort(),
    ).toEqual(
      [
        `machines?$filter=id in (${laptops.map((id) => `'${id}'`).join(',')})&$top=${laptops.length}`,
        ...laptops.map((id) => `machines/{id}/logonusers ${id}`),
        ...accounts.map((name) => `users/{id}/machines ${name}`),
      ].sort(),
    );
  });

  it("keeps an entity whose relationship fails: only that laptop's alerts are null, with their error", async () => {
    const t = gw.sim.tenant;
    const failing = employees[0]!.laptopId!;
    gw.sim.injectFault({ api: 'machines/{id}/alerts', id: failing, fault: { kind: 'status', status: 503 } });
    try {
      const res = await execute<{ employees: { laptop: { osPlatform: string | null } | null }[] }>(
        '{ employees { laptop { osPlatform alerts { id } } } }',
      );
      expect(res.data!.employees).toEqual(
        employees.map((e) => {
          if (e.laptopId === null) return { laptop: null };
          const { osPlatform } = t.machineById(e.laptopId)!;
          const alerts = t.alertsOfMachine(e.laptopId).map((a) => ({ id: a.id }));
          return { laptop: { osPlatform, alerts: e.laptopId === failing ? null : alerts } };
        }),
      );
      expect(res.errors).toEqual([
        expect.objectContaining({
          path: ['employees', 0, 'laptop', 'alerts'],
          extensions: expect.objectContaining({ code: 'UPSTREAM_UNAVAILABLE' }),
        }),
      ]);
    } finally {
      gw.sim.clearFaults();
    }
  });

  it('asks our subgraph nothing for fields the directory holds', async () => {
    gw.sim.resetCalls();
    const res = await execute<{ employees: { name: string; laptop: { id: string } | null }[] }>(
      '{ employees { name laptop { id } account { accountName } } }',
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.employees.map((e) => e.laptop?.id ?? null)).toEqual(employees.map((e) => e.laptopId));
    expect(gw.sim.calls).toHaveLength(0);
  });
});
