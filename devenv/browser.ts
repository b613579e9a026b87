// The browser the console's tests drive: Debian's chromium (scripts/bootstrap.sh --with-chromium),
// headless, through playwright-core, never a downloaded browser and never a network call of its
// own; a page that accepts every confirmation and keeps what each asked.
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { unusedPort } from './ports.ts';
import { startStack, type Stack } from './stack.ts';

export type TestBrowser = { browser: Browser; page: Page; dialogs: string[]; screenshot(name: string): Promise<void>; close(): Promise<void> };

export async function launchChromium(): Promise<TestBrowser> {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => { dialogs.push(dialog.message()); void dialog.accept(); });
  return {
    browser, page, dialogs,
    // TPS_CONSOLE_SCREENSHOTS=<folder>: the pictures docs/console.md shows.
    async screenshot(name) {
      const folder = process.env.TPS_CONSOLE_SCREENSHOTS;
      if (folder) await page.screenshot({ path: path.join(folder, `${name}.png`), fullPage: true });
    },
    close: () => browser.close(),
  };
}

/** A whole stack (the console among its roles, the admin API on with `token`) and the browser on it. */
export type ConsoleSession = TestBrowser & { stack: Stack; stop(): Promise<void> };

export async function openConsole(token: string, env: Record<string, string> = {}): Promise<ConsoleSession> {
  const stack = await startStack(`nats://127.0.0.1:${await unusedPort()}`, { ADMIN_API: 'true', ADMIN_TOKEN: token, AUTOSCALER_ENABLED: 'false', ...env }, { console: true });
  const browser = await launchChromium().catch(async (err: unknown) => { await stack.stop(); throw err; });
  return { ...browser, stack, async stop() { await browser.close(); await stack.stop(); } };
}

/** A test file's console: opened before its tests, stopped after them. What it holds is there once
 * the tests run; `text` reads an element by its test id, waiting for it to appear. */
export type ConsoleFixture = Readonly<ConsoleSession> & { text(testid: string): Promise<string | null> };

export function useConsole(token: string, env: Record<string, string> = {}): ConsoleFixture {
  let session: ConsoleSession | undefined;
  beforeAll(async () => { session = await openConsole(token, env); }, 120_000);
  afterAll(() => session?.stop());
  const open = (): ConsoleSession => {
    if (!session) throw new Error('the console is not open: use the fixture inside a test');
    return session;
  };
  return {
    get browser() { return open().browser; },
    get page() { return open().page; },
    get dialogs() { return open().dialogs; },
    get stack() { return open().stack; },
    screenshot: (name) => open().screenshot(name),
    close: () => open().close(),
    stop: () => open().stop(),
    text: (testid) => open().page.getByTestId(testid).textContent({ timeout: 20_000 }),
  };
}
