/**
 * Debian's chromium driven by playwright-core (never a downloaded browser), plus the page
 * problems every browser test asserts are absent: uncaught errors and console errors.
 */
import * as fs from "fs";
import * as path from "path";
import { Browser, chromium, Page } from "playwright-core";
import { ROOT } from "../helpers/models";

/** The real binary: /usr/bin/chromium is a wrapper script that adds flags and warnings. */
export const CHROMIUM = "/usr/lib/chromium/chromium";

/** Where browser tests leave screenshots for people to look at. */
export const ARTIFACTS = path.join(ROOT, "test-artifacts");

/** Throws with the fix when Debian's chromium is not installed. */
export function checkChromium(): void {
  if (!fs.existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: run \`bash scripts/lab-setup.sh\` (part of scripts/setup.sh)`);
}

/** Launches headless chromium; playwright gives it a fresh temporary profile. */
export async function launch(): Promise<Browser> {
  checkChromium();
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Collects a page's uncaught errors and console errors (messages matching `ignore` excepted). */
export function watchProblems(page: Page, ignore: RegExp[] = []): string[] {
  const problems: string[] = [];
  const keep = (text: string) => !ignore.some((re) => re.test(text));
  page.on("pageerror", (e) => keep(e.message) && problems.push(`uncaught: ${e.message}`));
  page.on("console", (m) => m.type() === "error" && keep(m.text()) && problems.push(`console: ${m.text()}`));
  return problems;
}

/** Saves a screenshot of `page` (or one element) under test-artifacts/. */
export async function screenshot(page: Page, name: string, selector?: string): Promise<string> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  if (selector) await page.locator(selector).first().screenshot({ path: file });
  else await page.screenshot({ path: file, fullPage: true });
  return file;
}
