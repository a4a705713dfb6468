/**
 * Where a resumable run with stateful stages is cut (runtime/unit-cut.ts): everything
 * downstream of a stage with flush() is the tail, run again at the commit over the one place
 * staged for it; sinks are split between the parts; two places are refused; and a part's
 * topology is numbered as its scheduler sees it.
 */
import { ConfigError } from '../../../src/errors';
import { cutAtState, localTopology } from '../../../src/runtime/unit-cut';

const graph = (inputs: number[], sinkFroms: number[]) => ({
  stages: inputs.map((input, i) => ({ name: `s${i}`, input })),
  sinks: sinkFroms.map((from) => ({ from })),
});

describe('cutAtState', () => {
  it('no stateful stage: no cut', () => {
    expect(cutAtState(graph([-1, 0, 1], [2]), [false, false, false])).toBeUndefined();
  });

  it('a line: the stateful stage and everything after it is the tail, cut at the stage before it', () => {
    // source → s0 → s1 → s2 (flush) → s3 (encoder) → sink 0; s1 → sink 1
    expect(cutAtState(graph([-1, 0, 1, 2], [3, 1]), [false, false, true, false])).toEqual({ head: [0, 1], tail: [2, 3], at: 1, headSinks: [1], tailSinks: [0] });
  });

  it('the first stage stateful: cut at the source', () => {
    expect(cutAtState(graph([-1, 0], [1]), [true, false])).toEqual({ head: [], tail: [0, 1], at: -1, headSinks: [], tailSinks: [0] });
  });

  it('two stateful stages in a line, and a branch beside the tail that stays in the head', () => {
    // s0 → s1 (flush) → s2 (flush) → sink 0; s0 → s3 → sink 1
    expect(cutAtState(graph([-1, 0, 1, 0], [2, 3]), [false, true, true, false])).toEqual({ head: [0, 3], tail: [1, 2], at: 0, headSinks: [1], tailSinks: [0] });
  });

  it('stateful stages reading two places are refused, naming them', () => {
    const g = graph([-1, 0, -1], [1, 2]);
    expect(() => cutAtState(g, [false, true, true])).toThrow(ConfigError);
    expect(() => cutAtState(g, [false, true, true])).toThrow('read from 2 different places ("s1", "s2")');
  });
});

describe('localTopology', () => {
  it('numbers a part of the graph from 0, its source place as -1', () => {
    // tail [2, 3] of the line above, cut at 1: s2 reads the replayed cut, s3 reads s2, sink reads s3.
    expect(localTopology([2, 3], [-1, 0, 1, 2], [3], 1)).toEqual({ inputs: [-1, 0], sinkInputs: [1] });
    // its head [0, 1]: the cut's staging reads s1.
    expect(localTopology([0, 1], [-1, 0, 1, 2], [1, 1])).toEqual({ inputs: [-1, 0], sinkInputs: [1, 1] });
  });

  it('a place outside the part is a bug, said', () => {
    expect(() => localTopology([2], [-1, 0, 1], [2])).toThrow('not in this part');
  });
});
