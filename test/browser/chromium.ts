/**
 * Headless Chromium for the browser tests: Debian's `chromium` package
 * driven by playwright-core (no browser download). Tests skip, saying why,
 * only when the executable is missing; .ci/run installs the package.
 * Screenshots go to test-artifacts/ (git-ignored).
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { ROOT } from "../e2e/serve-process.js";

/** Where the browser is (TICKETPLANE_CHROMIUM overrides, for machines that put it elsewhere). */
export const CHROMIUM = process.env["TICKETPLANE_CHROMIUM"] ?? "/usr/bin/chromium";

/** Why the browser tests cannot run here, or undefined when they can. */
export const chromiumMissing: string | undefined = existsSync(CHROMIUM)
  ? undefined
  : `headless Chromium not found at ${CHROMIUM}: install Debian's chromium package (apt-get install -y chromium; .ci/run does) or set TICKETPLANE_CHROMIUM`;

export const ARTIFACTS = join(ROOT, "test-artifacts");

export async function launchChromium(): Promise<Browser> {
  // Root (CI, containers) cannot use Chromium's sandbox; the pages are our own, on 127.0.0.1.
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
}

/** Saves a full-page screenshot as test-artifacts/NAME.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}
