import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Blockchain, SignLog } from '../consensus/index.js';
import { StorageError } from '../storage/index.js';
import { NodeError, NodeErrorCode } from './errors.js';

export interface Health {
  ok: boolean;
  /** Why not, when not ok. */
  reason?: string;
}

/**
 * Whether the node can do its work, for GET /health, node_health and the
 * metanode_node_healthy gauge. A block that cannot be written makes it unhealthy while the chain
 * retries, and fatal once it gives up; a sign-log record that cannot be written is fatal at once
 * (the message it was for was never sent, and a restart reads the log back). A fatal failure is
 * emitted once as 'fatal': the process stops the node and exits (bin/metanode.ts).
 */
export class NodeHealth extends EventEmitter<{ fatal: [NodeError] }> {
  private fatalError: NodeError | undefined;
  private readonly writeFailures: Counter;

  constructor(
    private readonly opts: { writeRetries: number },
    private readonly deps: { chain: Blockchain; logger: Logger; registry: Registry },
  ) {
    super();
    const registers = [deps.registry];
    this.writeFailures = new Counter({ name: 'metanode_storage_write_failures_total', help: 'Failed attempts to write a block or a sign-log record to disk', registers });
    const status = () => this.status();
    new Gauge({
      name: 'metanode_node_healthy',
      help: '1 while the node is healthy (GET /health answers 200), 0 when it is not (503, with the reason)',
      registers,
      collect() {
        this.set(status().ok ? 1 : 0);
      },
    });
    deps.chain.on('writeFailed', (f) => {
      this.writeFailures.inc();
      if (f.final) this.fail(new NodeError(NodeErrorCode.StorageFailed, `cannot write block ${f.height} to disk after ${f.attempts} attempts (${f.error.message}); stopping`));
    });
  }

  status(): Health {
    if (this.fatalError) return { ok: false, reason: this.fatalError.message };
    const f = this.deps.chain.writeFailure;
    if (f) return { ok: false, reason: `cannot write block ${f.height} to disk (${f.error.message}); not signing; retrying (attempt ${f.attempts} of ${this.opts.writeRetries + 1} failed)` };
    return { ok: true };
  }

  /** The failure that stops the node, if one happened. */
  get fatal(): NodeError | undefined {
    return this.fatalError;
  }

  /** Records a failure the node cannot go on after (the first one only) and emits 'fatal'. */
  fail(e: NodeError): void {
    if (this.fatalError) return;
    this.fatalError = e;
    this.deps.logger.fatal({ code: e.code, err: e.message }, 'the node cannot go on');
    this.emit('fatal', e);
  }

  /** The sign log, with a failed write made fatal (nothing is sent without its record). */
  guardSignLog(inner: SignLog): SignLog {
    return {
      get: (h, r, t) => inner.get(h, r, t),
      atHeight: (h) => inner.atHeight(h),
      prune: (h) => inner.prune(h),
      record: async (height, round, type, envelope) => {
        try {
          await inner.record(height, round, type, envelope);
        } catch (e) {
          if (e instanceof StorageError) {
            this.writeFailures.inc();
            this.fail(new NodeError(NodeErrorCode.StorageFailed, `cannot write to the sign log (${e.message}); stopping`));
          }
          throw e;
        }
      },
    };
  }
}
