import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

export interface MetricsServerOptions {
  host: string;
  port: number;
}

/**
 * GET /metrics (Prometheus text format) on a listener of its own, as CometBFT's
 * prometheus_listen_addr: scraped by the operator's monitoring, never exposed with the public
 * JSON-RPC port. Nothing else is served; connections and request times are bounded.
 */
export class MetricsServer {
  private server: Server | undefined;

  constructor(
    readonly opts: MetricsServerOptions,
    private readonly deps: { registry: Registry; logger: Logger },
  ) {}

  get url(): string {
    const a = this.server?.address() as AddressInfo | undefined;
    return a ? `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : '';
  }

  async start(): Promise<void> {
    const { registry, logger } = this.deps;
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('metrics are served at GET /metrics\n');
        return;
      }
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType, 'content-length': Buffer.byteLength(text) }).end(text),
        (err: unknown) => {
          logger.error({ err }, 'collecting metrics failed');
          res.writeHead(500).end();
        },
      );
    });
    server.maxConnections = 32;
    server.headersTimeout = 10_000;
    server.requestTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) => reject(new Error(`cannot serve metrics on ${this.opts.host}:${this.opts.port}: ${e.message} (config.json metrics.port)`)));
      server.listen(this.opts.port, this.opts.host, () => resolve());
    });
    server.removeAllListeners('error');
    server.on('error', (e) => logger.warn({ err: e.message }, 'metrics listener error'));
    this.server = server;
    logger.info({ url: `${this.url}/metrics` }, 'metrics listening');
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }
}
