import amqplib, { type ChannelModel } from 'amqplib';
import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { assessCenter, CenterHealthMonitor, listCenterStates, type CenterState } from '../../src/centers/health';
import { routeAndReserve } from '../../src/centers/routing';
import { CoalescingCapacityLedger } from '../../src/centers/capacity-ledger';
import { MongoCapacityCounters } from '../../src/store/capacity';
import { MongoCenterStates } from '../../src/store/center-states';
import { AmqpClient } from '../../src/queue/amqp';
import { centerQueueName } from '../../src/queue/topology';
import { connectMongo } from '../../src/store/mongo';
import { silentLogger } from '../support/logger';
import { AMQP_URL, dropDatabase, mongoUrlFor, requireMongo, requireRabbitMQ } from '../support/services';
import { uniqueCenterCode } from './support';

const policy = { interruptionBacklog: 100, consecutiveChecks: 2 };
const t = (s: number) => new Date(Date.UTC(2026, 10, 29, 0, 0, s));

describe('centers/health: assessCenter (pure)', () => {
  it('marks a center without consumer interrupted only after the configured number of consecutive checks', () => {
    const first = assessCenter('GD', undefined, { consumerCount: 0, messageCount: 0 }, policy, t(0));
    expect(first).to.include({ status: 'available', noConsumerStreak: 1 });
    const second = assessCenter('GD', first, { consumerCount: 0, messageCount: 3 }, policy, t(5));
    expect(second).to.include({ status: 'interrupted', noConsumerStreak: 2 });
    expect(second.reason).to.match(/no consumer on its queue for 2 consecutive checks/);
    expect(second.since).to.deep.equal(t(5));
    const third = assessCenter('GD', second, { consumerCount: 0, messageCount: 9 }, policy, t(10));
    expect(third.since, 'since stays at the change').to.deep.equal(t(5));
  });

  it('marks a growing backlog above the threshold interrupted, not one that is draining', () => {
    let s: CenterState | undefined;
    for (const [i, backlog] of [150, 180].entries())
      s = assessCenter('GD', s, { consumerCount: 1, messageCount: backlog }, policy, t(i));
    expect(s).to.include({ status: 'interrupted', backlogStreak: 2 });
    expect(s?.reason).to.match(/backlog 180 above the threshold 100/);
    const draining = assessCenter('GD', s, { consumerCount: 1, messageCount: 150 }, policy, t(3));
    expect(draining).to.include({ status: 'available', backlogStreak: 0 });
  });

  it('stays interrupted until a check shows a consumer and a healthy backlog', () => {
    const down = assessCenter(
      'GD',
      assessCenter('GD', undefined, { consumerCount: 0, messageCount: 0 }, policy),
      { consumerCount: 0, messageCount: 0 },
      policy,
    );
    expect(down.status).to.equal('interrupted');
    const back = assessCenter('GD', down, { consumerCount: 2, messageCount: 10 }, policy);
    expect(back.status).to.equal('available');
    expect(back.reason).to.equal(undefined);
  });

  it('a missing queue is an interruption at once', () => {
    expect(assessCenter('GD', undefined, { missing: true, error: 'NOT_FOUND' }, policy)).to.include({
      status: 'interrupted',
    });
  });
});

describe('centers/health: monitor against RabbitMQ and MongoDB', function () {
  this.timeout(20000);
  const url = mongoUrlFor('centers_health');
  const withConsumer = uniqueCenterCode();
  const withoutConsumer = uniqueCenterCode();
  const missing = uniqueCenterCode();
  let mongo: Connection;
  let amqp: AmqpClient;
  let raw: ChannelModel;

  before(async () => {
    await requireRabbitMQ();
    await requireMongo();
    await dropDatabase(url);
    mongo = await connectMongo(url, silentLogger());
    amqp = new AmqpClient({ url: AMQP_URL, logger: silentLogger() });
    await amqp.connect();
    raw = await amqplib.connect(AMQP_URL);
    const ch = await raw.createChannel();
    for (const code of [withConsumer, withoutConsumer])
      await ch.assertQueue(centerQueueName(code), { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await ch.consume(centerQueueName(withConsumer), () => undefined, { noAck: true });
  });

  after(async () => {
    const ch = await raw.createChannel();
    for (const code of [withConsumer, withoutConsumer])
      await ch.deleteQueue(centerQueueName(code)).catch(() => undefined);
    await raw.close().catch(() => undefined);
    await amqp?.close();
    await mongo?.close();
    await dropDatabase(url);
  });

  it('marks the center without a consumer (and the one without a queue) interrupted in center_states; routing then avoids it', async () => {
    const store = new MongoCenterStates(mongo);
    const centers = [withConsumer, withoutConsumer, missing].map((code) => ({
      code,
      queue: centerQueueName(code),
      interruptionBacklog: 100,
    }));
    const monitor = new CenterHealthMonitor({ amqp, centers, store, logger: silentLogger(), consecutiveChecks: 2 });
    await monitor.checkOnce();
    expect((await store.get(withoutConsumer))?.status).to.equal('available'); // one check is not enough
    await monitor.checkOnce();

    const states = await listCenterStates(store, [...centers, { code: 'NEVER' }]);
    const byCode = new Map(states.map((s) => [s.center, s]));
    expect(byCode.get(withConsumer)).to.include({ status: 'available', consumerCount: 1 });
    expect(byCode.get(withoutConsumer)).to.include({ status: 'interrupted', consumerCount: 0 });
    expect(byCode.get(missing)).to.include({ status: 'interrupted' });
    expect((byCode.get(missing) as CenterState).reason).to.match(/queue missing/);
    expect(byCode.get('NEVER')).to.deep.equal({ center: 'NEVER', status: 'unknown' });
    expect([...(await store.interruptedCenters())].sort()).to.deep.equal([withoutConsumer, missing].sort());

    // A second store instance (another gateway copy) sees the same state and routes around the center.
    const other = new MongoCenterStates(mongo);
    const routable = [
      { code: withoutConsumer, districts: ['5141'], dailyCapacity: 1000 },
      { code: withConsumer, districts: ['5141'], dailyCapacity: 10 },
    ];
    const d = await routeAndReserve(
      '5141',
      routable,
      new CoalescingCapacityLedger(new MongoCapacityCounters(mongo)),
      other,
    );
    expect(d.center).to.equal(withConsumer);
  });

  it('start() checks periodically and stop() ends it', async () => {
    const store = new MongoCenterStates(mongo, 'center_states_periodic');
    const monitor = new CenterHealthMonitor({
      amqp,
      centers: [{ code: withConsumer, queue: centerQueueName(withConsumer), interruptionBacklog: 5 }],
      store,
      logger: silentLogger(),
      intervalMs: 100,
    });
    monitor.start();
    await new Promise((r) => setTimeout(r, 350));
    await monitor.stop();
    const first = (await store.get(withConsumer))?.checkedAt;
    await new Promise((r) => setTimeout(r, 250));
    expect((await store.get(withConsumer))?.checkedAt).to.deep.equal(first);
    expect(first).to.be.instanceOf(Date);
  });
});
