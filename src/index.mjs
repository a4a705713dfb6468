// ESM face of the CommonJS package: Node cannot see the named exports of a CJS module that
// tsx compiled, so ESM configs (`"type": "module"` projects) import these re-exports.
// test/unit/public-api.test.ts checks that this list matches src/index.ts.
import api from './index.ts';

export const {
  definePipeline,
  defineStage,
  SluiceError,
  ConfigError,
  ConfigLoadError,
  StageError,
  WorkerExitError,
  SourceError,
  SinkError,
  AbortedError,
  ClusterError,
  PoisonBatchError,
  describeCause,
  isError,
  serializeError,
  deserializeError,
  userFrame,
  run,
} = api;
export default api;
