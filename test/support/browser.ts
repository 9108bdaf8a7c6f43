import AxeBuilder from '@axe-core/playwright';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium: Playwright's own browser downloads are out of reach here, as is every network but loopback. */
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** The two sizes every console page must stay usable at. */
export const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;
export type ViewportName = keyof typeof VIEWPORTS;

/** Where the browser suites leave their screenshots: the test output, kept out of git with .data. */
export const SCREENSHOT_DIR = join(__dirname, '..', '..', '.data', 'test-output', 'console');

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
}

/** A fresh context (its own session storage) at one of the two sizes. */
export async function openPage(browser: Browser, viewport: ViewportName = 'desktop'): Promise<Page> {
  const context = await browser.newContext({ viewport: VIEWPORTS[viewport], isMobile: viewport === 'phone', hasTouch: viewport === 'phone' });
  const page = await context.newPage();
  // A page that throws is a failing page, even when what the test looks at still renders.
  page.on('pageerror', (error) => pageErrors.set(page, [...(pageErrors.get(page) ?? []), error.message]));
  return page;
}

const pageErrors = new WeakMap<Page, string[]>();

/** The uncaught errors the page has thrown so far. */
export function errorsOf(page: Page): string[] {
  return pageErrors.get(page) ?? [];
}

/** Saves `<name>-<width>x<height>.png` under SCREENSHOT_DIR; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const size = page.viewportSize();
  const file = join(SCREENSHOT_DIR, `${name}-${size?.width ?? 0}x${size?.height ?? 0}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** axe-core's serious and critical violations on the page as it is now, one line each (empty when there are none). */
export async function seriousViolations(page: Page): Promise<string[]> {
  const { violations } = await new AxeBuilder({ page }).analyze();
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.impact} ${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target.join(' ')).join(', ')})`);
}

/** True when nothing on the page is wider than the viewport: a phone user never scrolls sideways to reach a control. */
export async function fitsWidth(page: Page): Promise<boolean> {
  // A string, evaluated in the page: the suites' TypeScript has no DOM types.
  return page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth + 1');
}
