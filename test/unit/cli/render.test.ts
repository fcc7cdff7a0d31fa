import { expect } from 'chai';
import { parseBlockRef, renderBlock } from '../../../bin/cli/commands/block.js';
import { renderStatus } from '../../../bin/cli/commands/status.js';
import { ExitCode } from '../../../bin/cli/errors.js';
import { assertReceiptOk, receiptOk, renderReceipt } from '../../../bin/cli/receipt.js';

const units = { decimals: new Map([['NEX', 6]]), feeAsset: 'NEX' };
const H = '0x' + '11'.repeat(32);

describe('cli/render', () => {
  it('reads receipt status in the forms a node may use', () => {
    expect(receiptOk({ status: 'success' })).to.equal(true);
    expect(receiptOk({ status: 'failed' })).to.equal(false);
    expect(receiptOk({ status: 0 })).to.equal(true);
    expect(receiptOk({ status: 1 })).to.equal(false);
    expect(() => assertReceiptOk({ status: 'failed', errorCode: 'BANK_X', errorMessage: 'no' }, H))
      .to.throw(`transaction ${H} was committed but failed: BANK_X: no (the fee was still charged)`)
      .with.property('exitCode', ExitCode.TxFailed);
  });

  it('renders a receipt with the fee in NEX and events with their attributes, amounts in their asset\'s units', () => {
    const events = [
      { module: 'bank', type: 'fee', attributes: { payer: 'mn1a', amount: '1000' } },
      { module: 'bank', type: 'transfer', attributes: { asset: 'NEX', amount: '5' } },
      { module: 'x', type: 'y', attributes: { asset: 'ZZZ', amount: '7' } },
    ];
    const text = renderReceipt({ txHash: H, status: 'success', blockHeight: 7, blockHash: H, index: 0, fee: '1000', events }, units);
    expect(text).to.equal([
      `transaction  ${H}`, 'status       success', `block        7 ${H}`, 'index        0', 'fee          0.001 NEX',
      'events       bank/fee payer=mn1a amount=0.001 NEX (1000)',
      '             bank/transfer asset=NEX amount=0.000005 NEX (5)',
      '             x/y asset=ZZZ amount=7',
    ].join('\n'));
  });

  it('renders a block, flat or with a nested header', () => {
    const flat = renderBlock({ height: 3, hash: H, timestamp: 0, transactions: [H], certificate: { round: 0, signers: [0, 1] } }, 1000);
    expect(flat).to.include('height        3\n');
    expect(flat).to.include('certificate   round 0, 2 signers\ntransactions  1\n              0x1111');
    expect(renderBlock({ hash: H, header: { height: 4 }, transactions: [] })).to.match(/^height +4\nhash +0x11/);
  });

  it('parses block references', () => {
    expect(parseBlockRef(undefined)).to.deep.equal({ height: 'latest' });
    expect(parseBlockRef('12')).to.deep.equal({ height: 12 });
    expect(parseBlockRef(H.toUpperCase().replace('0X', '0x'))).to.deep.equal({ hash: H });
    expect(() => parseBlockRef('-1')).to.throw().with.property('exitCode', ExitCode.Usage);
  });

  it('renders the status with the validator set', () => {
    const s = renderStatus(
      'http://n',
      { chainId: 'c', version: '1', head: { height: 2, hash: H, timestamp: 1 }, syncing: false, validator: 'mn1v', validators: 1, peers: 3, mempool: { size: 0, bytes: 0 } },
      { height: 2, hash: H, quorum: '4', totalPower: '5', validators: [{ address: 'mn1v', publicKey: '0x', blsPublicKey: '0x', power: '5' }] },
    );
    expect(s).to.include('syncing    no\nvalidator  yes (mn1v)\npeers      3');
    expect(s).to.include('validators at height 2 (1, total power 5)\nADDRESS  POWER\nmn1v         5');
  });
});
