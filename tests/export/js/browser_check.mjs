// Load a .glb in headless Chromium with three.js (page.html) and print the page's JSON
// summary on stdout; save a screenshot when a second path is given.
// Usage: node browser_check.mjs URL_OF_PAGE_WITH_QUERY [SCREENSHOT.png]
// CHROMIUM (env) overrides the browser path (default /usr/bin/chromium).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [url, shot] = process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), "th-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync",
         "--use-angle=swiftshader", "--enable-unsafe-swiftshader"],
  viewport: { width: 320, height: 340 },
});
const logs = [];
try {
  const page = await context.newPage();
  page.on("console", (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => logs.push(`pageerror: ${e.message}`));
  await page.goto(url);
  await page.waitForFunction(() => window.__result !== undefined, null, { timeout: 60000 });
  const result = await page.evaluate(() => window.__result);
  if (shot) await page.screenshot({ path: shot });
  result.console = logs;
  process.stdout.write(JSON.stringify(result));
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
