import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { startApp, type RunningApp } from '../support/app';
import { errorsOf, fitsWidth, launchBrowser, openPage, screenshot, seriousViolations, VIEWPORTS, type ViewportName } from '../support/browser';
import { docker, ensureFixture } from '../support/engine';
import { testEnv } from '../support/env';
import { eventually, gql } from '../support/graphql';
import { readSse, waitForJob } from '../support/jobs';

/**
 * The GraphQL explorer under /console/explorer.html, in Chromium: GraphiQL bundled with the
 * console, signed in with the console's token, running queries over HTTP and subscriptions over
 * graphql-ws, reaching nothing but this origin, usable and accessible on a desktop and a phone.
 */

const CONSOLE_DIR = 'dist/apps/console';
const TOKEN_KEY = 'drydock.token';
const enc = encodeURIComponent;

/** A page of the explorer, and what it asked of any host but the app's (data: and blob: URLs aside). */
interface ExplorerPage {
  page: Page;
  foreignRequests: string[];
}

describe('the GraphQL explorer', () => {
  let running: RunningApp;
  let browser: Browser;
  const pages: Page[] = [];

  beforeAll(async () => {
    ensureFixture();
    running = await startApp({ DRYDOCK_CONSOLE_DIR: CONSOLE_DIR });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await running?.close();
  });

  afterEach(async () => {
    await Promise.all(pages.splice(0).map((page) => page.context().close()));
  });

  /** Opens explorer.html at `viewport`, signed in as `token` (written where the console's sign-in writes it) unless null. */
  async function openExplorer(viewport: ViewportName, search = '', token: string | null = running.token): Promise<ExplorerPage> {
    const page = await openPage(browser, viewport);
    pages.push(page);
    const host = new URL(running.url).host;
    const foreignRequests: string[] = [];
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.protocol !== 'data:' && url.protocol !== 'blob:' && url.host !== host) foreignRequests.push(request.url());
    });
    page.on('websocket', (socket) => {
      if (new URL(socket.url()).host !== host) foreignRequests.push(socket.url());
    });
    if (token !== null) await page.context().addInitScript(([key, value]) => sessionStorage.setItem(key, value), [TOKEN_KEY, token] as const);
    await page.goto(`${running.url}/console/explorer.html${search}`);
    return { page, foreignRequests };
  }

  const resultPane = (page: Page) => page.getByRole('region', { name: 'Result Window' });

  /**
   * Runs the operation the URL opened the explorer with, once its editor holds it: GraphiQL's run
   * button does nothing while Monaco (loaded after the page) has yet to make the editor.
   */
  async function run(page: Page, expected: string): Promise<void> {
    const editor = page.getByRole('region', { name: 'Operation Editor' });
    await eventually(async () => ((await editor.innerText()).replace(/\s+/g, ' ').includes(expected) ? true : undefined), 30_000, `the editor to hold ${expected}`);
    await page.getByRole('button', { name: /^Execute query/ }).click();
  }

  /** The result pane's text once `pattern` shows in it (Monaco renders only the lines in view; its spaces are no-break ones). */
  async function resultShows(page: Page, pattern: RegExp): Promise<RegExpExecArray> {
    return eventually(
      async () => pattern.exec((await resultPane(page).innerText()).replace(/\u00a0/g, ' ')) ?? undefined,
      // Every image of a shared engine (over a thousand here), rendered by Monaco on a busy machine.
      60_000,
      `the result pane to show ${pattern}`,
    );
  }

  it('offers its own sign-in without a token, says why a bad token is refused, and keeps a good one in session storage only', async () => {
    const { page } = await openExplorer('desktop', '', null);
    const token = page.getByLabel('Token');
    await token.fill('ddk_not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('invalid bearer token');

    await token.fill(running.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: /^Execute query/ }).waitFor();
    await expect(page.evaluate<string | null>(`sessionStorage.getItem('${TOKEN_KEY}')`)).resolves.toBe(running.token);
    expect(page.url()).not.toContain(running.token);
    await expect(page.evaluate<string>('JSON.stringify(localStorage)')).resolves.not.toContain(running.token);
    expect(errorsOf(page)).toEqual([]);
  });

  it('runs { images { shortId } } over HTTP and shows the short id of an image on the engine', async () => {
    const { page } = await openExplorer('desktop', `?query=${enc('{ images { shortId } }')}`);
    await run(page, 'images { shortId }');
    const [, shown] = await resultShows(page, /"shortId": "([0-9a-f]{12})"/);

    const { data } = await gql<{ images: Array<{ shortId: string }> }>(running.url, '{ images { shortId } }', {}, running.auth);
    const fixtureId = docker('image', 'inspect', '--format', '{{.Id}}', testEnv.fixture).replace('sha256:', '').slice(0, 12);
    expect(data?.images.map((image) => image.shortId)).toEqual(expect.arrayContaining([fixtureId, shown]));
    expect(errorsOf(page)).toEqual([]);
  });

  it('runs a jobEvents subscription over graphql-ws, signed in with the token, and shows the events as they arrive', async () => {
    const pull = await fetch(`${running.url}/v1/images/pull`, {
      method: 'POST',
      headers: { ...running.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ reference: testEnv.fixture }),
    });
    expect(pull.status).toBe(202);
    const { id } = (await pull.json()) as { id: string };

    const query = `subscription { jobEvents(jobId: "${id}") { jobId sequence kind state } }`;
    const { page } = await openExplorer('desktop', `?query=${enc(query)}`);
    const sent: string[] = [];
    const received: Array<{ type: string; payload?: { data?: { jobEvents?: { sequence: number } } } }> = [];
    page.on('websocket', (socket) => {
      socket.on('framesent', (frame) => sent.push(String(frame.payload)));
      socket.on('framereceived', (frame) => received.push(JSON.parse(String(frame.payload))));
    });
    await run(page, `jobEvents(jobId: "${id}")`);

    // The subscription replays the job from its first event and completes after the last one.
    const job = await waitForJob(running.url, running.token, id);
    expect(job.state).toBe('SUCCEEDED');
    await resultShows(page, new RegExp(`"jobId": "${id}",\\s+"sequence": \\d+,\\s+"kind": "STATE",\\s+"state": "SUCCEEDED"`));

    const { events } = await readSse(running.url, running.token, id);
    const sequences = received.filter((message) => message.type === 'next').map((message) => message.payload?.data?.jobEvents?.sequence);
    expect(sequences).toEqual(events.map((event) => event.sequence));
    expect(sequences.length).toBeGreaterThan(1);
    const init = JSON.parse(sent[0] ?? '{}') as { type?: string; payload?: unknown };
    expect(init).toEqual({ type: 'connection_init', payload: { authorization: `Bearer ${running.token}` } });
    expect(errorsOf(page)).toEqual([]);
  });

  it.each(Object.keys(VIEWPORTS) as ViewportName[])(
    'is usable and accessible at %s size, reaching no other origin than the API',
    async (viewport) => {
      const signIn = await openExplorer(viewport, '', null);
      await signIn.page.getByLabel('Token').waitFor();
      await screenshot(signIn.page, 'explorer-sign-in');
      await expect(seriousViolations(signIn.page)).resolves.toEqual([]);
      await expect(fitsWidth(signIn.page)).resolves.toBe(true);

      // The fixture's repository only: a shared engine holds many images, and the page is judged, not the engine.
      const repository = testEnv.fixture.slice(0, testEnv.fixture.lastIndexOf(':'));
      const query = `{ images(filter: { reference: "${repository}" }) { shortId repoTags { repository tag } created size } }`;
      const { page, foreignRequests } = await openExplorer(viewport, `?query=${enc(query)}`);
      await run(page, repository);
      await resultShows(page, /"shortId": "[0-9a-f]{12}"/);
      await screenshot(page, 'explorer');
      await expect(seriousViolations(page)).resolves.toEqual([]);
      await expect(fitsWidth(page)).resolves.toBe(true);
      await expect(page.getByRole('banner').getByRole('link', { name: 'Console' }).getAttribute('href')).resolves.toBe('/console/');
      // With two operations each tab has a close button beside it: still no control inside another.
      await page.getByRole('button', { name: 'New tab' }).click();
      await page.getByRole('button', { name: 'Close Tab' }).first().waitFor();
      await expect(seriousViolations(page)).resolves.toEqual([]);

      await page.getByRole('banner').getByRole('link', { name: /OpenAPI/ }).click();
      await page.waitForURL(`${running.url}/docs`);
      await page.getByText('Drydock', { exact: false }).first().waitFor();
      expect(foreignRequests).toEqual([]);
      expect([...errorsOf(signIn.page), ...errorsOf(page)]).toEqual([]);
    },
  );
});

/** One GET exactly as written: fetch and supertest would resolve the `..` segments before sending. */
function rawGet(base: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Every route as `<path> (<methods>)`, from fastify's route tree, one line per node that has a handler. */
function routeTable(running: RunningApp): string[] {
  const tree = running.app.getHttpAdapter().getInstance().printRoutes({ commonPrefix: false });
  const prefixes: string[] = [];
  const routes: string[] = [];
  for (const line of tree.split('\n')) {
    const node = /^((?:[│ ] {3})*)[├└]── (.+?)(?: \(([^)]*)\))?$/.exec(line);
    if (!node) continue;
    const depth = (node[1] ?? '').length / 4;
    const path = (prefixes[depth - 1] ?? '') + (node[2] ?? '');
    prefixes[depth] = path;
    if (node[3]) routes.push(`${path} (${node[3].split(', ').sort().join(', ')})`);
  }
  return routes.sort();
}

describe('the API with and without the console', () => {
  let withConsole: RunningApp;
  let without: RunningApp;

  beforeAll(async () => {
    withConsole = await startApp({ DRYDOCK_CONSOLE_DIR: CONSOLE_DIR });
    without = await startApp({ DRYDOCK_CONSOLE_DIR: 'off' });
  });

  afterAll(async () => {
    await withConsole?.close();
    await without?.close();
  });

  it('has the same routes either way but /console and what lies under it', () => {
    const served = routeTable(withConsole);
    const bare = routeTable(without);
    expect(bare.length).toBeGreaterThan(20);
    expect(bare.filter((route) => route.startsWith('/console'))).toEqual([]);
    expect(served.filter((route) => !route.startsWith('/console'))).toEqual(bare);
    // The tree prints the wildcard under its static parent; hasRoute names it in full.
    expect(served.filter((route) => route.startsWith('/console'))).toHaveLength(2);
    const fastify = (running: RunningApp) => running.app.getHttpAdapter().getInstance();
    for (const url of ['/console', '/console/*']) {
      expect({ url, served: fastify(withConsole).hasRoute({ method: 'GET', url }), bare: fastify(without).hasRoute({ method: 'GET', url }) }).toEqual({ url, served: true, bare: false });
    }
  });

  it('describes the same API in its OpenAPI document either way', async () => {
    const [served, bare] = await Promise.all([withConsole, without].map(async (running) => (await fetch(`${running.url}/docs-json`)).json()));
    expect(Object.keys((bare as { paths: object }).paths).length).toBeGreaterThan(10);
    expect(served).toEqual(bare);
  });

  it('answers /console with a 404 problem when there is no console, and the API works as before', async () => {
    for (const path of ['/console', '/console/', '/console/explorer.html']) {
      const res = await rawGet(without.url, path);
      expect({ path, status: res.status, type: res.headers['content-type'] }).toEqual({ path, status: 404, type: expect.stringMatching(/^application\/problem\+json/) });
      expect(JSON.parse(res.body)).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    }
    const images = await fetch(`${without.url}/v1/images`, { headers: without.auth });
    expect(images.status).toBe(200);
    await expect(gql(without.url, '{ images { shortId } }', {}, without.auth)).resolves.toMatchObject({ status: 200, data: { images: expect.any(Array) } });
  });

  it('sends /console to /console/ and serves each page with the console CSP, never from a cache', async () => {
    const bare = await rawGet(withConsole.url, '/console');
    expect({ status: bare.status, location: bare.headers.location }).toEqual({ status: 301, location: '/console/' });
    for (const page of ['/console/', '/console/explorer.html']) {
      const res = await rawGet(withConsole.url, page);
      expect({ page, status: res.status, type: res.headers['content-type'] }).toEqual({ page, status: 200, type: expect.stringMatching(/^text\/html/) });
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("connect-src 'self';");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toMatch(/unsafe-eval|https?:|\bws:|\bwss:/);
    }
  });

  it('caches a built asset for good and answers a missing one with a 404 problem', async () => {
    const page = await rawGet(withConsole.url, '/console/explorer.html');
    const asset = /\/console\/assets\/[\w.-]+\.js/.exec(page.body)?.[0];
    expect(asset).toBeDefined();
    const res = await rawGet(withConsole.url, asset ?? '');
    expect({ status: res.status, type: res.headers['content-type'], cache: res.headers['cache-control'] }).toEqual({
      status: 200,
      type: expect.stringMatching(/javascript/),
      cache: 'public, max-age=31536000, immutable',
    });
    expect(res.headers['content-security-policy']).toBeUndefined();

    const missing = await rawGet(withConsole.url, '/console/assets/missing-00000000.js');
    expect({ status: missing.status, type: missing.headers['content-type'] }).toEqual({ status: 404, type: expect.stringMatching(/^application\/problem\+json/) });
  });

  it('keeps a path with dot segments inside the console folder', async () => {
    for (const path of ['/console/../v1/images', '/console/%2e%2e/v1/images', '/console/../../package.json', '/console/%2e%2e/%2e%2e/package.json', '/console/..%2f..%2fpackage.json']) {
      const res = await rawGet(withConsole.url, path, withConsole.auth);
      const refused = res.status === 403 || res.status === 404;
      expect({ path, refused, type: res.headers['content-type'] }).toEqual({ path, refused: true, type: expect.stringMatching(/^application\/problem\+json/) });
      expect(res.body).not.toContain('"name"');
    }
  });
});
