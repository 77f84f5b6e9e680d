// Open the live page in headless Chromium with a fake microphone (a wav file), wait for
// face frames with a moving mouth (and a blink, or 150 frames), print window.__stats as JSON, save a screenshot.
// Usage: node live_check.mjs URL WAV SCREENSHOT.png [TIMEOUT_MS]
// playwright-core comes from tests/serve/js/node_modules or tests/export/js/node_modules.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const base = [join(here, "node_modules"), join(here, "..", "..", "export", "js", "node_modules")]
  .find((d) => existsSync(join(d, "playwright-core")));
if (!base) { console.error("playwright-core not installed"); process.exit(3); }
const { chromium } = createRequire(join(base, "x.js"))("playwright-core");

const [url, wav, shot, timeout = "45000"] = process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), "th-live-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--use-fake-ui-for-media-stream",
         "--use-fake-device-for-media-stream", `--use-file-for-fake-audio-capture=${wav}`,
         "--autoplay-policy=no-user-gesture-required"],
  viewport: { width: 720, height: 620 },
});
const logs = [];
try {
  const page = await context.newPage();
  page.on("console", (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => logs.push(`pageerror: ${e.message}`));
  await page.goto(url);
  let ok = true;
  try {
    await page.waitForFunction(
      () => { const s = window.__stats; return s.errors.length > 0 || (s.frames >= 75 && s.mouthMax - s.mouthMin > 0.05 && (s.blinkMax > 0.5 || s.frames >= 150)); },
      null, { timeout: Number(timeout), polling: 200 });
  } catch (e) { ok = false; logs.push(`timeout: ${e.message.split("\n")[0]}`); }
  const stats = await page.evaluate(() => window.__stats);
  const text = await page.evaluate(() => document.getElementById("stats").textContent);
  await page.screenshot({ path: shot });
  process.stdout.write(JSON.stringify({ ok, stats, text, console: logs }));
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
