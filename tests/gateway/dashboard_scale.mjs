// The dashboard with 1,000 jobs and 500 workers (tests/gateway/
// dashboard_scale.sh): the tables are paged (25 rows in the page at any
// time), paging works from the keyboard, a job on a later page can be
// selected and paused, and the page keeps up with the snapshots.
import { chromium } from "playwright-core";
import { execSync } from "node:child_process";

const env = process.env;
const log = (m) => console.error(`[dashboard_scale.mjs] ${m}`);
async function until(what, fn, ms = 60000) {
  const end = Date.now() + ms;
  for (;;) {
    let ok = false;
    try { ok = await fn(); } catch (e) { ok = false; }
    if (ok) { log(`ok: ${what}`); return; }
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
const browser = await chromium.launch({ executablePath: env.CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
let failed = false;
page.on("pageerror", (e) => { log(`page error: ${e.message}`); failed = true; });
try {
  await page.goto(env.GW + "/");
  await page.evaluate((t) => sessionStorage.setItem("shoal-token", t), env.TOKEN);
  await page.reload();
  await until("1,000 jobs in 40 pages", async () => (await page.locator("#jobs-page").textContent()) === "page 1 of 40 (1,000)");
  await until("500 workers in 20 pages", async () => (await page.locator("#workers-page").textContent()) === "page 1 of 20 (500)");
  const rows = async (sel) => page.locator(sel).count();
  if ((await rows("#jobs tbody tr")) !== 25 || (await rows("#workerlist tbody tr")) !== 25)
    throw new Error("the tables are not paged to 25 rows");
  log("ok: 25 rows per table in the page");
  // page 3 of the jobs, from the keyboard
  await page.locator("#jobs-next").focus();
  await page.keyboard.press("Enter");
  await page.keyboard.press("Enter");
  await until("page 3 of the jobs", async () => (await page.locator("#jobs-page").textContent()).startsWith("page 3 of 40"));
  const id = await page.locator("#jobs tbody tr").first().getAttribute("data-job");
  if (Number(id) !== 1000 - 50) throw new Error(`page 3 starts with job ${id}, expected ${1000 - 50}`);
  await page.locator(`#jobs tr[data-job="${id}"]`).click();
  await page.locator('#detail button[data-action="pause"]').click();
  await until(`job ${id} paused from page 3`, async () =>
    JSON.parse(execSync(`${env.SHOAL_BIN}/shoal -o json status ${id}`, { env: { ...env, SHOAL_BROKER: env.FRONTEND } })).state === "paused");
  // the page keeps up: it is still drawing fresh snapshots (figure logged)
  const busy = await page.evaluate(async () => {
    let spent = 0, n = 0;
    const obs = new PerformanceObserver((list) => { for (const e of list.getEntries()) { spent += e.duration; n++; } });
    try { obs.observe({ type: "longtask" }); } catch (e) {}
    await new Promise((r) => setTimeout(r, 5000));
    obs.disconnect();
    return { spent, n };
  });
  log(`figure: tasks over 50 ms in 5 s of 1,000 jobs and 500 workers: ${busy.n}, ${Math.round(busy.spent)} ms in all`);
  await until("snapshots keep coming", async () => (await page.locator("#status").textContent()) === "live");
  await page.screenshot({ path: `${env.SHOTS}/7-thousand-jobs.png`, fullPage: false });
} catch (e) {
  log(`FAIL: ${e.message}`);
  await page.screenshot({ path: `${env.SHOTS}/scale-failure.png` }).catch(() => {});
  failed = true;
}
await browser.close();
process.exit(failed ? 1 : 0);
