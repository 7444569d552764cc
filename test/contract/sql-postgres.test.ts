import { createPostgresTestSql } from '../support/postgres.js';
import { describeSqlContract } from './sql.contract.js';

describeSqlContract({
  name: 'PostgreSQL',
  capabilities: new Set(['serializationFailures']),
  // A schema of its own per test (search_path), dropped afterwards. No skip when
  // PostgreSQL is down: the suite fails, saying so.
  create: () => createPostgresTestSql(),
});
