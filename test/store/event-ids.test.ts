import { expect } from 'chai';
import { batchStepEventId, eventSecond, newEventId } from '../../src/store/declaration-doc';

describe('event ids', () => {
  it('are 24 hex digits that start with their second, and strictly increase within a process', () => {
    const before = Math.floor(Date.now() / 1000);
    const ids = Array.from({ length: 20_000 }, () => newEventId());
    const after = Math.floor(Date.now() / 1000);
    for (const id of ids) expect(id).to.match(/^[0-9a-f]{24}$/);
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!, `${ids[i - 1]} then ${ids[i]}`).to.equal(true);
    const seconds = eventSecond(ids[0]!).getTime() / 1000;
    expect(seconds).to.be.within(before, after);
  });

  it('order by the millisecond, so ids made later in another process sort after', () => {
    const at = new Date('2026-12-05T10:00:00.123Z');
    const a = newEventId(at);
    const b = newEventId(new Date(at.getTime() + 1));
    expect(b > a).to.equal(true);
    expect(a.slice(0, 12)).to.equal(Math.floor(at.getTime() / 1000).toString(16) + '007b');
  });

  it('of a batch step: one per declaration and status, derived, in the same time order', () => {
    const at = new Date('2026-12-05T10:00:00.123Z');
    const ids = ['d1', 'd2', 'd3'].map((d) => batchStepEventId(d, 'queued', at));
    expect(new Set(ids).size).to.equal(3);
    expect(batchStepEventId('d1', 'queued', at)).to.equal(ids[0]);
    expect(batchStepEventId('d1', 'failed', at)).to.not.equal(ids[0]);
    for (const id of ids) expect(id.slice(0, 12)).to.equal(newEventId(at).slice(0, 12));
    expect(batchStepEventId('d1', 'queued', new Date(at.getTime() + 1)) > ids[0]!).to.equal(true);
  });
});
