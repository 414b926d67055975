import type { Resolvers } from '../../generated/resolvers.js';
import { ENUM_VALUES } from '../enums.js';
import { connectionResolvers } from './connection.js';
import { Alert, Machine, User } from './entities.js';
import { Mutation } from './mutation.js';
import { Query } from './query.js';
import { DateTime } from './scalars.js';
import { Subscription } from '../../live/resolvers.js';

/** Every resolver of the schema; enums map GraphQL names to Defender's wire strings from one constant. */
export const resolvers: Resolvers = {
  ...ENUM_VALUES,
  DateTime,
  Query,
  Mutation,
  Subscription,
  Machine,
  Alert,
  User,
  MachineConnection: connectionResolvers,
  AlertConnection: connectionResolvers,
};
