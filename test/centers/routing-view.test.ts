import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { CoalescingCapacityLedger } from '../../src/centers/capacity-ledger';
import { MongoCapacityCounters } from '../../src/store/capacity';
import {
  NoCenterForDistrictError,
  RoutingView,
  type CapacityLedger,
  type RoutableCenter,
} from '../../src/centers/routing';
import { connectMongo } from '../../src/store/mongo';
import { silentLogger } from '../support/logger';
import { dropDatabase, mongoUrlFor, requireMongo } from '../support/services';

const centers: RoutableCenter[] = [
  { code: 'GD', districts: ['5141', '5349'], dailyCapacity: 100 },
  { code: 'GD2', districts: ['5349'], dailyCapacity: 60 },
];

/** In-memory ledger that counts its reads and writes. */
function countingLedger(): CapacityLedger & { reads: number; writes: number; used: Record<string, number> } {
  const l = {
    reads: 0,
    writes: 0,
    used: {} as Record<string, number>,
    async usedOn(_day: string, codes: readonly string[]) {
      l.reads++;
      return Object.fromEntries(codes.filter((c) => l.used[c] !== undefined).map((c) => [c, l.used[c]!]));
    },
    async consume(center: string, _day: string, count = 1) {
      l.writes++;
      l.used[center] = (l.used[center] ?? 0) + count;
      return l.used[center]!;
    },
  };
  return l;
}

describe('centers/RoutingView (cached usage and states)', () => {
  const at = new Date('2026-11-10T02:00:00Z');

  it('reads usage and center states once for a whole batch, and the batch still splits by capacity left', async () => {
    const ledger = countingLedger();
    let stateReads = 0;
    const view = new RoutingView(
      centers,
      ledger,
      { interruptedCenters: async () => (stateReads++, new Set<string>()) },
      { clock: () => 0 },
    );
    const picks = await Promise.all(Array.from({ length: 8 }, () => view.route('5349', { at, count: 10 })));
    expect(ledger.reads).to.equal(1);
    expect(stateReads).to.equal(1);
    expect(ledger.writes).to.equal(8);
    // The same split as eight orders routed one by one: GD 100 and GD2 60 → GD takes 6, GD2 2.
    expect(picks.map((p) => p.center)).to.deep.equal(['GD', 'GD', 'GD', 'GD', 'GD', 'GD2', 'GD', 'GD2']);
    expect(ledger.used).to.deep.equal({ GD: 60, GD2: 20 });
  });

  it('sees another gateway’s reservations and an interruption after the time to live, not before', async () => {
    const ledger = countingLedger();
    let now = 0;
    let interrupted = new Set<string>();
    const view = new RoutingView(
      centers,
      ledger,
      { interruptedCenters: async () => interrupted },
      { ttlMs: 1000, clock: () => now },
    );
    expect((await view.route('5349', { at })).center).to.equal('GD');
    interrupted = new Set(['GD']);
    now = 999;
    expect((await view.route('5349', { at })).center).to.equal('GD');
    now = 1000;
    expect((await view.route('5349', { at })).center).to.equal('GD2');
    expect(ledger.reads).to.equal(2);
  });

  it('fails before any read or reservation when no center serves the district', async () => {
    const ledger = countingLedger();
    const view = new RoutingView(centers, ledger, { interruptedCenters: async () => new Set() });
    let err: unknown;
    try {
      await view.route('0000', { at });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(NoCenterForDistrictError);
    expect(ledger.reads + ledger.writes).to.equal(0);
  });
});

describe('centers/CoalescingCapacityLedger merges concurrent increments (MongoDB)', function () {
  this.timeout(20000);
  const url = mongoUrlFor('centers_capacity_merge');
  let connection: Connection;

  before(async () => {
    await requireMongo();
    await dropDatabase(url);
    connection = await connectMongo(url, silentLogger());
  });
  after(async () => {
    await connection?.close();
    await dropDatabase(url);
  });

  it('gives each of 200 concurrent callers its own running total and counts all of them in few round trips', async () => {
    const ledger = new CoalescingCapacityLedger(new MongoCapacityCounters(connection));
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => ledger.consume('GD', '2026-11-03', (i % 3) + 1)),
    );
    const expected = Array.from({ length: 200 }, (_, i) => (i % 3) + 1).reduce((s, n) => s + n, 0);
    expect(await ledger.usedOn('2026-11-03', ['GD'])).to.deep.equal({ GD: expected });
    expect(new Set(results).size).to.equal(200);
    expect(Math.max(...results)).to.equal(expected);
  });
});
