/**
 * What the browser specs share: the page built into a temp dir (so they do not depend on
 * `npm run build`), an in-process daemon serving it, and one headless Chromium — one of each
 * per spec file, all stopped after the file's tests even when they fail.
 */
import * as fs from "node:fs";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { pageUrl } from "../../lib/protocol/page-url";
import type { Session } from "../../lib/session/session";
import { removeDir, startTestDaemon, type TestRoom } from "../integration/harness";
import { buildPageDir } from "./build-page";

/** Debian's Chromium, which `.ci/run` installs. */
export const CHROMIUM = "/usr/bin/chromium";

/** Why the browser specs cannot run here, or undefined when they can. */
export const chromiumMissing: string | undefined = fs.existsSync(CHROMIUM) ? undefined : `Chromium is not installed at ${CHROMIUM} (apt-get install chromium)`;

// Without these, Chromium's background networking (updates, sync, field trials) makes connections
// that are refused on a machine without internet, and slows every start.
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"];


/** A daemon serving a freshly built page, and a browser to look at it with. */
export interface PageHarness {
  room: TestRoom;
  browser: Browser;
  /** The daemon's base URL, `http://127.0.0.1:<port>/`. */
  url: string;
  token: string;
  /** A page in a fresh browser context (its own cookies), closed with the harness. */
  newPage(options?: { viewport?: { width: number; height: number } }): Promise<Page>;
  /** Errors thrown in any page this harness opened (uncaught exceptions, console errors). */
  pageErrors: string[];
  /** A connected Node session (over the Unix socket) on notebook `notebookId`; its kernel is shut down with the harness. */
  nodeSession(notebookId: string): Promise<Session>;
}

/**
 * A `describe` of browser specs: `body` gets the harness when Chromium is here; otherwise one
 * test, named `<title> <skippedAs>, skipped: <why>`, says why they did not run.
 */
export function describeInChromium(title: string, body: (harness: () => PageHarness) => void, skippedAs = "is not tested here"): void {
  if (chromiumMissing) {
    describe(title, () => {
      it(`${skippedAs}, skipped: ${chromiumMissing}`, () => {
        expect(chromiumMissing).toBeDefined();
      });
    });
  } else {
    describe(title, () => body(usePageHarness()));
  }
}

/**
 * Starts the harness before a spec file's tests and stops it after them; after each test, an
 * uncaught error in any of its pages fails it. Call at the top of a `describe` that runs only
 * when {@link chromiumMissing} is undefined ({@link describeInChromium} does both).
 */
export function usePageHarness(): () => PageHarness {
  let harness: PageHarness | undefined;
  let pageDir: string | undefined;
  let room: TestRoom | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const sessions: Session[] = [];

  beforeAll(async () => {
    pageDir = await buildPageDir("runtimed-page-");
    room = await startTestDaemon({ pageDir });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
    const { url, token } = room.daemon.status();
    const pageErrors: string[] = [];
    const launched = browser;
    const launchedRoom = room;
    harness = {
      room,
      browser,
      url,
      token,
      pageErrors,
      async newPage(options = {}) {
        const context = await launched.newContext({ viewport: options.viewport ?? { width: 1000, height: 700 } });
        contexts.push(context);
        const page = await context.newPage();
        page.on("pageerror", (error) => pageErrors.push(`page error: ${error.message}`));
        page.on("console", (message) => {
          if (message.type() === "error") pageErrors.push(`console error: ${message.text()}`);
        });
        return page;
      },
      async nodeSession(notebookId) {
        const session = launchedRoom.session({ notebookId });
        sessions.push(session);
        await session.connect();
        return session;
      },
    };
  }, 180_000);

  afterEach(() => {
    if (harness) expect(harness.pageErrors.filter((error) => error.startsWith("page error"))).toEqual([]);
  });

  afterAll(async () => {
    // Each room's kernel ends with its test file; the daemon stops below.
    await Promise.all(sessions.map((session) => session.shutdownKernel().catch(() => undefined)));
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await room?.dispose();
    if (room) removeDir(room.cacheDir);
    if (pageDir) removeDir(pageDir);
  }, 120_000);

  return () => {
    if (!harness) throw new Error("the page harness is not running (usePageHarness() belongs at the top of the spec's describe)");
    return harness;
  };
}

/** Opens notebook `notebookId` in `page` as `runtimed open` would, and waits until it is connected. */
export async function openNotebook(page: Page, harness: PageHarness, notebookId: string): Promise<void> {
  await page.goto(pageUrl(harness.url, harness.token, { notebook: notebookId }));
  await page.locator(".kernel-bar .connection[data-state=connected]").waitFor({ timeout: 60_000 });
}

/** The cell element of `cellId` on the page. */
export function cellLocator(page: Page, cellId: string) {
  return page.locator(`.cell[data-cell-id="${cellId}"]`);
}

/** Polls `read` until it gives `expected` (deeply equal); fails showing the last value after `timeoutMs`. */
export async function eventually<T>(read: () => T | Promise<T>, expected: T, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (JSON.stringify(last) === JSON.stringify(expected)) return;
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(last).toEqual(expected);
}
