import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { JobStatus, execute, loadProgram } from '../../../docklock/index.js';

const JOBS = new URL('../../../../examples/jobs/', import.meta.url);
const INPUTS: Record<string, string> = { sha256: 'abc.bin', sort: 'sort-1024.bin', blur: 'blur-64x64.bin', mandelbrot: 'mandelbrot-64x64x100.bin', hostcalls: 'hostcalls.bin' };
const read = (p: string) => new Uint8Array(readFileSync(new URL(p, JOBS)));

/** examples/jobs: the checked-in programs are what their sources build to, and metering does not change what they compute. */
describe('examples/jobs', function () {
  this.timeout(120_000);

  it('every checked-in .wasm is what `npm run build:jobs` builds from its source (asc is reproducible)', () => {
    const r = spawnSync(process.execPath, [fileURLToPath(new URL('build.mjs', JOBS)), '--check'], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).to.equal(0);
  });

  for (const [name, input] of Object.entries(INPUTS)) {
    it(`${name}: DockLock's metered run gives the output of a plain, unmetered WebAssembly run (NaNs canonical)`, async () => {
      const { runPlain } = (await import(new URL('run-plain.mjs', JOBS).href)) as { runPlain(w: Uint8Array, i: Uint8Array, o: { clock: bigint }): Promise<{ output: Uint8Array }> };
      const wasm = read(`${name}.wasm`);
      const data = read(`inputs/${input}`);
      const metered = execute(loadProgram(wasm), { jobId: new Uint8Array(32), input: data, fuel: 1e9, clock: 0n });
      expect(metered.status, metered.trap).to.equal(JobStatus.Ok);
      const plain = (await runPlain(wasm, data, { clock: 0n })).output;
      if (name === 'hostcalls') {
        // The random bytes differ (the plain harness has its own); the reversed input and the clock do not.
        expect(metered.output.subarray(0, data.length)).to.deep.equal(plain.subarray(0, data.length));
        expect(metered.output.subarray(-8)).to.deep.equal(plain.subarray(-8));
      } else if (name === 'mandelbrot') {
        expect(metered.output.subarray(0, -8)).to.deep.equal(plain.subarray(0, -8));
        // The NaN: whatever the machine made of it, DockLock's is the canonical one.
        expect(Buffer.from(metered.output.subarray(-8)).toString('hex')).to.equal('000000000000f87f');
      } else expect(metered.output).to.deep.equal(plain);
    });
  }
});
