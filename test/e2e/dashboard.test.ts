import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { loadCenterRegistry } from '../../src/centers/registry';
import { startSimulator, type Simulator } from '../../src/centers/simulator';
import { startWorker, type Worker } from '../../src/runtime/worker';
import { createBroker, createSeller } from '../support/accounts';
import { generateValidOrder } from '../support/order-generator';
import { AMQP_URL, requireRabbitMQ } from '../support/services';
import { advance, seedDeclaration, startBrokerHarness, type BrokerHarness } from '../api/broker-harness';

/**
 * The broker dashboard in headless Chromium against the whole pipeline in one process: the gateway's
 * routes (orders, broker, stream, stats) over real HTTP, a dispatch worker signing and publishing to
 * RabbitMQ, simulated clearance centers answering with signed receipts, FerretDB. A broker logs in with an
 * API key, a seller submits an order, and the page follows it to its final status live; then a timeline,
 * and a screenshot (test-artifacts/dashboard.png). A second case drives statuses through the store to
 * check each step and the masking precisely.
 */
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARTIFACTS = join(process.cwd(), 'test-artifacts');

describe('broker dashboard end to end (headless Chromium)', function () {
  this.timeout(90000);
  let h: BrokerHarness;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  let worker: Worker;
  const simulators: Simulator[] = [];
  const pageErrors: string[] = [];

  before(async function () {
    if (!existsSync(CHROMIUM))
      throw new Error(
        `Chromium is required for this test and is missing at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`,
      );
    await requireRabbitMQ();
    h = await startBrokerHarness('dashboard_e2e', { withOrders: true });
    worker = await startWorker({ ...h.config, AMQP_URL }, h.logger, { monitorCenters: false });
    const registry = loadCenterRegistry();
    for (const center of registry.servingDistrict('5141')) {
      // "fast" with a stretched timeline would be nicer to watch; fast is enough to prove liveness.
      simulators.push(
        await startSimulator({
          center: center.code,
          registry,
          amqpUrl: AMQP_URL,
          logger: h.logger,
          profile: 'fast',
          seed: 7,
        }),
      );
    }
    profile = mkdtempSync(join(tmpdir(), 'baygate-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1400, height: 1100 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (err) => pageErrors.push(err.message));
  });
  after(async () => {
    await context?.close().catch(() => undefined);
    if (profile) rmSync(profile, { recursive: true, force: true });
    for (const s of simulators) await s.stop().catch(() => undefined);
    await worker?.stop().catch(() => undefined);
    await h?.close();
  });

  it("a submitted order moves to its final status live on a logged-in broker's page (gateway + worker + simulated centers)", async () => {
    const seller = await createSeller(h.mongo);
    const broker = await createBroker(h.mongo, [seller.account.id]);
    await page.goto(`${h.base}/dashboard`);
    await page.fill('#api-key', broker.token);
    await page.click('#login-form button[type="submit"]');
    await page.waitForSelector('#live-state[data-state="live"]');

    const order = generateValidOrder(5150, {
      direction: 'import',
      tradeMode: '9610',
      sellerRegion: 'GD',
    }) as unknown as Record<string, unknown> & { orderNo: string; buyerIdNumber: string };
    order.orderNo = `E2E-FULL-${Date.now()}`;
    const res = await fetch(`${h.base}/v1/orders`, {
      method: 'POST',
      headers: { ...seller.headers, 'content-type': 'application/json' },
      body: JSON.stringify(order),
    });
    expect(res.status, await res.clone().text()).to.equal(202);
    worker.dispatcher.nudge();

    // The rows appear and advance without a reload: the inventory to 899 (cleared), the others to 120.
    const inventory = `tr[data-order="${order.orderNo}"]:has(td:text-is("CEB621"))`;
    await page.waitForSelector(`${inventory}[data-status="899"]`, { timeout: 30000 });
    for (const type of ['CEB311', 'CEB411', 'CEB511'])
      await page.waitForSelector(`tr[data-order="${order.orderNo}"][data-status="120"]:has(td:text-is("${type}"))`, {
        timeout: 30000,
      });
    // The live feed saw the intermediate steps, not just the end state.
    const fed = await page.locator(`#feed li`).evaluateAll((lis) => lis.map((li) => li.getAttribute('data-status')));
    expect(fed).to.include.members(['signed', 'queued', '120', '899']);

    await page.click(inventory);
    await page.waitForSelector('#timeline li[data-status="899"] .receipt');
    const receiptText = (await page.textContent('#timeline li[data-status="899"] .receipt')) ?? '';
    expect(receiptText).to.match(/receipt CEB622 \S+ · signed by .+ \(serial [0-9a-f]+\)/);
    const text = (await page.textContent('body')) ?? '';
    expect(text).to.not.include(order.buyerIdNumber);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    await page.click('#logout');
    await page.waitForSelector('#login-view:not([hidden])');
    // The next case moves statuses by hand: no worker may take its declarations.
    for (const s of simulators.splice(0)) await s.stop();
    await worker.stop();
  });

  it('logs in with an API key (a wrong one is refused), follows each step live, shows the timeline; masked buyer ID, no foreign seller', async () => {
    const seller = await createSeller(h.mongo);
    const other = await createSeller(h.mongo);
    const broker = await createBroker(h.mongo, [seller.account.id]);
    const mine = await seedDeclaration(h.declarations, {
      sellerId: seller.account.id,
      center: 'GD',
      messageType: 'CEB621',
      orderNo: 'E2E-DASH-1',
    });
    const foreign = await seedDeclaration(h.declarations, {
      sellerId: other.account.id,
      center: 'GD',
      orderNo: 'E2E-FOREIGN',
    });

    await page.goto(`${h.base}/dashboard`);
    await page.evaluate(() => sessionStorage.clear());
    await page.reload();
    // A wrong key is refused with a message, and nothing is stored.
    await page.fill('#api-key', 'bgk_nobody.not-a-secret');
    await page.click('#login-form button[type="submit"]');
    await page.waitForFunction(() => (document.querySelector('#login-error')?.textContent ?? '').length > 0);
    expect(await page.evaluate(() => sessionStorage.getItem('baygate.apiKey'))).to.equal(null);

    await page.fill('#api-key', broker.token);
    await page.click('#login-form button[type="submit"]');
    await page.waitForSelector('tr[data-order="E2E-DASH-1"][data-status="accepted"]');
    await page.waitForSelector('#live-state[data-state="live"]');
    expect(await page.evaluate(() => sessionStorage.getItem('baygate.apiKey'))).to.equal(broker.token);
    expect(await page.locator('tr[data-order="E2E-FOREIGN"]').count()).to.equal(0);

    // The pipeline moves it on; the page follows over the event stream (no reload).
    await advance(h.declarations, mine.view.id, ['signed', 'queued', 'delivered']);
    await page.waitForSelector('tr[data-order="E2E-DASH-1"][data-status="delivered"]', { timeout: 15000 });
    await advance(h.declarations, mine.view.id, ['2', '120', '399', '800'], {
      source: 'receipt',
      signer: { subject: 'CN=Guangdong clearance center', serialHex: '01a2b3' },
      info: '放行 released',
    });
    await advance(h.declarations, mine.view.id, ['899'], {
      source: 'receipt',
      signer: { subject: 'CN=Guangdong clearance center', serialHex: '01a2b3' },
      info: '结关 cleared',
    });
    await page.waitForSelector('tr[data-order="E2E-DASH-1"][data-status="899"]', { timeout: 15000 });
    await page.waitForSelector('#feed li[data-status="899"]');
    await page.waitForFunction(
      () => document.querySelector('[data-testid="count-899"] b')?.textContent === '1',
      undefined,
      { timeout: 15000 },
    );
    await advance(h.declarations, foreign.view.id, ['signed']);

    await page.click('tr[data-order="E2E-DASH-1"]');
    await page.waitForSelector('#timeline li[data-status="899"]');
    const steps = await page
      .locator('#timeline li')
      .evaluateAll((lis) => lis.map((li) => li.getAttribute('data-status')));
    expect(steps).to.deep.equal(['accepted', 'signed', 'queued', 'delivered', '2', '120', '399', '800', '899']);
    expect(await page.textContent('[data-testid="timeline-status"]')).to.contain('899 结关');

    // Centers and stats are on the page too.
    await page.waitForSelector('[data-testid="center-GD"]');

    const text = (await page.textContent('body')) ?? '';
    for (const secret of [mine.buyer.idNumber, mine.buyer.name, mine.buyer.phone, mine.buyer.address])
      expect(text).to.not.include(secret);
    expect(text).to.include(`${mine.buyer.idNumber.slice(0, 4)}**********${mine.buyer.idNumber.slice(-4)}`);
    expect(text).to.not.include('E2E-FOREIGN');

    expect(pageErrors).to.deep.equal([]);
  });

  it('logs out: the key leaves sessionStorage and the stream stops', async () => {
    await page.click('#logout');
    await page.waitForSelector('#login-view:not([hidden])');
    expect(await page.evaluate(() => sessionStorage.getItem('baygate.apiKey'))).to.equal(null);
    await new Promise((r) => setTimeout(r, 300));
    expect(h.live.subscriberCount).to.equal(0);
  });
});
