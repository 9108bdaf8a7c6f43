import type { Browser, Page } from 'playwright-core';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropRedisKeys, startApp, type RunningApp } from '../support/app';
import { errorsOf, fitsWidth, launchBrowser, openPage, screenshot, seriousViolations, type ViewportName } from '../support/browser';
import { docker, dockerBuild, removeImagesUnder, uniqueNamespace } from '../support/engine';
import { testEnv } from '../support/env';

/** Long enough for a pull or a build of a few seconds on a busy two-core machine. */
const JOB_DEADLINE_MS = 90_000;
const UI_DEADLINE_MS = 15_000;

describe('the web console', () => {
  const ns = uniqueNamespace('console');
  /** An image in the open registry with one big layer of random bytes: a pull whose bars have somewhere to go. */
  const bigImage = `${testEnv.registry}/${ns}/big:1`;
  let running: RunningApp;
  let browser: Browser;

  beforeAll(async () => {
    running = await startApp(
      { DRYDOCK_CONSOLE_DIR: 'dist/apps/console', DRYDOCK_RATE_LIMIT_MUTATIONS_PER_MINUTE: '0' },
      {
        tokens: [
          { name: 'builder-a', team: 'team-a', role: 'builder', namespaces: [`${ns}/**`, `${testEnv.registry}/${ns}/**`] },
          { name: 'viewer-a', team: 'team-a', role: 'viewer' },
        ],
      },
    );
    dockerBuild(bigImage, `FROM ${testEnv.fixture}\nRUN dd if=/dev/urandom of=/blob bs=1048576 count=48 2>/dev/null\n`);
    docker('push', bigImage);
    docker('rmi', bigImage);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await running?.close();
    if (running) await dropRedisKeys(running.config.keyPrefix);
    removeImagesUnder(ns);
  });

  const consoleUrl = (hash = '') => `${running.url}/console/${hash}`;

  async function signIn(page: Page, token: string, hash = '#/images'): Promise<void> {
    await page.goto(consoleUrl(hash));
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: UI_DEADLINE_MS });
  }

  /** Every page the suite visits: a screenshot, no serious axe violation, nothing wider than the screen, no uncaught error. */
  async function checkPage(page: Page, name: string): Promise<void> {
    await screenshot(page, name);
    expect(await seriousViolations(page)).toEqual([]);
    expect(await fitsWidth(page)).toBe(true);
    expect(errorsOf(page)).toEqual([]);
  }

  function jobState(page: Page): Promise<string> {
    return page.getByTestId('job-state').innerText();
  }

  async function waitForState(page: Page, states: string[]): Promise<string> {
    await page.getByTestId('job-state').filter({ hasText: new RegExp(`^(${states.join('|')})$`) }).waitFor({ timeout: JOB_DEADLINE_MS });
    return (await jobState(page)).trim();
  }

  it('builds from a folder packed into a tar in the browser', async () => {
    const mark = randomBytes(3).toString('hex');
    const folder = mkdtempSync(join(tmpdir(), 'console-context-'));
    mkdirSync(join(folder, 'deep', 'er'), { recursive: true });
    writeFileSync(join(folder, 'Dockerfile'), `FROM ${testEnv.fixture}\nCOPY deep /deep\nRUN cat /deep/er/note.txt\n`);
    writeFileSync(join(folder, 'deep', 'er', 'note.txt'), `note-${mark}\n`);
    const page = await openPage(browser, 'desktop');
    try {
      await signIn(page, running.tokens['builder-a'] as string, '#/build');
      await page.getByRole('radio', { name: 'Upload a folder' }).check();
      await page.getByLabel(/Context folder/).setInputFiles(folder);
      await page.getByLabel('Tags (space or comma separated)').fill(`${ns}/from-folder:1`);
      await page.getByRole('button', { name: 'Build', exact: true }).click();
      expect(await waitForState(page, ['SUCCEEDED', 'FAILED', 'CANCELLED'])).toBe('SUCCEEDED');
      // The file came through the packer whole, two folders down.
      expect(await page.getByRole('list', { name: 'Build steps' }).textContent()).toContain(`note-${mark}`);
      await checkPage(page, 'build-folder-desktop');
    } finally {
      await page.context().close();
      rmSync(folder, { recursive: true, force: true });
    }
  });

  describe.each<ViewportName>(['desktop', 'phone'])('at %s size', (viewport) => {
    let page: Page;
    const nonce = () => `${viewport}-${randomBytes(3).toString('hex')}`;

    beforeEach(async () => {
      page = await openPage(browser, viewport);
    });

    afterEach(async () => {
      await page.context().close();
    });

    it('signs in with a token kept in session storage, never in the URL, after showing why a bad one was refused', async () => {
      await page.goto(consoleUrl());
      await checkPage(page, `sign-in-${viewport}`);
      await page.getByLabel('API token').fill('not-a-real-token');
      await page.getByRole('button', { name: 'Sign in' }).click();
      const alert = page.getByRole('alert').filter({ hasText: 'UNAUTHENTICATED' });
      await alert.waitFor({ timeout: UI_DEADLINE_MS });
      await checkPage(page, `sign-in-refused-${viewport}`);

      const token = running.tokens['builder-a'] as string;
      await page.getByLabel('API token').fill(token);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByText('builder-a · team-a').waitFor({ timeout: UI_DEADLINE_MS });
      expect(await page.evaluate<string | null>("sessionStorage.getItem('drydock.token')")).toBe(token);
      expect(page.url()).not.toContain(token);

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByLabel('API token').waitFor({ timeout: UI_DEADLINE_MS });
      expect(await page.evaluate<string | null>("sessionStorage.getItem('drydock.token')")).toBeNull();
    });

    it('lists the fixture image as docker images does, filters it, and opens its inspect and history', async () => {
      await signIn(page, running.tokens['builder-a'] as string);
      const [repository, tag] = [testEnv.fixture.slice(0, testEnv.fixture.lastIndexOf(':')), testEnv.fixture.slice(testEnv.fixture.lastIndexOf(':') + 1)];
      const table = page.getByRole('table', { name: 'Images' });
      // The engine is shared and holds whatever other suites left: the table shows a page of it.
      await table.locator('tbody tr').first().waitFor({ timeout: UI_DEADLINE_MS });
      expect(await page.getByRole('status').filter({ hasText: /^Showing \d+ of \d+$/ }).count()).toBe(1);
      await checkPage(page, `images-${viewport}`);

      await page.getByLabel('Filter').fill('drydock-fixture');
      await table.locator('tbody tr').filter({ hasNotText: 'drydock-fixture' }).first().waitFor({ state: 'detached', timeout: UI_DEADLINE_MS });
      const row = table.getByRole('row').filter({ has: page.getByRole('link', { name: repository, exact: true }) }).filter({ hasText: tag });
      await row.first().waitFor({ timeout: UI_DEADLINE_MS });
      const shortId = docker('image', 'inspect', '--format', '{{.Id}}', testEnv.fixture).slice(7, 19);
      expect(await row.first().innerText()).toContain(shortId);
      await page.getByRole('button', { name: 'Size' }).click();
      await checkPage(page, `images-filtered-${viewport}`);

      await row.first().getByRole('link').click();
      await page.getByRole('heading', { name: testEnv.fixture }).waitFor({ timeout: UI_DEADLINE_MS });
      await page.getByRole('table', { name: 'History' }).getByRole('row').nth(1).waitFor({ timeout: UI_DEADLINE_MS });
      expect(await page.locator('dl.facts').first().innerText()).toContain(shortId);
      await checkPage(page, `image-${viewport}`);
    });

    it('pulls from the local registry with per-layer bars that move before the job ends', async () => {
      // The pull must fetch every layer: the image must not be on the engine (the other size's run pulled it).
      if (docker('image', 'ls', '-q', bigImage)) docker('rmi', '-f', bigImage);
      await signIn(page, running.tokens['builder-a'] as string, '#/pull');
      await checkPage(page, `pull-form-${viewport}`);
      // Every value a layer bar takes while the job is not over, as the page renders it.
      await page.evaluate(`
        window.__bars = [];
        new MutationObserver(() => {
          const state = document.querySelector('[data-testid=job-state]')?.textContent?.trim();
          for (const bar of document.querySelectorAll('progress.layer-bar[value]')) window.__bars.push([bar.getAttribute('aria-label'), bar.value, state]);
        }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
      `);
      await page.getByLabel('Reference').fill(bigImage);
      await page.getByRole('button', { name: 'Pull' }).click();
      expect(await waitForState(page, ['SUCCEEDED', 'FAILED', 'CANCELLED'])).toBe('SUCCEEDED');

      const moved = await page.evaluate<string[]>(`(() => {
        const seen = new Map();
        for (const [label, value, state] of window.__bars) {
          if (state !== 'RUNNING' && state !== 'QUEUED') continue;
          seen.set(label, (seen.get(label) ?? new Set()).add(value));
        }
        return [...seen].filter(([, values]) => values.size > 1).map(([label]) => label);
      })()`);
      expect(moved.length).toBeGreaterThan(0);
      expect(await page.getByTestId('transfer-totals').innerText()).toMatch(/layers? · .* of .*MB · 100% overall/);
      await checkPage(page, `pull-job-${viewport}`);
    });

    it('builds a two-step Dockerfile and shows the steps in order while it runs, each with its output', async () => {
      const mark = nonce();
      await signIn(page, running.tokens['builder-a'] as string, '#/build');
      await page.getByRole('textbox', { name: 'Dockerfile' }).fill(
        `FROM ${testEnv.fixture}\nRUN echo first-${mark}; for i in 1 2 3; do echo first-line-$i; sleep 1; done\nRUN echo second-${mark}; for i in 1 2 3; do echo second-line-$i; sleep 1; done\n`,
      );
      await page.getByLabel('Tags (space or comma separated)').fill(`${ns}/two-steps:${viewport}`);
      await checkPage(page, `build-form-${viewport}`);
      await page.getByRole('button', { name: 'Build', exact: true }).click();

      const steps = page.getByRole('list', { name: 'Build steps' }).getByRole('listitem');
      const first = steps.filter({ hasText: `echo first-${mark}` });
      const second = steps.filter({ hasText: `echo second-${mark}` });
      // Each step runs for about three seconds: the first runs while the second has not begun, then the second runs after it.
      await first.and(page.locator('[data-status=running]')).waitFor({ timeout: JOB_DEADLINE_MS });
      expect(['waiting', null]).toContain(await second.count() ? await second.getAttribute('data-status') : null);
      await second.and(page.locator('[data-status=running]')).waitFor({ timeout: JOB_DEADLINE_MS });
      expect(await first.getAttribute('data-status')).toBe('done');
      expect((await jobState(page)).trim()).toBe('RUNNING');
      await checkPage(page, `build-running-${viewport}`);
      const names = await steps.allInnerTexts();
      const firstAt = names.findIndex((name) => name.includes(`first-${mark}`));
      const secondAt = names.findIndex((name) => name.includes(`second-${mark}`));
      expect(firstAt).toBeGreaterThanOrEqual(0);
      expect(secondAt).toBeGreaterThan(firstAt);

      expect(await waitForState(page, ['SUCCEEDED', 'FAILED', 'CANCELLED'])).toBe('SUCCEEDED');
      await second.filter({ hasText: 'second-line-3' }).waitFor({ state: 'attached', timeout: UI_DEADLINE_MS });
      expect(await first.textContent()).toContain('first-line-3');
      expect(await first.textContent()).not.toContain('second-line-1');
      expect(await first.getAttribute('data-status')).toBe('done');
      await checkPage(page, `build-done-${viewport}`);
    });

    it("shows a failing build's failing step opened with its output", async () => {
      const mark = nonce();
      await signIn(page, running.tokens['builder-a'] as string, '#/build');
      await page.getByRole('textbox', { name: 'Dockerfile' }).fill(`FROM ${testEnv.fixture}\nRUN echo ok-${mark}\nRUN echo broken-${mark} && echo it-went-wrong-${mark} >&2 && exit 3\n`);
      await page.getByLabel('Tags (space or comma separated)').fill(`${ns}/failing:${viewport}`);
      await page.getByRole('button', { name: 'Build', exact: true }).click();
      expect(await waitForState(page, ['SUCCEEDED', 'FAILED', 'CANCELLED'])).toBe('FAILED');

      const failing = page.locator('.steps li[data-status=failed]');
      await failing.waitFor({ timeout: UI_DEADLINE_MS });
      expect(await failing.innerText()).toContain(`broken-${mark}`);
      // Opened: its output is on screen, not behind a click.
      await failing.getByText(`it-went-wrong-${mark}`).first().waitFor({ state: 'visible', timeout: UI_DEADLINE_MS });
      expect(await page.getByRole('alert').filter({ hasText: 'BUILD_FAILED' }).count()).toBeGreaterThan(0);
      await checkPage(page, `build-failed-${viewport}`);
    });

    it('tags, pushes, exports, and explains why a removal was refused before forcing it', async () => {
      const source = `${ns}/held:${viewport}`;
      const pushed = `${testEnv.registry}/${ns}/held`;
      dockerBuild(source, `FROM ${testEnv.fixture}\nLABEL console.test=${nonce()}\n`);
      page.on('dialog', (dialog) => void dialog.accept());
      await signIn(page, running.tokens['builder-a'] as string, `#/images/${encodeURIComponent(source)}`);
      await page.getByLabel('New repository').fill(pushed);
      await page.getByLabel('Tag', { exact: true }).fill(viewport);
      await page.getByRole('button', { name: 'Tag', exact: true }).click();
      await page.getByRole('status').filter({ hasText: `Tagged ${pushed}:${viewport}` }).waitFor({ timeout: UI_DEADLINE_MS });
      const shortId = docker('image', 'inspect', '--format', '{{.Id}}', source).slice(7, 19);

      await page.getByRole('button', { name: 'Export as tar' }).click();
      const download = page.getByRole('link', { name: /^Download .*\.tar$/ });
      await download.waitFor({ timeout: JOB_DEADLINE_MS });
      expect(await download.getAttribute('href')).toMatch(/^blob:/);
      await checkPage(page, `image-actions-${viewport}`);

      // Removed by id, an image with two names is refused (409): the page says why, and offers to force it.
      await page.goto(consoleUrl(`#/images/${shortId}`));
      await page.getByRole('button', { name: 'Remove', exact: true }).click();
      await page.getByRole('alert').filter({ hasText: '(409)' }).waitFor({ timeout: UI_DEADLINE_MS });
      await page.getByText('This image has 2 tags').waitFor();
      await checkPage(page, `image-remove-refused-${viewport}`);

      await page.goto(consoleUrl(`#/images/${encodeURIComponent(`${pushed}:${viewport}`)}`));
      await page.getByRole('button', { name: 'Push', exact: true }).click();
      expect(await waitForState(page, ['SUCCEEDED', 'FAILED', 'CANCELLED'])).toBe('SUCCEEDED');
      await page.locator('.layers li').first().waitFor({ timeout: UI_DEADLINE_MS });

      await page.goto(consoleUrl(`#/images/${shortId}`));
      await page.getByRole('button', { name: 'Remove', exact: true }).click();
      await page.getByRole('button', { name: 'Remove anyway (force)' }).click();
      await page.getByRole('table', { name: 'Images' }).waitFor({ timeout: UI_DEADLINE_MS });
      expect(docker('image', 'ls', '-q', source)).toBe('');
    });

    it('lists jobs live and replays a finished job from its first event', async () => {
      await signIn(page, running.tokens['builder-a'] as string, '#/jobs');
      const rows = page.getByRole('table', { name: 'Jobs' }).locator('tbody tr');
      await rows.first().waitFor({ timeout: UI_DEADLINE_MS });
      // A job started elsewhere shows up, and moves to its end, without a reload.
      const started = await fetch(`${running.url}/v1/images/pull`, {
        method: 'POST',
        headers: { authorization: `Bearer ${running.tokens['builder-a']}`, 'content-type': 'application/json' },
        body: JSON.stringify({ reference: bigImage }),
      });
      expect(started.status).toBe(202);
      const { id } = (await started.json()) as { id: string };
      await rows.filter({ hasText: id }).filter({ hasText: 'SUCCEEDED' }).waitFor({ timeout: JOB_DEADLINE_MS });
      await checkPage(page, `jobs-${viewport}`);

      await page.getByLabel('State').selectOption('SUCCEEDED');
      await rows.filter({ hasNotText: 'SUCCEEDED' }).first().waitFor({ state: 'detached', timeout: UI_DEADLINE_MS });
      await rows.filter({ hasText: id }).getByRole('link').click();
      expect(await waitForState(page, ['SUCCEEDED'])).toBe('SUCCEEDED');
      // Replayed from its first event: the line the pull began with is there.
      await page.getByRole('log', { name: 'Job output' }).filter({ hasText: `Pulling ${bigImage}` }).waitFor({ timeout: UI_DEADLINE_MS });
      await checkPage(page, `job-replayed-${viewport}`);
    });

    it('offers a viewer no build, pull, push, tag or remove', async () => {
      await signIn(page, running.tokens['viewer-a'] as string);
      await page.getByText('viewer-a · team-a').waitFor({ timeout: UI_DEADLINE_MS });
      const nav = page.getByRole('navigation', { name: 'Sections' });
      await nav.getByRole('link', { name: 'Images' }).waitFor();
      await page.getByRole('table', { name: 'Images' }).locator('tbody tr').first().waitFor({ timeout: UI_DEADLINE_MS });
      expect(await nav.getByRole('link', { name: 'Build' }).count()).toBe(0);
      expect(await nav.getByRole('link', { name: 'Pull' }).count()).toBe(0);
      await checkPage(page, `viewer-images-${viewport}`);

      await page.goto(consoleUrl(`#/images/${encodeURIComponent(testEnv.fixture)}`));
      await page.getByRole('table', { name: 'History' }).waitFor({ timeout: UI_DEADLINE_MS });
      for (const name of ['Push', 'Remove', 'Tag', 'Export as tar']) expect(await page.getByRole('button', { name, exact: true }).count()).toBe(0);

      await page.goto(consoleUrl('#/build'));
      await page.getByRole('alert').filter({ hasText: 'FORBIDDEN' }).waitFor({ timeout: UI_DEADLINE_MS });
      expect(await page.getByRole('button', { name: 'Build', exact: true }).count()).toBe(0);
      await checkPage(page, `viewer-build-${viewport}`);
    });
  });
});
