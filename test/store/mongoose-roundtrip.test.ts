import { expect } from 'chai';
import { Schema, type Connection } from 'mongoose';
import { connectMongo } from '../../src/store/mongo';
import { silentLogger } from '../support/logger';
import { dropDatabase, mongoUrlFor, requireMongo } from '../support/services';

describe('mongoose on the MongoDB-compatible server', function () {
  this.timeout(20000);
  const url = mongoUrlFor('roundtrip');
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

  const schema = new Schema({ platform: String, orderNo: String, messageType: String, note: String });
  schema.index({ platform: 1, orderNo: 1, messageType: 1 }, { unique: true });

  it('stores and reads back a document, and the unique index rejects a duplicate', async () => {
    const Model = connection.model('RoundTrip', schema);
    await Model.init();
    const created = await Model.create({ platform: 'P1', orderNo: 'O1', messageType: 'CEB311', note: '你好' });
    const found = await Model.findById(created._id).lean();
    expect(found).to.include({ platform: 'P1', orderNo: 'O1', messageType: 'CEB311', note: '你好' });

    let duplicateError: unknown;
    try {
      await Model.create({ platform: 'P1', orderNo: 'O1', messageType: 'CEB311', note: 'again' });
    } catch (err) {
      duplicateError = err;
    }
    expect((duplicateError as { code?: number })?.code).to.equal(11000);
    expect(await Model.countDocuments({ orderNo: 'O1' })).to.equal(1);
    // A different message type for the same order is a different declaration.
    await Model.create({ platform: 'P1', orderNo: 'O1', messageType: 'CEB621' });
    expect(await Model.countDocuments({ orderNo: 'O1' })).to.equal(2);
  });
});
