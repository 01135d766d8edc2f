// ShardedLinear against the plain Linear at a small size with a forced small shard limit:
// forward, gradients, init, an SGD step, and the joined state-dict entry (`weight`) in both
// directions. The paper-sized case (FC6 over lavapipe's 128 MiB binding) is in @spine/models.
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { DEFAULT_SHARD_BYTES, Linear, ReLU, SGD, Sequential, ShardedLinear, shardRows } from '../../src/index.js';

beforeAll(async () => {
  await T.ready();
});

const IN = 13;
const OUT = 10;
/** Three rows of 13 floats: blocks of 3, 3, 2, 2 rows. */
const SMALL = 4 * IN * 3;

function seededData(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

async function joinedGrad(m: ShardedLinear): Promise<Float32Array> {
  const parts = await Promise.all(m.shards().map((w) => w.grad!.data() as Promise<Float32Array>));
  return Float32Array.from(parts.flatMap((p) => Array.from(p)));
}

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number): void {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  expect(worst).toBeLessThanOrEqual(tol);
}

describe('shardRows', () => {
  it('splits rows as evenly as possible with every block under the limit', () => {
    expect(shardRows(OUT, IN, SMALL)).toEqual([3, 3, 2, 2]);
    expect(shardRows(OUT, IN, 4 * IN * OUT)).toEqual([OUT]);
    // The paper's FC6: 4096 x 9216 floats = 144 MiB -> two blocks of 72 MiB.
    expect(shardRows(4096, 9216, DEFAULT_SHARD_BYTES)).toEqual([2048, 2048]);
    expect(() => shardRows(4, 100, 399)).toThrow(
      /one weight row of 100 floats \(400 bytes\) exceeds the shard limit of 399 bytes/,
    );
  });
});

describe('ShardedLinear', () => {
  it('one block is a Linear: parameter `weight`, same init for the same seed', async () => {
    T.manualSeed(3);
    const plain = new Linear(IN, OUT);
    T.manualSeed(3);
    const one = new ShardedLinear(IN, OUT);
    expect([...one.stateDict().keys()]).toEqual(['weight', 'bias']);
    expect(Array.from(await one.param('weight').data())).toEqual(Array.from(await plain.param('weight').data()));
    expect(Array.from(await one.param('bias').data())).toEqual(Array.from(await plain.param('bias').data()));
  });

  it('several blocks draw the same initial weights as one [out, in] weight', async () => {
    T.manualSeed(5);
    const plain = new Linear(IN, OUT);
    T.manualSeed(5);
    const sharded = new ShardedLinear(IN, OUT, { maxShardBytes: SMALL });
    expect(sharded.shardRows).toEqual([3, 3, 2, 2]);
    expect([...sharded.stateDict().keys()]).toEqual([
      'weight_shard0',
      'weight_shard1',
      'weight_shard2',
      'weight_shard3',
      'bias',
    ]);
    const joined = await sharded.stateDictData();
    expect([...joined.keys()]).toEqual(['weight', 'bias']);
    expect(joined.get('weight')!.shape).toEqual([OUT, IN]);
    expect(Array.from(joined.get('weight')!.data as Float32Array)).toEqual(
      Array.from(await plain.param('weight').data()),
    );
    expect(Array.from(joined.get('bias')!.data as Float32Array)).toEqual(Array.from(await plain.param('bias').data()));
  });

  it('forward and gradients equal the plain Linear with the same weights', async () => {
    const plain = new Linear(IN, OUT);
    plain.loadStateDict(
      new Map([
        ['weight', { shape: [OUT, IN], data: seededData(OUT * IN, 1) }],
        ['bias', { shape: [OUT], data: seededData(OUT, 2) }],
      ]),
    );
    const sharded = new ShardedLinear(IN, OUT, { maxShardBytes: SMALL });
    sharded.loadStateDict(plain.stateDict()); // a GPU `weight` cut into the blocks
    const run = async (m: Linear | ShardedLinear) => {
      const x = T.tensor(seededData(5 * IN, 3), [5, IN]);
      x.requiresGrad = true;
      const y = m.forward(x);
      T.sum(T.mul(y, T.tensor(seededData(5 * OUT, 4), [5, OUT]))).backward();
      return { y: await y.data(), dx: await x.grad!.data(), db: await m.param('bias').grad!.data() };
    };
    const a = await run(plain);
    const b = await run(sharded);
    expect(b.y.length).toBe(5 * OUT);
    // Each output is the same dot product in both; x's gradient sums the blocks' parts, a
    // different order of the same terms.
    expectClose(b.y, a.y, 1e-6);
    expectClose(b.dx, a.dx, 1e-5);
    expectClose(b.db, a.db, 1e-6);
    expectClose(await joinedGrad(sharded), await plain.param('weight').grad!.data(), 1e-6);
    expect(Math.max(...Array.from(a.dx).map(Math.abs))).toBeGreaterThan(0.1); // not a vacuous comparison
  });

  it('an SGD step with momentum and weight decay moves the blocks as the whole weight moves', async () => {
    const plain = new Sequential(new Linear(IN, OUT), new ReLU(), new Linear(OUT, 2));
    const sharded = new Sequential(
      new ShardedLinear(IN, OUT, { maxShardBytes: SMALL }),
      new ReLU(),
      new ShardedLinear(OUT, 2),
    );
    sharded.loadStateDict(await plain.stateDictData());
    const step = (m: Sequential) => {
      const opt = new SGD(m.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
      for (let i = 0; i < 2; i++) {
        opt.zeroGrad();
        const loss = T.scope(() =>
          T.sum(
            T.mul(m.forward(T.tensor(seededData(4 * IN, 10 + i), [4, IN])), T.tensor(seededData(8, 20 + i), [4, 2])),
          ),
        );
        loss.backward();
        opt.step();
        loss.dispose();
      }
    };
    step(plain);
    step(sharded);
    const a = await plain.stateDictData();
    const b = await sharded.stateDictData();
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [k, e] of a) expectClose(b.get(k)!.data as Float32Array, e.data as Float32Array, 1e-5);
  });

  it('joined entries load into any block layout and into a plain Linear; a wrong shape names the key', async () => {
    const a = new Sequential(new ShardedLinear(IN, OUT, { maxShardBytes: SMALL }));
    const saved = await a.stateDictData();
    expect([...saved.keys()]).toEqual(['0.weight', '0.bias']);
    const other = new Sequential(new ShardedLinear(IN, OUT, { maxShardBytes: 4 * IN * 5 }));
    other.loadStateDict(saved);
    expect((other.at(0) as ShardedLinear).shardRows).toEqual([5, 5]);
    const plain = new Sequential(new Linear(IN, OUT));
    plain.loadStateDict(saved);
    expect(Array.from((await other.stateDictData()).get('0.weight')!.data as Float32Array)).toEqual(
      Array.from(saved.get('0.weight')!.data as Float32Array),
    );
    expect(Array.from(await plain.at(0).param('weight').data())).toEqual(
      Array.from(saved.get('0.weight')!.data as Float32Array),
    );
    const wrong = new Map(saved).set('0.weight', { shape: [OUT + 1, IN], data: new Float32Array((OUT + 1) * IN) });
    expect(() => a.loadStateDict(wrong)).toThrow(
      /'0\.weight' has shape \[11, 13\] in the checkpoint but \[10, 13\] in the model/,
    );
  });
});
