// ESM face of `sluice/testing` (see src/index.mjs for why it exists).
// test/unit/testing/public-api.test.ts checks that this list matches src/testing/index.ts.
import api from './index.ts';

export const {
  batchFromRows,
  batchFromColumns,
  rowsOf,
  sameValue,
  ExactTime,
  ExactDecimal,
  diffBatches,
  toEqualBatch,
  registerMatchers,
  runStage,
  startStage,
  defineCases,
} = api;
export default api;
