import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createBroker, createSeller } from '../support/accounts';
import { advance, seedDeclaration, startBrokerHarness, type BrokerHarness } from '../api/broker-harness';

/**
 * The broker dashboard in headless Chromium against a real gateway (FerretDB, real HTTP, SSE): log in with
 * an API key, watch a declaration move to its final status live, open its timeline, and keep a screenshot
 * (test-artifacts/dashboard.png). Statuses are driven through the store exactly as the dispatcher and the
 * receipt ingestion write them.
 */
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARTIFACTS = join(process.cwd(), 'test-artifacts');

describe('broker dashboard end to end (headless Chromium)', function () {
  this.timeout(90000);
  let h: BrokerHarness;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const pageErrors: string[] = [];

  before(async function () {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium is required for this test and is missing at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
    h = await startBrokerHarness('dashboard_e2e');
    profile = mkdtempSync(join(tmpdir(), 'baygate-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1400, height: 1100 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (err) => pageErrors.push(err.message));
  });
  after(async () => {
    await context?.close().catch(() => undefined);
    if (profile) rmSync(profile, { recursive: true, force: true });
    await h?.close();
  });

  it('logs in with an API key, follows a declaration to its final status live, and shows its timeline', async () => {
    const seller = await createSeller(h.mongo);
    const other = await createSeller(h.mongo);
    const broker = await createBroker(h.mongo, [seller.account.id]);
    const mine = await seedDeclaration(h.declarations, { sellerId: seller.account.id, center: 'GD', messageType: 'CEB621', orderNo: 'E2E-DASH-1' });
    const foreign = await seedDeclaration(h.declarations, { sellerId: other.account.id, center: 'GD', orderNo: 'E2E-FOREIGN' });

    await page.goto(`${h.base}/dashboard`);
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
    await advance(h.declarations, mine.view.id, ['2', '120', '399', '800'], { source: 'receipt', signer: { subject: 'CN=Guangdong clearance center', serialHex: '01a2b3' }, info: '放行 released' });
    await advance(h.declarations, mine.view.id, ['899'], { source: 'receipt', signer: { subject: 'CN=Guangdong clearance center', serialHex: '01a2b3' }, info: '结关 cleared' });
    await page.waitForSelector('tr[data-order="E2E-DASH-1"][data-status="899"]', { timeout: 15000 });
    await page.waitForSelector('#feed li[data-status="899"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="count-899"] b')?.textContent === '1', undefined, { timeout: 15000 });
    await advance(h.declarations, foreign.view.id, ['signed']);

    await page.click('tr[data-order="E2E-DASH-1"]');
    await page.waitForSelector('#timeline li[data-status="899"]');
    const steps = await page.locator('#timeline li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-status')));
    expect(steps).to.deep.equal(['accepted', 'signed', 'queued', 'delivered', '2', '120', '399', '800', '899']);
    expect(await page.textContent('[data-testid="timeline-status"]')).to.contain('899 结关');

    // Centers and stats are on the page too.
    await page.waitForSelector('[data-testid="center-GD"]');

    const text = (await page.textContent('body')) ?? '';
    for (const secret of [mine.buyer.idNumber, mine.buyer.name, mine.buyer.phone, mine.buyer.address]) expect(text).to.not.include(secret);
    expect(text).to.include(`${mine.buyer.idNumber.slice(0, 4)}**********${mine.buyer.idNumber.slice(-4)}`);
    expect(text).to.not.include('E2E-FOREIGN');

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
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
