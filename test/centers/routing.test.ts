import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { CoalescingCapacityLedger } from '../../src/centers/capacity-ledger';
import { MongoCapacityCounters } from '../../src/store/capacity';
import { loadCenterRegistry } from '../../src/centers/registry';
import {
  capacityDay,
  chooseCenter,
  NoCenterForDistrictError,
  routeAndReserve,
  type RoutableCenter,
} from '../../src/centers/routing';
import { connectMongo } from '../../src/store/mongo';
import { silentLogger } from '../support/logger';
import { dropDatabase, mongoUrlFor, requireMongo } from '../support/services';

const centers: RoutableCenter[] = [
  { code: 'GD', districts: ['5141', '5349', '5100'], dailyCapacity: 100 },
  { code: 'GD2', districts: ['5349', '5300'], dailyCapacity: 60 },
  { code: 'HK', districts: ['5345'], dailyCapacity: 50 },
];
const none = new Set<string>();

describe('centers/routing (pure)', () => {
  it('routes by customs district when one center serves it', () => {
    expect(chooseCenter({ customsCode: '5345', centers, usedToday: {}, interrupted: none }).center).to.equal('HK');
    expect(chooseCenter({ customsCode: '5141', centers, usedToday: {}, interrupted: none }).center).to.equal('GD');
  });

  it('picks the center with the most capacity left today where several serve the district', () => {
    expect(chooseCenter({ customsCode: '5349', centers, usedToday: { GD: 30 }, interrupted: none }).center).to.equal(
      'GD',
    ); // 70 left vs 60
    const d = chooseCenter({ customsCode: '5349', centers, usedToday: { GD: 50, GD2: 5 }, interrupted: none }); // 50 vs 55
    expect(d.center).to.equal('GD2');
    expect(d.remaining).to.equal(55);
    expect(d.candidates).to.deep.equal([
      { code: 'GD', remaining: 50, interrupted: false },
      { code: 'GD2', remaining: 55, interrupted: false },
    ]);
  });

  it('keeps the registry order on a tie', () => {
    expect(chooseCenter({ customsCode: '5349', centers, usedToday: { GD: 40 }, interrupted: none }).center).to.equal(
      'GD',
    );
  });

  it('skips an interrupted center while another eligible one is available, even with less capacity', () => {
    const d = chooseCenter({ customsCode: '5349', centers, usedToday: { GD2: 59 }, interrupted: new Set(['GD']) });
    expect(d).to.include({ center: 'GD2', allInterrupted: false });
  });

  it('still routes to an interrupted center when it is the only one (the declaration waits in its queue)', () => {
    const d = chooseCenter({ customsCode: '5345', centers, usedToday: {}, interrupted: new Set(['HK']) });
    expect(d).to.include({ center: 'HK', allInterrupted: true });
    const both = chooseCenter({
      customsCode: '5349',
      centers,
      usedToday: { GD: 90 },
      interrupted: new Set(['GD', 'GD2']),
    });
    expect(both).to.include({ center: 'GD2', allInterrupted: true });
  });

  it('still routes to a center whose capacity is used up when nothing else serves the district', () => {
    expect(chooseCenter({ customsCode: '5345', centers, usedToday: { HK: 80 }, interrupted: none })).to.include({
      center: 'HK',
      remaining: -30,
    });
  });

  it('fails clearly when no center serves the district', () => {
    expect(() => chooseCenter({ customsCode: '2200', centers, usedToday: {}, interrupted: none })).to.throw(
      NoCenterForDistrictError,
      /no clearance center serves customs district 2200 \(centers: GD, GD2, HK\)/,
    );
  });

  it('the shipped registry routes the four example districts', () => {
    const registry = loadCenterRegistry();
    const route = (d: string) =>
      chooseCenter({ customsCode: d, centers: registry.centers, usedToday: {}, interrupted: none }).center;
    expect([route('5141'), route('5345'), route('5349'), route('5795')]).to.deep.equal(['GD', 'HK', 'GD', 'MO']);
  });

  it('counts capacity per China calendar day (UTC+8)', () => {
    expect(capacityDay(new Date('2026-11-28T15:59:59Z'))).to.equal('2026-11-28');
    expect(capacityDay(new Date('2026-11-28T16:00:00Z'))).to.equal('2026-11-29');
  });
});

describe('centers/capacity-ledger + routeAndReserve (MongoDB)', function () {
  this.timeout(20000);
  const url = mongoUrlFor('centers_capacity');
  let connection: Connection;
  let ledger: CoalescingCapacityLedger;

  before(async () => {
    await requireMongo();
    await dropDatabase(url);
    connection = await connectMongo(url, silentLogger());
    ledger = new CoalescingCapacityLedger(new MongoCapacityCounters(connection));
  });
  after(async () => {
    await connection?.close();
    await dropDatabase(url);
  });

  it('counts every one of 50 concurrent increments from one process, in one document per center per day', async () => {
    await Promise.all(Array.from({ length: 50 }, () => ledger.consume('GD', '2026-11-01')));
    expect(await ledger.usedOn('2026-11-01', ['GD', 'GD2'])).to.deep.equal({ GD: 50 });
    expect(await ledger.consume('GD', '2026-11-01', 3)).to.equal(53);
    expect(await ledger.usedOn('2026-11-02', ['GD'])).to.deep.equal({});
    const docs = await connection.db!.collection('center_capacity').countDocuments({ center: 'GD' });
    expect(docs).to.equal(1);
  });

  it('routeAndReserve spreads one district over its centers by capacity left, skipping interrupted ones', async () => {
    const at = new Date('2026-11-10T02:00:00Z');
    const states = { interruptedCenters: async () => new Set<string>() };
    const picks: string[] = [];
    for (let i = 0; i < 8; i++)
      picks.push((await routeAndReserve('5349', centers, ledger, states, { at, count: 10 })).center);
    // GD 100 and GD2 60: GD takes the first 4 orders (100→60), then they alternate by what is left.
    expect(picks).to.deep.equal(['GD', 'GD', 'GD', 'GD', 'GD', 'GD2', 'GD', 'GD2']);
    expect(await ledger.usedOn(capacityDay(at), ['GD', 'GD2'])).to.deep.equal({ GD: 60, GD2: 20 });
    const interrupted = { interruptedCenters: async () => new Set(['GD']) };
    const d = await routeAndReserve('5349', centers, ledger, interrupted, { at });
    expect(d).to.include({ center: 'GD2', usedAfter: 21, day: '2026-11-10' });
  });

  it('routeAndReserve fails before touching the ledger when no center serves the district', async () => {
    let err: unknown;
    try {
      await routeAndReserve('0000', centers, ledger, { interruptedCenters: async () => new Set() });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(NoCenterForDistrictError);
  });
});
