import { DrydockError, ErrorCode } from '@drydock/core';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { problemOf } from '../common/problem';
import type { DrydockMetrics } from './drydock-metrics';

/**
 * The METRICS_PORT listener: GET /metrics and nothing else, without a token.
 * Whoever can reach it reads the metrics, so it binds to loopback unless
 * the operator names another address. A plain HTTP server, not the app's
 * Fastify: none of the API's routes, guards or body parsers are behind it.
 */
export class MetricsServer {
  private readonly server: Server;

  constructor(private readonly metrics: DrydockMetrics) {
    this.server = createServer((request, response) => void this.answer(request, response));
    // A scraper that holds a connection open must not hold the process at shutdown.
    this.server.keepAliveTimeout = 5_000;
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 10_000;
  }

  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  address(): AddressInfo | null {
    const address = this.server.address();
    return address && typeof address === 'object' ? address : null;
  }

  close(): Promise<void> {
    if (!this.server.listening) return Promise.resolve();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '').replace(/\?.*$/, '');
    if (path !== '/metrics') return refuse(response, new DrydockError(ErrorCode.NOT_FOUND, `${path.slice(0, 200)}: this port serves /metrics only`));
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return refuse(response, new DrydockError(ErrorCode.VALIDATION_FAILED, `${request.method}: /metrics answers GET only`));
    }
    try {
      const body = await this.metrics.render();
      response.writeHead(200, { 'content-type': this.metrics.contentType(), 'cache-control': 'no-store' });
      response.end(request.method === 'HEAD' ? undefined : body);
    } catch (error) {
      refuse(response, new DrydockError(ErrorCode.INTERNAL, `metrics could not be rendered: ${(error as Error).message}`));
    }
  }
}

function refuse(response: ServerResponse, error: DrydockError): void {
  const problem = problemOf(error);
  response.writeHead(problem.status, { 'content-type': 'application/problem+json' });
  response.end(JSON.stringify(problem));
}
