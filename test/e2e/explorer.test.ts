import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { TestNode, devAddress, getAccount, sendTransfer, waitForHeight, waitForReceipt, type AssetJson, type ReceiptJson, type RpcClient } from './harness.js';

/** Debian's Chromium (`apt-get install chromium`; .ci/run installs it). */
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** Screenshots for people to look at (gitignored). */
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));

/** Base units as the explorer shows them: 1234500000 with 6 decimals → "1,234.5". */
function human(base: string, decimals: number): string {
  const v = BigInt(base);
  const scale = 10n ** BigInt(decimals);
  const frac = decimals ? (v % scale).toString().padStart(decimals, '0').replace(/0+$/, '') : '';
  return (v / scale).toLocaleString('en-US') + (frac ? `.${frac}` : '');
}

describe('e2e: the block explorer in headless Chromium', function () {
  this.timeout(120_000);
  let node: TestNode;
  let rpc: RpcClient;
  let profile: string;
  let browser: BrowserContext;
  let page: Page;
  let decimals: Map<string, number>;
  const pageErrors: string[] = [];
  const foreignRequests: string[] = [];
  let transfer: { hash: string; receipt: ReceiptJson; from: string; to: string; amount: string };

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      if (process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs it with apt-get install chromium`);
      this.skip(); // a developer machine without Chromium: `apt-get install chromium` to run this
    }
    await mkdir(ARTIFACTS, { recursive: true });
    node = await TestNode.init({ emptyBlockIntervalMs: 1000 });
    await node.start();
    rpc = node.rpc;
    await waitForHeight(rpc, 1);
    decimals = new Map((await rpc.call<AssetJson[]>('bank_getAssets')).map((a) => [a.symbol, a.decimals]));
    profile = await mkdtemp(join(tmpdir(), 'metanode-chromium-'));
    browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1280, height: 900 } });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (u.host !== new URL(node.url).host) foreignRequests.push(r.url());
    });
  });

  after(async () => {
    await browser?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
    await node?.remove();
  });

  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `explorer-${name}.png`), fullPage: true });

  it('home: a transfer\'s block and transaction appear live, without reloading the page', async () => {
    await page.goto(`${node.url}/`);
    await page.waitForSelector('#latest-blocks tbody tr[data-height]');
    await page.waitForSelector('#live.on');
    // A marker that a reload would wipe out.
    await page.evaluate(() => ((globalThis as Record<string, unknown>).__sameDocument = true));
    const startHeight = Number(await page.getAttribute('#latest-blocks tbody tr[data-height]', 'data-height'));

    const amount = 1_234_500_000n;
    const { hash } = await sendTransfer(rpc, { chainId: node.chainId, from: 1, to: 2, asset: 'NEX', amount });
    const receipt = await waitForReceipt(rpc, hash);
    transfer = { hash, receipt, from: devAddress(1), to: devAddress(2), amount: amount.toString() };
    expect(receipt.blockHeight).to.be.greaterThan(startHeight);

    await page.waitForSelector(`#latest-blocks tr[data-height="${receipt.blockHeight}"]`);
    const row = page.locator(`#latest-txs tr[data-tx="${hash}"]`);
    await row.waitFor();
    expect(await row.innerText()).to.contain(human(transfer.amount, decimals.get('NEX')!)).and.contain('NEX');
    expect(await page.evaluate(() => (globalThis as Record<string, unknown>).__sameDocument)).to.equal(true);
    expect(await page.innerText('#stat-height')).to.match(/^[\d,]+$/);
    await shot('home');
  });

  it('follows block → transaction → account', async () => {
    const { hash, receipt, to } = transfer;
    await page.click(`#latest-blocks tr[data-height="${receipt.blockHeight}"] td:first-child a`);
    await page.waitForURL(`**/#/block/${receipt.blockHeight}`);
    await page.waitForSelector('#signers');
    expect(await page.innerText('h1')).to.contain(`Block #${receipt.blockHeight.toLocaleString('en-US')}`);
    expect(await page.innerText('#signed-count')).to.contain('1 of 1 validators');
    expect(await page.locator('#signers [data-signed="yes"]').count()).to.equal(1);
    await shot('block');

    await page.click(`#block-txs tr[data-tx="${hash}"] a[href="#/tx/${hash}"]`);
    await page.waitForURL(`**/#/tx/${hash}`);
    await page.waitForSelector('#tx-status');
    expect(await page.innerText('#tx-status')).to.equal('Success');
    const body = await page.innerText('main');
    expect(body).to.contain(human(transfer.amount, decimals.get('NEX')!)).and.contain('bank.transfer').and.contain(to);
    expect(await page.locator('#tx-events .event').count()).to.equal(receipt.events.length);
    await shot('transaction');

    await page.click(`main a[href="#/account/${to}"] >> nth=0`);
    await page.waitForURL(`**/#/account/${to}`);
    await page.waitForSelector(`#account-txs tr[data-tx="${hash}"]`);
    const account = await getAccount(rpc, to);
    for (const [sym, v] of Object.entries(account.balances)) {
      expect(await page.innerText(`#balances [data-asset="${sym}"] .value`), sym).to.equal(human(v, decimals.get(sym)!));
    }
    await shot('account');
  });

  it('searches by height, block hash, transaction hash and address; lists the validators', async () => {
    const { hash, receipt, from } = transfer;
    const search = async (q: string) => {
      await page.fill('#search-input', q);
      await page.press('#search-input', 'Enter');
    };
    await search(String(receipt.blockHeight));
    await page.waitForURL(`**/#/block/${receipt.blockHeight}`);
    await search(receipt.blockHash);
    await page.waitForURL(`**/#/block/${receipt.blockHeight}`);
    await search(hash);
    await page.waitForURL(`**/#/tx/${hash}`);
    await search(from);
    await page.waitForURL(`**/#/account/${from}`);
    await page.waitForSelector(`#account-txs tr[data-tx="${hash}"]`);
    await search('not-a-thing');
    await page.waitForSelector('text=Nothing found');

    await page.click('a[data-nav="validators"]');
    await page.waitForSelector('#validator-set tr[data-validator]');
    const status = await rpc.call<{ validator: string }>('node_status');
    expect(await page.getAttribute('#validator-set tr[data-validator]', 'data-validator')).to.equal(status.validator);
    // Staking's view of it: active, its genesis self-bond, nothing missed, no slashes.
    const row = `#staking-validators tr[data-candidate="${status.validator}"]`;
    await page.waitForSelector(row);
    expect(await page.getAttribute(`${row} [data-status]`, 'data-status')).to.equal('active');
    const cells = await page.locator(`${row} td`).allInnerTexts();
    expect(cells.slice(2, 8).map((c) => c.replace(/\s+/g, ' ').trim())).to.deep.equal(['1', '1GEN', '0GEN', '0.00 %', '0 / 10000', 'none']);
    await shot('validators');
  });

  it('loaded nothing from other origins and raised no errors', () => {
    expect(foreignRequests).to.deep.equal([]);
    expect(pageErrors).to.deep.equal([]);
  });
});
