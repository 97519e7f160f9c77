import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  loadSimulatorProfile,
  parseFaults,
  seededRandom,
  SimulatorConfigError,
} from '../../src/centers/simulator/profiles';
import {
  planAcceptedReceipts,
  signatureFailureStatus,
  swapAdjacent,
  timelineKindOf,
} from '../../src/centers/simulator/timeline';

/** Simulator profiles, the --faults syntax and the receipt timeline planning (pure). */
const fast = loadSimulatorProfile('fast');
const realistic = loadSimulatorProfile('realistic');
const always = () => 0; // every random choice "hits"
const never = () => 0.999999;

describe('centers/simulator profiles and timelines', () => {
  it('ships fast (ms), bench (fast without XSD) and realistic (seconds) profiles', () => {
    expect(fast.timelines.inventory.map((e) => e.status)).to.deep.equal(['2', '120', '399', '800', '899']);
    expect(fast.timelines.document.map((e) => e.status)).to.deep.equal(['2', '120']);
    expect(Math.max(...fast.timelines.inventory.map((e) => e.afterMs))).to.be.below(100);
    expect(realistic.timelines.inventory.at(-1)?.afterMs).to.be.at.least(10000);
    expect(realistic.rejection.rate).to.be.above(0);
    const bench = loadSimulatorProfile('bench');
    expect(bench.xsdValidation).to.equal(false);
    expect(bench.timelines).to.deep.equal(fast.timelines);
  });

  it('names the file and the JSON path of a bad profile', () => {
    const dir = mkdtempSync(join(tmpdir(), 'baygate-profiles-'));
    try {
      const file = join(dir, 'p.json');
      writeFileSync(
        file,
        JSON.stringify({
          profiles: {
            bad: { ...structuredClone(fast), limits: { singleCny: -5, annualCny: 26000 } },
            loop: { extends: 'loop' },
          },
        }),
      );
      expect(() => loadSimulatorProfile('bad', file)).to.throw(
        SimulatorConfigError,
        new RegExp(`${file} at profiles\\.bad\\.limits\\.singleCny: `),
      );
      expect(() => loadSimulatorProfile('loop', file)).to.throw(SimulatorConfigError, /extends itself/);
      expect(() => loadSimulatorProfile('nope', file)).to.throw(
        SimulatorConfigError,
        /no simulator profile "nope" \(profiles: bad, loop\)/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('parses --faults: names alone take the profile default, name=rate and name:rate set it', () => {
    expect(parseFaults('duplicate,out-of-order=0.5, no-ack:1', fast.faultDefaults)).to.deep.equal({
      duplicate: 0.2,
      'out-of-order': 0.5,
      'no-ack': 1,
    });
    expect(parseFaults(undefined, fast.faultDefaults)).to.deep.equal({});
    expect(() => parseFaults('explode', fast.faultDefaults)).to.throw(SimulatorConfigError, /unknown fault "explode"/);
    expect(() => parseFaults('duplicate=2', fast.faultDefaults)).to.throw(SimulatorConfigError, /between 0 and 1/);
  });

  it('the seeded random source is reproducible', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = Array.from({ length: 5 }, a);
    expect(xs).to.deep.equal(Array.from({ length: 5 }, b));
    expect(xs.every((x) => x >= 0 && x < 1)).to.equal(true);
  });

  it('plans the success path 2 → 120 → 399 → 800 → 899 for inventories and 2 → 120 for documents', () => {
    expect(
      planAcceptedReceipts('inventory', realistic, { subject: 'C1', random: never }).map((p) => p.status),
    ).to.deep.equal(['2', '120', '399', '800', '899']);
    const docs = planAcceptedReceipts('document', realistic, { subject: 'O1', random: never });
    expect(docs.map((p) => [p.status, p.afterMs])).to.deep.equal([
      ['2', 1000],
      ['120', 4000],
    ]);
    expect(docs[0]?.info).to.equal('电子口岸申报中[O1]');
  });

  it('plans a rejection as 2 then 100 with one of the configured reasons', () => {
    const plan = planAcceptedReceipts('inventory', realistic, { subject: 'C1', random: always });
    expect(plan.map((p) => p.status)).to.deep.equal(['2', '100']);
    expect(plan[1]?.info).to.equal(`海关退单：${realistic.rejection.reasons[0]}[C1]`);
  });

  it('plans an inspection (500) between 120 and 399 and pushes the rest back; a hold (501) ends the flow', () => {
    const inspect = planAcceptedReceipts(
      'inventory',
      {
        ...realistic,
        rejection: { ...realistic.rejection, rate: 0 },
        hold: { ...realistic.hold, rate: 0 },
        inspection: { rate: 1, delayMs: 10000 },
      },
      { subject: 'C1', random: never },
    );
    expect(inspect.map((p) => p.status)).to.deep.equal(['2', '120', '500', '399', '800', '899']);
    expect(inspect[3]?.afterMs).to.equal(realistic.timelines.inventory[2]!.afterMs + 10000);
    const hold = planAcceptedReceipts(
      'inventory',
      { ...realistic, rejection: { ...realistic.rejection, rate: 0 }, hold: { rate: 1, status: '501' } },
      { subject: 'C1', random: never },
    );
    expect(hold.map((p) => p.status)).to.deep.equal(['2', '120', '501']);
  });

  it('out-of-order swaps each adjacent pair', () => {
    expect(swapAdjacent(['2', '120', '399', '800', '899'])).to.deep.equal(['120', '2', '800', '399', '899']);
  });

  it('maps declaration types to timelines and signature error codes', () => {
    expect(['CEB621', 'CEB603', 'CEB623', 'CEB311'].map((t) => timelineKindOf(t as 'CEB621'))).to.deep.equal([
      'inventory',
      'inventory',
      'cancel',
      'document',
    ]);
    expect(signatureFailureStatus('CEB621')).to.equal('-621029');
    expect(signatureFailureStatus('CEB623')).to.equal('-623029');
    expect(signatureFailureStatus('CEB311')).to.equal('100');
  });
});
