import amqplib, { type Channel, type ChannelModel } from 'amqplib';
import { expect } from 'chai';
import { CoalescingCapacityLedger } from '../../src/centers/capacity-ledger';
import { MongoCapacityCounters } from '../../src/store/capacity';
import { MongoCenterStates } from '../../src/store/center-states';
import { capacityDay } from '../../src/centers/routing';
import type { Stats } from '../../src/api/routes/stats';
import { createAdmin, createBroker, createSeller, type TestKey } from '../support/accounts';
import { AMQP_URL, requireRabbitMQ } from '../support/services';
import { advance, getJson, seedDeclaration, startBrokerHarness, type BrokerHarness } from './broker-harness';

describe('stats: GET /v1/stats', function () {
  this.timeout(60000);
  let h: BrokerHarness;
  let amqp: ChannelModel;
  let channel: Channel;
  let sellerA: TestKey & { account: { id: string } };
  let sellerB: TestKey & { account: { id: string } };
  let broker: TestKey;
  let admin: TestKey;
  const queue = (center: string) => `baygate.test.stats.${center}.${process.pid}`;

  before(async () => {
    await requireRabbitMQ();
    amqp = await amqplib.connect(AMQP_URL);
    channel = await amqp.createChannel();
    await channel.deleteQueue(queue('GD'));
    await channel.assertQueue(queue('GD'), { durable: false });
    for (let i = 0; i < 3; i++) channel.sendToQueue(queue('GD'), Buffer.from(`m${i}`));
    // HK's queue is deliberately missing: its backlog must show as an error, not fail the request.
    h = await startBrokerHarness('stats_routes', {
      queueDepth: async (center) => {
        const ch = await amqp.createChannel();
        ch.on('error', () => undefined); // a missing queue closes the channel with 404: reported, not thrown
        try {
          return await ch.checkQueue(queue(center));
        } finally {
          await ch.close().catch(() => undefined);
        }
      },
    });
    sellerA = await createSeller(h.mongo);
    sellerB = await createSeller(h.mongo);
    broker = await createBroker(h.mongo, [sellerA.account.id]);
    admin = await createAdmin(h.mongo);

    // Seller A: 4 declarations — one cleared (final), one rejected with 100, one with -621005, one waiting.
    const a = await Promise.all(
      [0, 1, 2, 3].map((i) =>
        seedDeclaration(h.declarations, {
          sellerId: sellerA.account.id,
          center: 'GD',
          messageType: 'CEB621',
          orderNo: `STATS-A-${i}`,
        }),
      ),
    );
    await advance(h.declarations, a[0]!.view.id, ['signed', 'queued', '120', '800', '899']);
    await advance(h.declarations, a[1]!.view.id, ['signed', 'queued', '100'], { info: '清单重复 duplicate inventory' });
    await advance(h.declarations, a[2]!.view.id, ['signed', 'queued', '-621005'], {
      info: '超过单次交易限值 over the single-transaction limit',
    });
    await advance(h.declarations, a[3]!.view.id, ['signed', 'queued']);
    // Seller B: 2 more waiting, one also rejected with 100 for the same reason.
    const b = await Promise.all(
      [0, 1].map((i) =>
        seedDeclaration(h.declarations, { sellerId: sellerB.account.id, center: 'HK', orderNo: `STATS-B-${i}` }),
      ),
    );
    await advance(h.declarations, b[0]!.view.id, ['signed', 'queued', '100'], { info: '清单重复 duplicate inventory' });

    await new CoalescingCapacityLedger(new MongoCapacityCounters(h.mongo)).consume('GD', capacityDay(), 10);
    await new MongoCenterStates(h.mongo).put({
      center: 'HK',
      status: 'interrupted',
      reason: 'no consumer on its queue for 2 consecutive checks',
      consumerCount: 0,
      messageCount: 12,
      noConsumerStreak: 2,
      backlogStreak: 0,
      since: new Date(),
      checkedAt: new Date(),
    });
  });
  after(async () => {
    await channel?.deleteQueue(queue('GD')).catch(() => undefined);
    await amqp?.close().catch(() => undefined);
    await h?.close();
  });

  const stats = (key: TestKey, query = '') => getJson<Stats>(`${h.base}/v1/stats${query}`, key.headers);

  it('counts accepted and final declarations per minute over the window', async () => {
    const res = await stats(admin, '?minutes=15');
    expect(res.status).to.equal(200);
    expect(res.body.windowMinutes).to.equal(15);
    expect(res.body.throughput.perMinute).to.have.length(15);
    expect(res.body.throughput.accepted).to.equal(6);
    expect(res.body.throughput.final).to.equal(4); // 899, 100, -621005 (A) and 100 (B)
    expect(res.body.throughput.truncated).to.equal(false);
    const minutes = res.body.throughput.perMinute.map((m) => Date.parse(m.minute));
    expect(minutes).to.deep.equal([...minutes].sort((x, y) => x - y));
    expect(res.body.throughput.perMinute.reduce((n, m) => n + m.accepted, 0)).to.equal(6);
  });

  it('reports per center the RabbitMQ backlog, the capacity left today and the interruption state', async () => {
    const res = await stats(admin);
    const gd = res.body.centers.find((c) => c.center === 'GD')!;
    const hk = res.body.centers.find((c) => c.center === 'HK')!;
    expect(gd.backlog).to.deep.equal({ messages: 3, consumers: 0 });
    expect(gd.capacity).to.deep.equal({ day: capacityDay(), daily: 1000, used: 10, remaining: 990 });
    expect(gd.state).to.deep.equal({ status: 'unknown' });
    expect(hk.backlog)
      .to.have.property('error')
      .that.matches(/NOT_FOUND|404/);
    expect(hk.capacity.remaining).to.equal(500);
    expect(hk.state).to.include({ status: 'interrupted', reason: 'no consumer on its queue for 2 consecutive checks' });
    expect(hk.name).to.deep.equal({ zh: '粤港中心', en: 'Hong Kong center' });
  });

  it('lists declarations stuck longer than ?stuckAfter= seconds, per status; terminal ones never', async () => {
    const none = await stats(admin);
    expect(none.body.stuck).to.deep.include({ thresholdSeconds: 600, total: 0, byStatus: {} });
    await new Promise((r) => setTimeout(r, 1200));
    const res = await stats(admin, '?stuckAfter=1');
    expect(res.body.stuck.thresholdSeconds).to.equal(1);
    expect(res.body.stuck.byStatus).to.deep.equal({ queued: 1, accepted: 1 });
    expect(res.body.stuck.items.map((d) => d.orderNo)).to.have.members(['STATS-A-3', 'STATS-B-1']);
    for (const item of res.body.stuck.items) expect(item.ageSeconds).to.be.at.least(1);
  });

  it('groups recent rejections by code and customs text, most frequent first', async () => {
    const res = await stats(admin);
    expect(res.body.rejections.total).to.equal(3);
    expect(res.body.rejections.reasons.map((r) => [r.code, r.text, r.count])).to.deep.equal([
      ['100', '清单重复 duplicate inventory', 2],
      ['-621005', '超过单次交易限值 over the single-transaction limit', 1],
    ]);
    expect(res.body.rejections.reasons[0]!.label.zh).to.equal('海关退单');
  });

  it("limits declaration figures to the broker's sellers", async () => {
    const res = await stats(broker, '?stuckAfter=1');
    expect(res.body.throughput.accepted).to.equal(4);
    expect(res.body.rejections.reasons.map((r) => [r.code, r.count])).to.deep.equal([
      ['-621005', 1],
      ['100', 1],
    ]);
    expect(res.body.stuck.items.map((d) => d.orderNo)).to.deep.equal(['STATS-A-3']);
    expect(JSON.stringify(res.body)).to.not.include(sellerB.account.id);
  });

  it('rejects out-of-range parameters with 400 and needs a reader key', async () => {
    const bad = await getJson<{ errors: { path: string }[] }>(
      `${h.base}/v1/stats?minutes=0&stuckAfter=abc`,
      admin.headers,
    );
    expect(bad.status).to.equal(400);
    expect(bad.body.errors.map((e) => e.path)).to.have.members(['query.minutes', 'query.stuckAfter']);
    expect((await getJson(`${h.base}/v1/stats`)).status).to.equal(401);
  });
});
