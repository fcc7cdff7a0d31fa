import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { toHex } from '../../chain/index.js';
import { expectSuccess, runCli, type CliResult } from '../unit/cli/helpers.js';
import { TestNode, devAddress, devKey, getAccount, sendTransfer, waitFor, waitForHeight, waitForReceipt, type AssetJson, type ReceiptJson, type RpcClient } from './harness.js';

/** Debian's Chromium (`apt-get install chromium`; .ci/run installs it). */
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** Screenshots for people to look at (gitignored). */
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));

/** Blocks a proposal has to reach its minimum deposit on this test's chain (the default is two days). */
const DEPOSIT_PERIOD_BLOCKS = 25;

interface ProposalJson {
  id: number;
  title: string;
  status: string;
  reason: string;
  participation: string;
  yesShare: string;
  vetoShare: string;
  wouldPass?: boolean;
  needed?: string;
}

/** The little of the DOM the phone test reads inside the page (this project compiles without the DOM's types). */
interface PageElement {
  getBoundingClientRect(): { top: number; bottom: number; right: number; width: number; height: number };
  parentElement: PageElement | null;
  firstElementChild: PageElement | null;
  children: { length: number };
  tagName: string;
  id: string;
  classList: Iterable<string>;
  textContent: string | null;
}
interface PageGlobals {
  document: { querySelector(s: string): PageElement | null; querySelectorAll(s: string): Iterable<PageElement>; documentElement: { scrollWidth: number } };
  innerWidth: number;
  getComputedStyle(e: PageElement): { overflowX: string };
  scrollTo(x: number, y: number): void;
}

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
    // A short deposit period, so that the governance test sees an underfunded proposal expire.
    const genesis = await node.readJson<{ modules: { court: { params: Record<string, string> } } }>('genesis');
    genesis.modules.court.params.depositPeriodBlocks = String(DEPOSIT_PERIOD_BLOCKS);
    await writeFile(node.paths.genesis, JSON.stringify(genesis, null, 2) + '\n');
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

  it('governance: open proposals with their live tally and time left, an expired one among the past, a proposal page', async function () {
    this.timeout(180_000);
    // Carol (dev account 3) bonds 10 GEN to the validator (which bonds 1 GEN itself), enough to
    // propose; she submits a text proposal with the whole minimum deposit (voting starts at once)
    // and votes yes, then one with only the minimum initial deposit (it waits for more).
    const dir = await mkdtemp(join(tmpdir(), 'metanode-e2e-explorer-gov-'));
    try {
      const env = { METANODE_RPC: node.url, METANODE_KEYSTORE: join(dir, 'keys'), METANODE_PASSWORD: 'e2e-password-1' };
      const cli = (args: string[], input = ''): Promise<CliResult> => runCli(args, env, input);
      const submitted = (r: CliResult): number => {
        expectSuccess(r);
        const out = JSON.parse(r.stdout) as { receipt: { status: string; events: { module: string; type: string; attributes: Record<string, string> | [string, string][] }[] } };
        expect(out.receipt.status).to.equal('success');
        const e = out.receipt.events.find((x) => x.module === 'court' && x.type === 'proposal_submitted')!;
        return Number((Array.isArray(e.attributes) ? Object.fromEntries(e.attributes) : e.attributes).id);
      };
      expectSuccess(await cli(['keys', 'import', 'carol'], toHex(devKey(3).secret) + '\n'));
      const { validator } = await rpc.call<{ validator: string }>('node_status');
      expectSuccess(await cli(['stake', 'delegate', validator, '10', '--key', 'carol', '--yes', '--wait']));
      const summary = 'Show proposals, their tally and what they still need in the explorer.\nA second line.';
      const voted = submitted(await cli(['gov', 'propose', 'text', '--title', 'Adopt the explorer charter', '--summary', summary, '--deposit', '1000', '--key', 'carol', '--yes', '--wait', '--json']));
      expectSuccess(await cli(['gov', 'vote', String(voted), 'yes', '--key', 'carol', '--yes', '--wait']));
      const underfunded = submitted(await cli(['gov', 'propose', 'text', '--title', 'An underfunded idea', '--deposit', '250', '--key', 'carol', '--yes', '--wait', '--json']));
      const p = await rpc.call<ProposalJson>('module_query', ['court', 'proposal', { id: voted }]);
      expect(p).to.deep.include({ status: 'voting', yesShare: '100.00%', vetoShare: '0.00%', wouldPass: true });

      await page.click('a[data-nav="governance"]');
      await page.waitForURL('**/#/governance');
      await page.evaluate(() => ((globalThis as Record<string, unknown>).__governancePage = true));
      const open = (id: number) => `#open-proposals tr[data-proposal="${id}"]`;
      await page.waitForSelector(open(voted));
      await page.waitForSelector(open(underfunded));
      expect(await page.getAttribute(`${open(voted)} [data-status]`, 'data-status')).to.equal('voting');
      expect(await page.innerText(`${open(voted)} a[href="#/proposal/${voted}"]`)).to.equal('Adopt the explorer charter');
      // The live tally, as the node reports it: carol's 10 of the 11 bonded GEN voted yes.
      expect(await page.innerText(`${open(voted)} [data-figure="participation"] .value`)).to.equal(p.participation);
      expect(await page.innerText(`${open(voted)} [data-figure="yes"] .value`)).to.equal('100.00%');
      expect(await page.innerText(`${open(voted)} [data-figure="veto"] .value`)).to.equal('0.00%');
      expect(await page.getAttribute(`${open(voted)} [data-would-pass]`, 'data-would-pass')).to.equal('yes');
      expect(await page.innerText(`${open(voted)} [data-needed]`)).to.equal(p.needed);
      expect(await page.getAttribute(`${open(voted)} .gov-bar .seg.yes`, 'style')).to.match(/^width: 9\d(\.\d+)?%;$/);
      const left = Number(await page.getAttribute(`${open(voted)} .time-left`, 'data-blocks-left'));
      expect(left).to.be.greaterThan(100_000); // the default voting period: two days of blocks
      expect(await page.innerText(`${open(voted)} .time-left`)).to.match(/^[\d,]+ blocks · ≈ \d+ (d|h|min)\b/);
      // The underfunded one collects deposits, and says what it lacks and how long it has.
      expect(await page.getAttribute(`${open(underfunded)} [data-status]`, 'data-status')).to.equal('deposit');
      expect(await page.innerText(`${open(underfunded)} [data-figure="deposit"]`)).to.contain('250 of 1,000 GEN');
      expect(await page.innerText(`${open(underfunded)} [data-needed]`)).to.contain('needs 750 GEN more');
      expect(Number(await page.getAttribute(`${open(underfunded)} .time-left`, 'data-blocks-left'))).to.be.within(1, DEPOSIT_PERIOD_BLOCKS);
      expect(await page.innerText('#past-proposals')).to.contain('No proposal has ended yet');

      // Its deposit period ends: the page moves it to the past proposals by itself, expired, with the reason.
      const past = `#past-proposals tr[data-proposal="${underfunded}"]`;
      await page.waitForSelector(past, { timeout: (DEPOSIT_PERIOD_BLOCKS + 20) * 1000 });
      expect(await page.getAttribute(`${past} [data-status]`, 'data-status')).to.equal('expired');
      const expired = await waitFor('the expired proposal', async () => {
        const x = await rpc.call<ProposalJson>('module_query', ['court', 'proposal', { id: underfunded }]);
        return x.status === 'expired' ? x : undefined;
      });
      expect(expired.reason).to.match(/^the deposits reached 250000000 of the 1000000000 GEN/);
      expect(await page.innerText(`${past} .gov-reason`)).to.equal(expired.reason);
      expect(await page.locator(open(underfunded)).count()).to.equal(0);
      expect(await page.locator(open(voted)).count()).to.equal(1);
      expect(await page.evaluate(() => (globalThis as Record<string, unknown>).__governancePage)).to.equal(true);
      await shot('governance');

      // The proposal's page: title, summary, content, tally, outlook, deposits and votes.
      await page.click(`${open(voted)} a[href="#/proposal/${voted}"]`);
      await page.waitForURL(`**/#/proposal/${voted}`);
      await page.waitForSelector('#proposal-summary');
      expect(await page.innerText('h1')).to.contain(`Proposal #${voted}`);
      expect(await page.innerText('#proposal-title')).to.equal('Adopt the explorer charter');
      expect(await page.innerText('#proposal-summary')).to.equal(summary);
      expect(await page.innerText('#proposal-content')).to.contain('A text proposal');
      expect(await page.innerText('#proposal-tally tr[data-option="yes"]')).to.contain('10GEN');
      expect(await page.getAttribute('#proposal-outcome [data-would-pass]', 'data-would-pass')).to.equal('yes');
      expect(await page.innerText(`#proposal-deposits tr[data-depositor="${devAddress(3)}"]`)).to.contain('1,000GEN');
      expect(await page.locator(`#proposal-votes tr[data-voter="${devAddress(3)}"]`).innerText()).to.contain('yes');
      await shot('proposal');

      // The expired one's page: its outcome and the reason.
      await page.goto(`${node.url}/#/proposal/${underfunded}`);
      await page.waitForSelector('#proposal-reason');
      expect(await page.innerText('#proposal-reason')).to.equal(expired.reason);
      expect(await page.getAttribute('#proposal-outcome [data-status]', 'data-status')).to.equal('expired');
      expect(await page.innerText('#proposal-deposits')).to.contain('burned');
      await page.goto(`${node.url}/#/proposal/${underfunded + 1000}`);
      await page.waitForSelector('text=Proposal not found');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('ENC: the jobs and execution-node pages on a chain with no job and no execution node', async () => {
    // Jobs run only on execution nodes (`metanode executor` processes, test/e2e/enc.test.ts):
    // this dev node has none, so the pages show their empty states and ENC's empty books.
    await page.click('a[data-nav="jobs"]');
    await page.waitForURL('**/#/jobs');
    await page.waitForSelector('#jobs');
    expect(await page.innerText('h1')).to.contain('Jobs');
    expect(await page.getAttribute('a[data-nav="jobs"]', 'class')).to.contain('active');
    expect(await page.innerText('#jobs')).to.contain('No jobs yet');
    expect(await page.locator('#jobs tr[data-job]').count()).to.equal(0);
    expect(await page.innerText('#jobs-stats [data-stat="submitted"]')).to.equal('0');
    expect((await page.innerText('#jobs-stats [data-stat="escrow"]')).replace(/\s+/g, '')).to.equal('0NEX');
    await shot('jobs');

    await page.click('a[data-nav="executors"]');
    await page.waitForURL('**/#/executors');
    await page.waitForSelector('#executors');
    expect(await page.innerText('h1')).to.contain('Execution nodes');
    expect(await page.getAttribute('a[data-nav="executors"]', 'class')).to.contain('active');
    expect(await page.innerText('#executors')).to.contain('No execution nodes registered');
    expect(await page.locator('#executors tr[data-executor]').count()).to.equal(0);
    expect(await page.innerText('#executors-stats [data-stat="nodes"]')).to.equal('0');
    // The genesis minimum bond, and ENC's account holding exactly its (empty) books.
    const params = await rpc.call<{ minBond: string }>('module_query', ['enc', 'params']);
    expect((await page.innerText('#executors-stats [data-stat="minBond"]')).replace(/\s+/g, '')).to.equal(`${human(params.minBond, decimals.get('GEN')!)}GEN`);
    expect(await page.getAttribute('#enc-pool [data-books]', 'data-books')).to.equal('match');
    await shot('executors');

    // A job id nobody submitted: the page says so instead of failing.
    await page.goto(`${node.url}/#/job/0x${'ab'.repeat(32)}`);
    await page.waitForSelector('text=Job not found');
  });

  it('works on a 390 px phone: no page is wider than the screen, nothing is cut off (wide tables scroll), long hashes wrap, the header leaves the content in view', async () => {
    const phone = await browser.newPage();
    phone.on('pageerror', (e) => pageErrors.push(e.message));
    await phone.setViewportSize({ width: 390, height: 844 });
    const { hash, receipt, from } = transfer;
    const routes = ['#/', '#/blocks', `#/block/${receipt.blockHeight}`, `#/tx/${hash}`, `#/account/${from}`, '#/validators', '#/governance', '#/proposal/1', '#/jobs', '#/executors'];
    const problems: string[] = [];
    for (const route of routes) {
      await phone.goto(`${node.url}/${route}`);
      await phone.waitForFunction(() => {
        const d = (globalThis as unknown as PageGlobals).document;
        return (d.querySelector('#app')?.children.length ?? 0) > 0 && !d.querySelector('#app .loading');
      });
      await phone.waitForTimeout(150);
      // Runs in the page (serialized: it may use nothing from this file but types).
      const m = await phone.evaluate(() => {
        const g = globalThis as unknown as PageGlobals;
        const width = g.innerWidth;
        const scrolls = (e: PageElement): boolean => {
          for (let a = e.parentElement; a; a = a.parentElement) if (['auto', 'scroll'].includes(g.getComputedStyle(a).overflowX)) return true;
          return false;
        };
        const cut = [...g.document.querySelectorAll('header *, main *, footer *')]
          .filter((e) => {
            const r = e.getBoundingClientRect();
            return r.width > 0 && r.height > 0 && r.right > width + 1 && !scrolls(e);
          })
          .map((e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}.${[...e.classList].join('.')} "${(e.textContent ?? '').slice(0, 30)}" right=${Math.round(e.getBoundingClientRect().right)}`);
        const main = g.document.querySelector('main')!;
        const header = g.document.querySelector('header')!.getBoundingClientRect();
        const content = (main.firstElementChild ?? main).getBoundingClientRect();
        g.scrollTo(0, 400);
        const after = g.document.querySelector('header')!.getBoundingClientRect();
        g.scrollTo(0, 0);
        return { page: g.document.documentElement.scrollWidth, width, cut: cut.slice(0, 5), headerBottom: header.bottom, mainTop: content.top, stickyHeight: after.bottom > 0 ? after.height : 0 };
      });
      if (m.page > m.width) problems.push(`${route}: the page is ${m.page} px wide on a ${m.width} px screen`);
      for (const c of m.cut) problems.push(`${route}: cut off: ${c}`);
      if (m.mainTop < m.headerBottom + 8) problems.push(`${route}: the content starts ${m.mainTop - m.headerBottom} px under the header`);
      if (m.stickyHeight > 844 / 4) problems.push(`${route}: a header of ${m.stickyHeight} px stays over the content when scrolled`);
      if (route.startsWith('#/tx/')) await phone.screenshot({ path: join(ARTIFACTS, 'explorer-phone-tx.png'), fullPage: true });
    }
    // A mistyped address says what the CLI says: bad checksum.
    const typo = from.slice(0, -1) + (from.endsWith('q') ? 'p' : 'q');
    await phone.goto(`${node.url}/#/account/${typo}`);
    await phone.waitForSelector('main .notice');
    expect(await phone.innerText('main')).to.contain('bad checksum');
    await phone.close();
    expect(problems).to.deep.equal([]);
  });

  it("talks to the node through metanode/client's browser bundle, and reconnects by itself when the node comes back", async () => {
    const loaded: string[] = [];
    const onRequest = (r: { url(): string }) => loaded.push(new URL(r.url()).pathname);
    page.on('request', onRequest);
    try {
      await page.goto(`${node.url}/#/`);
      await page.reload(); // a fresh load of the page's scripts
      await page.waitForSelector('#live.on');
      expect(loaded).to.include('/js/metanode-client.js');
      // What the node serves is what the build made from client/browser/ (not a copy of its own).
      const served = await (await fetch(`${node.url}/js/metanode-client.js`)).text();
      expect(served).to.equal(await readFile(fileURLToPath(new URL('../../explorer/metanode-client.js', import.meta.url)), 'utf8'));
      // Every call went through it: POST / (no other JSON-RPC path exists in the page's scripts).
      const rpcJs = await (await fetch(`${node.url}/js/rpc.js`)).text();
      expect(rpcJs).to.contain("from './metanode-client.js'").and.not.to.match(/\bfetch\(|new WebSocket\(/);

      const before = Number(await page.getAttribute('#latest-blocks tbody tr[data-height]', 'data-height'));
      const mark = pageErrors.length;
      await node.stop();
      await page.waitForSelector('#live.off');
      expect(await page.innerText('#live .live-text')).to.equal('reconnecting…');
      await node.start(); // the same port
      await page.waitForSelector('#live.on', { timeout: 30_000 });
      // Blocks made after the restart appear on the page without a reload.
      const head = await waitForHeight(rpc, before + 2);
      await page.waitForSelector(`#latest-blocks tbody tr[data-height="${head}"]`, { timeout: 20_000 });
      // While the node was away the browser logged its refused connections, and nothing else.
      for (const e of pageErrors.splice(mark)) expect(e).to.match(/ERR_CONNECTION_REFUSED|WebSocket connection to .* failed/);

      // The bundle signs in the browser (@noble/curves' Ed25519) what the node accepts: a transfer
      // built, signed and sent from the page, then followed to its receipt.
      const to = devAddress(5);
      const balance = await getAccount(rpc, to);
      const sent = (await page.evaluate(
        async ([secret, to]) => {
          const m = (await import('/js/metanode-client.js' as string)) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
          const c = new m.MetanodeClient({ url: (globalThis as unknown as { location: { origin: string } }).location.origin });
          const tx = await c.send(m.signerFromSecret(secret), m.bank.transfer({ to, asset: 'NEX', amount: '7' }));
          const receipt = await c.waitForReceipt(tx);
          return { hash: m.toHex(tx.hash()), status: receipt.status };
        },
        [toHex(devKey(4).secret), to] as const,
      )) as { hash: string; status: string };
      expect(sent.status).to.equal('success');
      expect((await waitForReceipt(rpc, sent.hash)).status).to.equal('success');
      expect(BigInt((await getAccount(rpc, to)).balances.NEX!) - BigInt(balance.balances.NEX!)).to.equal(7n);
    } finally {
      page.off('request', onRequest);
    }
  });

  it('loaded nothing from other origins and raised no errors', () => {
    expect(foreignRequests).to.deep.equal([]);
    expect(pageErrors).to.deep.equal([]);
  });
});
