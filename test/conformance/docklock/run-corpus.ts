/**
 * Runs the whole conformance corpus on this thread and prints, as JSON, what each vector gave
 * ({ execArgv, results: { name: observation } }). corpus.test.ts runs it in child processes with
 * other engine flags (no optimisation, Liftoff only, TurboFan only, a small native stack).
 */
import { loadCorpus, loadProgramBytes, runVectors } from './corpus.js';

const corpus = loadCorpus();
const results = runVectors(corpus.vectors, await loadProgramBytes(corpus.vectors));
process.stdout.write(JSON.stringify({ execArgv: process.execArgv, results }) + '\n');
