import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { findChromium } from "./chromium.ts";
import { REPO_ROOT } from "./cli.ts";

/** The console screenshots of docs/guides/console.md: 1280x800, written to docs/console when JETBUS_SCREENSHOTS=1, else to a temp dir. */
export const VIEWPORT = { width: 1280, height: 800 } as const;

export function screenshotDir(): string {
  if (process.env.JETBUS_SCREENSHOTS === "1") {
    const dir = join(REPO_ROOT, "docs", "console");
    mkdirSync(dir, { recursive: true });
    return dir;
  }
  return mkdtempSync(join(tmpdir(), "jetbus-console-shots-"));
}

export type HeadlessBrowser = Readonly<{ browser: Browser; page: Page; errors: string[]; close(): Promise<void> }>;

/** Real headless Chromium with one page; page errors are collected so a test can assert there were none. */
export async function openBrowser(): Promise<HeadlessBrowser> {
  // --no-sandbox: the test machines run as root, where Chromium refuses its sandbox
  // Debian's Chromium (found, or installed into .jetbus/chromium: test/helpers/chromium.ts); never a browser download
  const browser = await chromium.launch({ executablePath: findChromium(), headless: true, args: ["--no-sandbox"] });
  const page = await browser.newPage({ viewport: VIEWPORT });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  return { browser, page, errors, close: () => browser.close() };
}
