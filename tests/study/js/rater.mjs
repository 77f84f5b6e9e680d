// A scripted rater: opens the study page in headless Chromium and answers with the
// keyboard. Policies: "brighter" looks at the decoded video frames (mean pixel value on
// a canvas) and prefers / rates up the brighter video; "left3" answers A and 3 always.
// Usage: node rater.mjs URL POLICY RATER [STOP_AFTER]
// With ?session=... in URL it resumes that session (the rater name is then not typed).
// Prints {"ok", "study": window.__study, "decisions": [...], "console": [...]} as JSON.
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

const [url, policy, rater, stopAfter = "1000000"] = process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), "th-study-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--mute-audio",
         "--autoplay-policy=no-user-gesture-required"],
  viewport: { width: 1100, height: 700 },
});
const logs = [], decisions = [];
let ok = true;
try {
  const page = await context.newPage();
  page.on("console", (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => logs.push(`pageerror: ${e.message}`));
  await page.goto(url);
  await page.waitForFunction(() => window.__study && window.__study.state !== "loading");
  if ((await page.evaluate(() => window.__study.state)) === "start") {
    await page.fill("#rater", rater);
    await page.keyboard.press("Enter");
  }
  await page.waitForFunction(() => ["item", "done"].includes(window.__study.state) ||
                                   window.__study.errors.length > 0, null, { timeout: 20000 });
  for (let n = 0; n < Number(stopAfter); n++) {
    const st = await page.evaluate(() => ({ ...window.__study }));
    if (st.state !== "item") break;
    let response;
    let light = null;
    if (policy === "brighter") {
      light = await page.evaluate(async () => {
        const vids = [...document.querySelectorAll("#videos video")];
        const out = [];
        for (const v of vids) {
          if (v.readyState < 2) {
            await new Promise((res, rej) => { v.addEventListener("loadeddata", res, { once: true });
                                              v.addEventListener("error", () => rej(new Error("video error")), { once: true }); });
          }
          const c = document.createElement("canvas");
          c.width = v.videoWidth; c.height = v.videoHeight;
          const g = c.getContext("2d");
          let mean = 0;
          // a loaded video can still draw as blank (all zero) for a moment on a busy machine:
          // measure again until a picture arrives (the dark system is ~30 %, never black)
          for (let tries = 0; tries < 50; tries++) {
            g.drawImage(v, 0, 0);
            const d = g.getImageData(0, 0, c.width, c.height).data;
            let s = 0;
            for (let i = 0; i < d.length; i += 4) s += d[i] + d[i + 1] + d[i + 2];
            mean = s / (3 * d.length / 4);
            if (mean >= 5) break;
            await new Promise((res) => setTimeout(res, 50));
          }
          out.push({ mean, w: v.videoWidth, h: v.videoHeight });
        }
        return out;
      });
      if (st.kind === "ab") response = light[0].mean > light[1].mean ? "a" : "b";
      else response = light[0].mean > 60 ? "5" : "1";
    } else {
      response = st.kind === "ab" ? "a" : "3";
    }
    decisions.push({ item: st.item, kind: st.kind, light, response });
    await page.keyboard.press(response);
    await page.waitForFunction((prev) => window.__study.item !== prev || window.__study.errors.length > 0,
                               st.item, { timeout: 20000 });
  }
  const study = await page.evaluate(() => ({ ...window.__study,
                                             url: location.href, text: document.body.innerText }));
  if (study.errors.length) ok = false;
  process.stdout.write(JSON.stringify({ ok, study, decisions, console: logs }));
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, error: String(e), decisions, console: logs }));
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
