import { expect } from 'chai';
import { alignDecimals, cell, formatTime, kvTable, Output, table, toJson } from '../../../bin/cli/output.js';

function sinks(isTTY = false): { out: string[]; err: string[]; deps: ConstructorParameters<typeof Output>[1] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, deps: { stdout: { write: (s: string) => out.push(s), isTTY }, stderr: { write: (s: string) => err.push(s), isTTY } } };
}

describe('cli/output', () => {
  it('aligns key-value tables and leaves out undefined rows', () => {
    expect(kvTable([['chain id', 'dev'], ['head', '12'], ['skip', undefined], ['x', '']])).to.equal('chain id  dev\nhead      12\nx');
  });

  it('aligns grid columns, right-aligning numbers on their decimal point', () => {
    const t = table(['ASSET', 'BALANCE'], [['GEN', '1000'], ['NEX', '1.5'], ['FLX', '0.000001']], ['l', 'd']);
    expect(t.split('\n')).to.deep.equal(['ASSET      BALANCE', 'GEN    1000', 'NEX       1.5', 'FLX       0.000001']);
    const dots = t.split('\n').slice(1).map((l) => l.indexOf('.')).filter((i) => i >= 0);
    expect(new Set(dots).size).to.equal(1);
  });

  it('pads decimals so points line up', () => {
    expect(alignDecimals(['1000', '1.5', '0.25'])).to.deep.equal(['1000   ', '1.5 ', '0.25']);
  });

  it('prints exactly one JSON document with --json, bigints and bytes in their JSON forms', () => {
    const s = sinks();
    const o = new Output({ json: true }, s.deps);
    o.note('a summary');
    o.result({ amount: 5n, raw: Uint8Array.of(1, 255) }, () => 'human');
    expect(s.out).to.have.length(1);
    expect(JSON.parse(s.out[0]!)).to.deep.equal({ amount: '5', raw: '0x01ff' });
    expect(s.err.join('')).to.equal('a summary\n');
  });

  it('prints the human rendering without --json', () => {
    const s = sinks();
    new Output({ json: false }, s.deps).result({ a: 1 }, () => 'line');
    expect(s.out).to.deep.equal(['line\n']);
  });

  it('draws no spinner when stderr is not a terminal, and clears it on a terminal', () => {
    const plain = sinks(false);
    new Output({ json: false }, plain.deps).spinner('waiting').stop();
    expect(plain.err).to.deep.equal([]);
    const tty = sinks(true);
    const sp = new Output({ json: false }, tty.deps).spinner('waiting');
    sp.stop();
    expect(tty.err[0]).to.include('waiting');
    expect(tty.err.at(-1)).to.equal('\r\x1b[2K');
  });

  it('formats cells and times', () => {
    expect([cell(null), cell(true), cell(3), cell('x'), cell([1])]).to.deep.equal(['-', 'yes', '3', 'x', '[1]']);
    expect(formatTime(Date.UTC(2025, 0, 2, 3, 4, 5), Date.UTC(2025, 0, 2, 3, 4, 17))).to.equal('2025-01-02 03:04:05Z (12s ago)');
    expect(toJson({ n: 1n })).to.equal('{\n  "n": "1"\n}');
  });
});
