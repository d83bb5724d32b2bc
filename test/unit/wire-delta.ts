/**
 * Test helper: a delta written the readable way (one object per function) turned into the wire
 * form (`DeltaColumns`), as the runtime's encoder does. Not a spec file.
 */
import type { DeltaMessage, FunctionDelta, MemoDelta, SpanDelta } from '../../src/protocol/runtime';
import { encodeDeltaColumns } from '../../src/runtime/node/delta-encoder';

export interface ReadableDelta {
  type: 'delta';
  at: number;
  fns: FunctionDelta[];
  spans?: SpanDelta[];
  memos?: MemoDelta[];
}

export function wireDelta({ fns, ...rest }: ReadableDelta): DeltaMessage {
  return { ...rest, n: fns.length, cols: encodeDeltaColumns(fns) };
}
