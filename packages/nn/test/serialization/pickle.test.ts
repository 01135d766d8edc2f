// The restricted unpickler on hand-assembled opcode streams: values, memo, and the refusals.
// (Real torch pickles are covered by torch-checkpoint.test.ts.)
import { describe, expect, test } from 'vitest';
import { pickleGlobal, unpickle, type UnpickleHooks } from '../../src/serialization/pickle.js';
import { SerializationError } from '../../src/serialization/errors.js';

const noGlobals: UnpickleHooks = {
  file: 't.pkl',
  findGlobal: (m, n) => {
    throw new SerializationError('t.pkl', `refusing pickle global '${m}.${n}'`);
  },
};

/** Assemble a pickle from opcode bytes and strings (strings are written as ASCII). */
function pkl(...parts: Array<number | string | number[]>): Uint8Array {
  const out: number[] = [0x80, 2];
  for (const p of parts) {
    if (typeof p === 'number') out.push(p);
    else if (typeof p === 'string') for (const c of p) out.push(c.charCodeAt(0));
    else out.push(...p);
  }
  return new Uint8Array(out);
}
const f64be = (x: number) => Array.from(new Uint8Array(new Float64Array([x]).buffer)).reverse();
const u32 = (x: number) => Array.from(new Uint8Array(new Uint32Array([x]).buffer));

describe('unpickle values', () => {
  test('ints, longs, floats, strings, bytes, bools, None', () => {
    const bytes = pkl(
      0x28, // MARK
      0x4a,
      [0xff, 0xff, 0xff, 0xff], // BININT -1
      0x4b,
      200, // BININT1
      0x4d,
      [0x34, 0x12], // BININT2 0x1234
      0x8a,
      1,
      [0xff], // LONG1 -1
      0x8a,
      9,
      [0, 0, 0, 0, 0, 0, 0, 0, 1], // LONG1 2^64 -> bigint
      0x8a,
      0, // LONG1 0 (empty payload)
      0x47,
      f64be(-1.25e-3), // BINFLOAT
      0x58,
      u32(3),
      'abc', // BINUNICODE
      0x8c,
      2,
      [0xc3, 0xa9], // SHORT_BINUNICODE 'é'
      0x55,
      2,
      'py', // SHORT_BINSTRING
      0x43,
      2,
      [1, 2], // SHORT_BINBYTES
      0x88,
      0x89,
      0x4e, // True False None
      0x74, // TUPLE
      0x2e,
    );
    expect(unpickle(bytes, noGlobals).value).toEqual([
      -1,
      200,
      0x1234,
      -1,
      2n ** 64n,
      0,
      -1.25e-3,
      'abc',
      'é',
      'py',
      new Uint8Array([1, 2]),
      true,
      false,
      null,
    ]);
  });

  test('dicts keep order; lists, tuples and memo references', () => {
    const bytes = pkl(
      0x7d,
      0x71,
      0, // EMPTY_DICT, BINPUT 0
      0x28,
      0x8c,
      1,
      'z',
      0x4b,
      1,
      0x8c,
      1,
      'a',
      0x5d,
      0x71,
      1,
      0x28,
      0x4b,
      2,
      0x4b,
      3,
      0x65,
      0x75, // {z: 1, a: [2, 3]}
      0x8c,
      1,
      'b',
      0x68,
      1,
      0x73, // SETITEM b = memo[1] (same list)
      0x8c,
      1,
      't',
      0x4b,
      4,
      0x4b,
      5,
      0x86,
      0x73, // t = (4, 5)
      0x2e,
    );
    const d = unpickle(bytes, noGlobals).value as Map<string, unknown>;
    expect([...d.keys()]).toEqual(['z', 'a', 'b', 't']);
    expect(d.get('a')).toEqual([2, 3]);
    expect(d.get('b')).toBe(d.get('a'));
    expect(Object.isFrozen(d.get('t'))).toBe(true);
  });

  test('stops at STOP and reports where the next pickle starts', () => {
    const bytes = new Uint8Array([0x80, 2, 0x4b, 7, 0x2e, 0x80, 2, 0x4e, 0x2e]);
    const first = unpickle(bytes, noGlobals);
    expect(first).toEqual({ value: 7, end: 5 });
    expect(unpickle(bytes, noGlobals, first.end)).toEqual({ value: null, end: 9 });
  });

  test('REDUCE calls only allow-listed stand-ins', () => {
    const hooks: UnpickleHooks = {
      file: 't.pkl',
      findGlobal: (m, n) =>
        m === 'ok' && n === 'pair'
          ? pickleGlobal('ok', 'pair', (args) => ({ pair: [...args] }))
          : noGlobals.findGlobal(m, n),
    };
    expect(unpickle(pkl(0x63, 'ok\npair\n', 0x4b, 1, 0x4b, 2, 0x86, 0x52, 0x2e), hooks).value).toEqual({
      pair: [1, 2],
    });
    expect(() => unpickle(pkl(0x63, 'os\nsystem\n', 0x2e), hooks)).toThrow("refusing pickle global 'os.system'");
    expect(() => unpickle(pkl(0x8c, 2, 'os', 0x8c, 5, 'popen', 0x93, 0x2e), hooks)).toThrow(
      "refusing pickle global 'os.popen'",
    );
  });
});

describe('unpickle refusals', () => {
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['unknown opcode', pkl(0x81, 0x2e), /unsupported opcode 0x81 \(NEWOBJ\)/],
    [
      'calling a non-callable',
      pkl(0x4b, 1, 0x29, 0x52, 0x2e),
      /REDUCE calls a number, which is not an allowed callable/,
    ],
    ['BUILD on a list', pkl(0x5d, 0x7d, 0x62, 0x2e), /BUILD \(set object state\) on a list/],
    ['memo miss', pkl(0x68, 5, 0x2e), /memo entry 5 was never stored/],
    ['stack underflow', pkl(0x30, 0x2e), /stack underflow/],
    ['underflow across a MARK', pkl(0x4b, 1, 0x28, 0x85, 0x2e), /stack underflow/],
    ['SETITEM on a list', pkl(0x5d, 0x4b, 1, 0x4b, 2, 0x73, 0x2e), /SETITEM on something that is not a dict/],
    ['APPEND on a tuple', pkl(0x29, 0x4b, 1, 0x61, 0x2e), /APPEND on something that is not a list/],
    ['two values at STOP', pkl(0x4e, 0x4e, 0x2e), /STOP with 2 values/],
    ['truncated string', pkl(0x58, u32(100), 'abc'), /truncated/],
    ['no STOP', pkl(0x4e), /truncated/],
    ['persistent id without a loader', pkl(0x4e, 0x51, 0x2e), /persistent id without a loader/],
  ];
  for (const [what, bytes, message] of cases) {
    test(what, () => {
      expect(() => unpickle(bytes, noGlobals)).toThrow(message);
      expect(() => unpickle(bytes, noGlobals)).toThrow(SerializationError);
    });
  }
});
