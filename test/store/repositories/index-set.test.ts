import { expect } from 'chai';
import { IndexSet, collectionOf } from '../../../src/store/collections';
import { useTestDatabase } from './support';

describe('store/IndexSet: the indexes this version needs, on a database an earlier version created', () => {
  const db = useTestDatabase('store_index_set');

  const indexesOf = async (name: string) =>
    (await collectionOf(db.connection, name).indexes()).map((i) => [i.name, JSON.stringify(i.key)]).sort();

  it('replaces an index of the same key left under another name (85 IndexOptionsConflict), keeping the data', async () => {
    const collection = collectionOf(db.connection, 'renamed');
    await collection.insertOne({ status: 'pending', nextAttemptAt: new Date() });
    await collection.createIndex({ status: 1, nextAttemptAt: 1 }); // the earlier version's generated name
    await new IndexSet(
      () => collection,
      [{ key: { status: 1, nextAttemptAt: 1 }, name: 'status_nextAttemptAt' }],
    ).ready();
    expect(await indexesOf('renamed')).to.deep.equal([
      ['_id_', '{"_id":1}'],
      ['status_nextAttemptAt', '{"status":1,"nextAttemptAt":1}'],
    ]);
    expect(await collection.countDocuments()).to.equal(1);
  });

  it('replaces an index whose name now stands for another key (86 IndexKeySpecsConflict)', async () => {
    const collection = collectionOf(db.connection, 'rekeyed');
    await collection.createIndex({ dueAt: 1 }, { name: 'claim' });
    await new IndexSet(() => collection, [{ key: { center: 1, dueAt: 1 }, name: 'claim' }]).ready();
    expect(await indexesOf('rekeyed')).to.deep.equal([
      ['_id_', '{"_id":1}'],
      ['claim', '{"center":1,"dueAt":1}'],
    ]);
  });

  it('leaves matching indexes alone and creates each once per process', async () => {
    const collection = collectionOf(db.connection, 'same');
    let calls = 0;
    const counting = () => {
      calls++;
      return collection;
    };
    const set = new IndexSet(counting, [{ key: { orderNo: 1 }, name: 'orderNo' }]);
    await Promise.all([set.ready(), set.ready()]);
    await new IndexSet(counting, [{ key: { orderNo: 1 }, name: 'orderNo' }]).ready();
    expect(calls).to.equal(2);
    expect(await indexesOf('same')).to.deep.equal([
      ['_id_', '{"_id":1}'],
      ['orderNo', '{"orderNo":1}'],
    ]);
  });
});
