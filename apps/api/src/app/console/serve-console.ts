import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { basename } from 'node:path';

// The console talks only to this origin's API: 'self' covers the same-origin graphql-ws socket
// (CSP 3), so no other WebSocket host is reachable. The explorer's editor (Monaco) sets inline
// styles and runs its language services in workers, which the build emits as files of this origin
// (graphiql/setup-workers/vite hands Monaco its own getWorker, so Monaco's blob: fallback is never
// taken). Nothing may frame a page, so a signed-in one cannot be clickjacked.
const CONSOLE_CSP = [
  "default-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data: blob:",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "worker-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/**
 * The built console (apps/console) under /console, and nothing else: the API's own paths do not
 * change, and without a built console the API runs as before. Vite names every asset by its
 * content, so those are cached for good; the pages never are, so a new build is seen at once.
 */
export function serveConsole(app: NestFastifyApplication, dir: string): void {
  app.useStaticAssets({
    root: dir,
    prefix: '/console/',
    index: ['index.html'],
    // The folder must end in a slash for the pages' relative asset paths; /console goes there.
    redirect: true,
    // @fastify/static would otherwise write its own `public, max-age=0` over the cache-control set below.
    cacheControl: false,
    setHeaders: (res: { setHeader(name: string, value: string): void }, path: string) => {
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader('referrer-policy', 'no-referrer');
      if (basename(path).endsWith('.html')) {
        res.setHeader('content-security-policy', CONSOLE_CSP);
        res.setHeader('cache-control', 'no-cache');
      } else {
        res.setHeader('cache-control', 'public, max-age=31536000, immutable');
      }
    },
  });
  const fastify = app.getHttpAdapter().getInstance();
  fastify.get('/console', (_request: FastifyRequest, reply: FastifyReply) => reply.redirect('/console/', 301));
}
