import { expect } from 'chai';
import { BSON, MongoClient } from 'mongodb';
import type { Connection } from 'mongoose';
import { createStores, type Stores } from '../../src/store/index';
import { PiiError } from '../../src/store/pii';
import {
  BUYER_ID,
  fakeManifest,
  HASH_KEY,
  importOrder,
  KEY_NEW,
  KEY_OLD,
  newDeclaration,
  openStores,
} from './store-fixtures';

/**
 * Reads the RAW collections (mongodb driver, no store code) and searches every stored byte for the
 * personal data of the order: it must only ever be there encrypted.
 */
describe('personal data at rest (raw collections)', function () {
  this.timeout(60000);
  let stores: Stores;
  let connection: Connection;
  let url: string;
  let close: () => Promise<void>;

  // Distinctive personal data (valid shapes; ASCII and Chinese).
  const personal = {
    buyerName: '欧阳测试',
    buyerIdNumber: BUYER_ID,
    buyerTelephone: '13912345678',
    consignee: '司徒收货',
    consigneeTelephone: '13687654321',
    consigneeAddress: '广东省深圳市南山区秘密路88号',
  };
  const secrets = Object.values(personal);

  before(async () => {
    // Written first with only the OLD key (as before a rotation).
    ({ stores, connection, url, close } = await openStores('store_pii_at_rest', {
      PII_KEYS: KEY_OLD,
      PII_HASH_KEY: HASH_KEY,
    }));
  });
  after(async () => close?.());

  async function rawDump(): Promise<{ collection: string; text: string; bytes: Buffer }[]> {
    const client = new MongoClient(url);
    await client.connect();
    try {
      const db = client.db();
      const out: { collection: string; text: string; bytes: Buffer }[] = [];
      for (const c of await db.listCollections().toArray()) {
        const docs = await db.collection(c.name).find({}).toArray();
        out.push({
          collection: c.name,
          text: BSON.EJSON.stringify(docs, { relaxed: false }),
          bytes: Buffer.concat(docs.map((d) => Buffer.from(JSON.stringify(d)))),
        });
      }
      return out;
    } finally {
      await client.close();
    }
  }

  it('stores declarations, orders, manifests, the feed and usage without any personal data in clear', async () => {
    const order = importOrder(4242, personal);
    const decls = (['CEB311', 'CEB411', 'CEB511', 'CEB621'] as const).map((t) => newDeclaration(order, t));
    await stores.declarations.insertMany(decls);
    await stores.annualUsage.reserve(BUYER_ID, 2026, `${order.ebpCode}/${order.orderNo}`, order.acturalPaid, 26000);
    const claims = await stores.declarations.claimDue('w', 60_000, 10);
    expect(claims).to.have.length(4);
    // Sign two (manifest contains the personal data), queue one, leave one signed in the work queue.
    const m1 = fakeManifest(claims[0]!.id, order);
    const m2 = fakeManifest(claims[1]!.id, order);
    expect(m1.xml).to.include(personal.consigneeAddress);
    expect(await stores.declarations.markSigned(claims[0]!.id, claims[0]!.leaseToken, m1)).to.equal(true);
    expect(await stores.declarations.markSigned(claims[1]!.id, claims[1]!.leaseToken, m2)).to.equal(true);
    expect(await stores.declarations.markQueued([{ id: claims[0]!.id, leaseToken: claims[0]!.leaseToken }])).to.equal(
      1,
    );

    const dump = await rawDump();
    expect(dump.map((d) => d.collection)).to.include.members([
      'declarations',
      'declaration_orders',
      'declaration_feed',
      'declaration_manifests',
      'annual_usage',
    ]);
    for (const { collection, text, bytes } of dump) {
      for (const secret of secrets) {
        expect(text.includes(secret), `${collection} contains "${secret}" in clear`).to.equal(false);
        expect(bytes.includes(Buffer.from(secret, 'utf8')), `${collection} contains "${secret}" bytes`).to.equal(false);
        expect(
          text.includes(Buffer.from(secret, 'utf8').toString('base64')),
          `${collection} contains "${secret}" as Base64`,
        ).to.equal(false);
      }
    }
    // What IS there in clear: the masked number, its keyed hash, and non-personal fields.
    const declarations = dump.find((d) => d.collection === 'declarations')!.text;
    expect(declarations).to.include('4405**********0014');
    expect(declarations).to.include(stores.vault.blindIndex('idNumber', BUYER_ID));
    expect(declarations).to.include(order.orderNo);

    // …and the store gives everything back decrypted.
    expect((await stores.declarations.orderOf(claims[0]!.id))!.order).to.deep.equal(order);
    expect(await stores.declarations.manifestXml(claims[0]!.id)).to.equal(m1.xml);
    const reclaimed = await stores.declarations.claimDue('w2', 60_000, 10, new Date(Date.now() + 120_000));
    expect(reclaimed.find((c) => c.id === claims[1]!.id)!.manifest!.xml).to.equal(m2.xml);
  });

  it('after a key rotation: old values still open, new values use the new key, reencryptAll moves the old ones', async () => {
    const rotated = createStores(connection, { PII_KEYS: `${KEY_NEW},${KEY_OLD}`, PII_HASH_KEY: HASH_KEY });
    const [before] = await stores.declarations.list({}, { limit: 1 }).then((p) => p.items);
    expect((await rotated.declarations.orderOf(before!.id))!.order.orderNo).to.equal(before!.orderNo);

    const fresh = newDeclaration(importOrder(4343, personal), 'CEB311');
    await rotated.declarations.insertMany([fresh]);
    const keyIds = async () => {
      const client = new MongoClient(url);
      await client.connect();
      try {
        const docs = await client
          .db()
          .collection('declaration_orders')
          .find({}, { projection: { 'orderSealed.k': 1 } })
          .toArray();
        return new Map(docs.map((d) => [String(d._id), (d.orderSealed as { k: string }).k]));
      } finally {
        await client.close();
      }
    };
    let keys = await keyIds();
    expect(keys.get(fresh.id)).to.equal('k2026');
    expect(keys.get(before!.id)).to.equal('k2025');

    expect(await rotated.declarations.reencryptAll()).to.be.greaterThan(4);
    expect(await rotated.declarations.reencryptAll()).to.equal(0);
    keys = await keyIds();
    expect([...keys.values()].every((k) => k === 'k2026')).to.equal(true);
    // Still readable with the new ring only, manifests included.
    const newOnly = createStores(connection, { PII_KEYS: KEY_NEW, PII_HASH_KEY: HASH_KEY });
    expect((await newOnly.declarations.orderOf(before!.id))!.order).to.have.property('buyerIdNumber', BUYER_ID);
    const signed = (await newOnly.declarations.list({ status: ['queued'] }, { limit: 1 })).items[0]!;
    expect(await newOnly.declarations.manifestXml(signed.id)).to.include(personal.buyerName);
    // The blind index does not depend on the encryption keys: usage still found after rotation.
    expect(await newOnly.annualUsage.usedThisYear(BUYER_ID, 2026)).to.be.greaterThan(0);
  });

  it('refuses a sealed order copied from another declaration (AAD binds it to its document)', async () => {
    const client = new MongoClient(url);
    await client.connect();
    try {
      const coll = client.db().collection<{ _id: string; orderSealed: unknown }>('declaration_orders');
      const [a, b] = await coll.find({}).limit(2).toArray();
      await coll.updateOne({ _id: b!._id }, { $set: { orderSealed: a!.orderSealed } });
      const current = createStores(connection, { PII_KEYS: `${KEY_NEW},${KEY_OLD}`, PII_HASH_KEY: HASH_KEY });
      let error: unknown;
      try {
        await current.declarations.orderOf(b!._id);
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(PiiError);
      expect(String(error)).to.match(/failed authentication/);
      expect((await current.declarations.orderOf(a!._id))!.order).to.have.property('orderNo');
    } finally {
      await client.close();
    }
  });
});
