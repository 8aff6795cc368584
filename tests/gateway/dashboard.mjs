// The dashboard in a real Chromium (playwright-core), driven by
// tests/gateway/dashboard.sh, which starts the cluster and passes it in
// the environment. Each step waits for what the page shows (no sleeps),
// and saves a screenshot into $SHOTS.
import { chromium } from "playwright-core";
import { execSync, spawn } from "node:child_process";
import fs from "node:fs";

const env = process.env;
const shots = env.SHOTS;
const job = env.JOB;
const log = (m) => console.error(`[dashboard.mjs] ${m}`);
const shoal = (args) => execSync(`${env.SHOAL_BIN}/shoal ${args}`, { env: { ...env, SHOAL_BROKER: env.FRONTEND } }).toString();
const jobState = () => JSON.parse(shoal(`-o json status ${job}`)).state;
async function until(what, fn, ms = 30000) {
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
let failed = false;
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
page.on("pageerror", (e) => { log(`page error: ${e.message}`); failed = true; });
try {
  await page.goto(env.GW + "/");
  // the token, entered once
  await page.locator("#token").fill("wrong-token");
  await page.locator("#login button").click();
  await until("a wrong token is refused on the page", async () => (await page.locator("#login-error").textContent()).includes("refused"));
  await page.locator("#token").fill(env.TOKEN);
  await page.locator("#login button").click();
  await until("the page is live", async () => (await page.locator("#status").textContent()) === "live");
  await until("the header shows the leader's term", async () => (await page.locator("#leader").textContent()) === "term 1");
  const row = page.locator(`#jobs tr[data-job="${job}"]`);
  const done = async () => Number((await row.locator("td.done").textContent()).split(" / ")[0].replace(/,/g, ""));
  await until("the job's row is shown", async () => (await row.count()) === 1);
  await until("the row says paused (as submitted)", async () => (await row.locator("td.state").textContent()).startsWith("paused"));
  const first = await done();
  shoal(`resume ${job}`);
  await until(`the job's progress moves (from ${first})`, async () => (await done()) > first);
  await until("the workers are listed", async () => (await page.locator("#workerlist tr[data-worker]").count()) === 2);
  // the pipeline job: one row per step under its row, with the step's counts
  const stepCells = async (name) => {
    const tr = page.locator(`#jobs tr.step[data-step-of="${env.PJOB}"][data-step="${name}"]`);
    return [await tr.locator("td.name").textContent(), await tr.locator("td.done").textContent(),
            await tr.locator("td").nth(5).textContent(), await tr.locator("td.pending").textContent()].join(" | ");
  };
  await until("the pipeline job has a row per step", async () => (await page.locator(`#jobs tr.step[data-step-of="${env.PJOB}"]`).count()) === 2);
  await until("step one: 10 of 10 done", async () => (await stepCells("one")) === "step one | 10 / 10 | 0 | pending 0");
  await until("step two: 10 done, 10 failed", async () => (await stepCells("two")) === "step two | 10 / 10 | 10 | pending 0");
  // the pipeline job's own row counts its items: all ten failed at step two
  const prow = page.locator(`#jobs tr[data-job="${env.PJOB}"]`);
  await until("the pipeline job's row counts items", async () => (await prow.locator("td.done").textContent()) === "10 / 10 items"
                                                            && (await prow.locator("td.failed").textContent()) === "10");
  await page.screenshot({ path: `${shots}/1-progress.png`, fullPage: true });

  // keyboard: focus the row, Enter selects it
  await row.focus();
  await page.keyboard.press("Enter");
  await until("Enter selects the job", async () => (await row.getAttribute("aria-selected")) === "true" && !(await page.locator("#detail").isHidden()));
  // pause from the page; `shoal status` sees it
  await page.locator('#detail button[data-action="pause"]').click();
  await until("the page says paused", async () => (await page.locator("#action-result").textContent()).includes("now paused"));
  await until("shoal status says paused", async () => jobState() === "paused");
  await until("the row says paused", async () => (await row.locator("td.state").textContent()).startsWith("paused"));
  await page.screenshot({ path: `${shots}/2-paused.png`, fullPage: true });
  await page.locator('#detail button[data-action="resume"]').click();
  await until("shoal status says active again", async () => jobState() === "active");

  // a worker killed: marked lost
  process.kill(Number(env.W2_PID), "SIGKILL");
  const w2 = page.locator('#workerlist tr[data-worker="w2"]');
  await until("the killed worker is marked lost", async () => (await w2.getAttribute("class")) === "lost"
                                                       && (await w2.locator("td.state").textContent()) === "lost", 60000);
  await page.screenshot({ path: `${shots}/3-worker-lost.png`, fullPage: true });

  // the broker stopped: the outage is shown
  process.kill(Number(env.BROKER_PID), "SIGKILL");
  await until("the outage is shown", async () => (await page.locator("#status").textContent()) === "broker unreachable"
                                              && (await page.locator("#banner").isVisible()), 30000);
  await page.screenshot({ path: `${shots}/4-outage.png`, fullPage: true });
  // ... and started again: the page recovers by itself
  const broker = spawn(`${env.SHOAL_BIN}/shoal-broker`, ["--db", env.DB, "--frontend", env.FRONTEND, "--backend", env.BACKEND,
                       "--progress", env.PROGRESS], { stdio: ["ignore", "ignore", fs.openSync(`${env.T_DIR}/broker2.log`, "a")] });
  fs.writeFileSync(`${env.T_DIR}/broker2.pid`, String(broker.pid));
  await until("the page recovers", async () => (await page.locator("#status").textContent()) === "live"
                                            && !(await page.locator("#banner").isVisible()), 60000);
  await until("the header shows the new term", async () => (await page.locator("#leader").textContent()) === "term 2");
  await until("the event tail notes the change of leader", async () => (await page.locator("#events").textContent()).includes("(term 1 -> 2)"));
  const again = await done();
  await until("progress moves again after the restart", async () => (await done()) > again, 60000);
  await page.screenshot({ path: `${shots}/5-recovered.png`, fullPage: true });

  // cancel asks first; dismissing it changes nothing, accepting cancels
  page.once("dialog", (d) => d.dismiss());
  await page.locator('#detail button[data-action="cancel"]').click();
  if (jobState() !== "active") throw new Error("a dismissed confirmation cancelled the job");
  log("ok: a dismissed confirmation leaves the job active");
  page.once("dialog", (d) => d.accept());
  await page.locator('#detail button[data-action="cancel"]').click();
  await until("shoal status says cancelled", async () => jobState() === "cancelled");

  // phone width: no sideways scrolling of the page itself
  await page.setViewportSize({ width: 390, height: 844 });
  await until("fits a phone's width", async () => (await page.evaluate(() => document.documentElement.scrollWidth)) <= 390);
  await page.screenshot({ path: `${shots}/6-phone.png`, fullPage: true });
  // without colour: the states are words
  await until("the cancelled state is written as a word", async () => (await row.locator("td.state").textContent()).startsWith("cancelled"));
} catch (e) {
  log(`FAIL: ${e.message}`);
  await page.screenshot({ path: `${shots}/failure.png`, fullPage: true }).catch(() => {});
  failed = true;
}
await browser.close();
process.exit(failed ? 1 : 0);
