import type { CodegenConfig } from '@graphql-codegen/cli';
import { ENUM_VALUES } from './src/graphql/enums.js';

/** Resolvers receive Defender's DTOs as they came off the wire, or the shapes in `src/graphql/parents.ts`. */
const DTO = '../defender/types.js';
const PARENTS = '../graphql/parents.js';

/**
 * Each enum mapped to its own generated type (the union of its wire strings). Without this, codegen 6 types
 * every enum-valued field's resolver result as `null` when `enumValues` gives explicit values
 * (dotansimha/graphql-code-generator#10204).
 */
const ENUM_SELF_MAPPERS = Object.fromEntries(Object.keys(ENUM_VALUES).map((name) => [name, name]));

/**
 * `npm run codegen` writes `src/generated/resolvers.ts` (committed, so `npm start` needs no codegen);
 * `npm run codegen:check` fails when that file is stale.
 */
const config: CodegenConfig = {
  schema: 'schema/*.graphql',
  generates: {
    'src/generated/resolvers.ts': {
      plugins: ['typescript', 'typescript-resolvers'],
      config: {
        // Federation: `__resolveReference` on the entity types (Machine, Alert, User) is typed from their @keys.
        federation: true,
        useIndexSignature: true,
        useTypeImports: true,
        enumsAsTypes: true,
        contextType: '../graphql/context.js#GraphQLContext',
        scalars: { DateTime: 'string' },
        // Resolvers return Defender's strings unchanged; the runtime enum resolvers use the same constant.
        enumValues: ENUM_VALUES,
        mappers: {
          Machine: `${PARENTS}#MachineParent`,
          Alert: `${DTO}#AlertDto`,
          IpAddress: `${DTO}#IpAddressDto`,
          VmMetadata: `${DTO}#VmMetadataDto`,
          AlertComment: `${DTO}#AlertCommentDto`,
          AlertEvidence: `${DTO}#AlertEvidenceDto`,
          RelatedUser: `${DTO}#RelatedUserDto`,
          LoggedOnUser: `${DTO}#LoggedOnUserDto`,
          User: `${PARENTS}#UserParent`,
          // The type arguments name the DTOs imported for the Machine and Alert mappers above.
          MachineConnection: `${PARENTS}#ConnectionParent<MachineParent>`,
          AlertConnection: `${PARENTS}#ConnectionParent<AlertDto>`,
          ...ENUM_SELF_MAPPERS,
        },
      },
    },
  },
};

export default config;
