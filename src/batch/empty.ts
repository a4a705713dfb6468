/**
 * A zero-row batch rebuilt from its schema. apache-arrow 21's `new Table({ col: emptyVector })`
 * puts the Vector itself where its Data belongs (no buffers, no `children`), and the hand-offs
 * that walk a batch's buffers then failed ("reading 'buffer'") on a stage that filtered every row
 * of a batch away. Builders make well-formed empty columns of any type.
 */
import { RecordBatch, Struct, makeData, vectorFromArray, type Data } from 'apache-arrow';

export function wellFormedEmpty(batch: RecordBatch): RecordBatch {
  if (batch.numRows !== 0) return batch;
  const { schema } = batch;
  const children = schema.fields.map((f) => vectorFromArray([], f.type).data[0] as Data);
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: 0, nullCount: 0, children }));
}
