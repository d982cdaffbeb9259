// The console in headless Chromium, as its users meet it: each role signs in, reads what it
// may and is refused what it may not, a supervisor verifies a ledger proof in the browser (and
// sees a tampered one fail), counsel downloads a receipt and checks it (and sees an edited one
// refused), bad input is named on the page, and a signed-out session is refused. Every page
// is checked with axe-core, and one screenshot of each is saved.
//
// Run by scripts/browser-test, which starts `comity demo` and passes:
//   COMITY_URL     the console's address
//   COMITY_TOKENS  JSON {role: token}
//   COMITY_VKEY    the ledger's public key, as an auditor pins it
//   COMITY_SHOTS   where screenshots go
//   CHROMIUM       the browser (default /usr/bin/chromium)

import { chromium } from "playwright-core";
import { readFileSync, writeFileSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import { join } from "node:path";

const base = process.env.COMITY_URL;
const tokens = JSON.parse(process.env.COMITY_TOKENS);
const vkey = process.env.COMITY_VKEY;
const shots = process.env.COMITY_SHOTS;
mkdirSync(shots, { recursive: true });
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

let failures = 0;
function check(ok, what) {
  console.log((ok ? "ok   " : "FAIL ") + what);
  if (!ok) failures++;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox"],
});

// A person at a desk: a fresh browser profile with downloads allowed.
async function person() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  page.on("pageerror", (e) => check(false, "no script error: " + e.message));
  return { context, page };
}

async function signIn(page, token) {
  await page.goto(base + "/signin");
  await page.getByLabel("Token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForLoadState("domcontentloaded");
}

async function signOut(page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForLoadState("domcontentloaded");
}

async function shot(page, name, fullPage = false) {
  await page.screenshot({ path: join(shots, name + ".png"), fullPage });
}

// axe-core on the page as it stands, in a context that may inject it (the console's policy
// allows only its own scripts): no serious or critical violation.
const axeContext = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
async function accessible(fromPage, label) {
  const cookies = await fromPage.context().cookies();
  await axeContext.clearCookies();
  await axeContext.addCookies(cookies);
  const page = await axeContext.newPage();
  await page.goto(fromPage.url());
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ["violations"] }));
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  check(bad.length === 0, label + " passes axe-core" +
    (bad.length ? ": " + bad.map((v) => v.id + " (" + v.nodes.map((n) => n.target.join(" ")).join(", ") + ")").join("; ") : ""));
  await page.close();
}

// Waits until the element `id` has the class `ok` or `failed` (set when a check in the page
// ends): which one.
async function outcomeOf(page, id) {
  await page.waitForFunction((id) => {
    const c = document.getElementById(id).classList;
    return c.contains("ok") || c.contains("failed");
  }, id, { timeout: 15000 });
  return (await page.locator("#" + id).getAttribute("class")) || "";
}

async function text(page, selector) {
  return (await page.locator(selector).first().textContent()) || "";
}

// ---- Signing in: a wrong token returns to the form, telling nothing more ---------------
{
  const { context, page } = await person();
  await page.goto(base + "/queue");
  check(page.url().startsWith(base + "/signin"), "a page without a session leads to the sign-in form");
  await signIn(page, "comity_" + "0".repeat(64));
  check(page.url() === base + "/signin", "a wrong token stays on the sign-in page");
  check((await text(page, "[role=alert]")).includes("that token was not accepted"), "a wrong token is told so, without saying whether it exists");
  await page.getByLabel("Token").fill("");
  await shot(page, "signin");
  await accessible(page, "the sign-in page");
  await context.close();
}

// ---- A clerk: the queue, a request in words, bad input named, signing out ----------------
let requestPath;
let queuePaths = [];
{
  const { context, page } = await person();
  await signIn(page, tokens.clerk);
  check(page.url() === base + "/queue", "a clerk lands on the queue");
  const rows = await page.locator("table.queue tbody tr").count();
  check(rows === 25, "the queue shows a page of 25 requests (" + rows + ")");
  await shot(page, "queue");
  await accessible(page, "the queue");

  await page.getByLabel("From", { exact: true }).fill("2018-02-30");
  await page.getByRole("button", { name: "Filter" }).click();
  const alert = await text(page, "[role=alert]");
  check(alert.includes("from") && alert.includes("2018-02-30"), "a bad date in the filter is named on the page: " + alert.trim());

  await page.goto(base + "/queue?agency=NYC-DOC&act=hold");
  await page.locator("table.queue tbody tr a").first().click();
  await page.waitForLoadState("domcontentloaded");
  requestPath = new URL(page.url()).pathname;
  check(await page.getByRole("heading", { name: "What the law allows" }).isVisible(), "a request page says what the law allows");
  const cites = await page.locator("article.act cite").count();
  check(cites > 0, "each act's reasons carry their citations (" + cites + ")");
  const outcome = await text(page, "article.act .outcome");
  check(["Required", "Permitted", "Forbidden"].includes(outcome.trim()), "outcomes are words, not colour alone (" + outcome.trim() + ")");
  check(await page.locator("#verify").count() === 0, "a clerk, who does not read the ledger, is not offered the check");

  // The requests of the queue's first page, to find one about someone counsel does not
  // represent.
  await page.goto(base + "/queue");
  queuePaths = await page.locator("table.queue tbody tr a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));

  const cookie = (await context.cookies()).find((c) => c.name === "__Host-comity_session");
  check(cookie && cookie.httpOnly && cookie.secure && cookie.sameSite === "Strict", "the session cookie is HttpOnly, Secure and SameSite=Strict");
  await signOut(page);
  check(page.url().startsWith(base + "/signin"), "signing out returns to the sign-in page");
  // The old session, put back by hand, no longer opens anything.
  await context.addCookies([{ ...cookie }]);
  await page.goto(base + "/queue");
  check(page.url().startsWith(base + "/signin"), "a signed-out session is refused");
  await context.close();
}

// ---- A supervisor: pin the key, verify an entry in the browser, see a tampered proof fail --
{
  const { context, page } = await person();
  await signIn(page, tokens.supervisor);
  await page.goto(base + "/audit");
  check((await text(page, "#checkpoint-note")).split("\n").length >= 3, "the audit page shows the signed checkpoint");
  await page.getByLabel("Pinned public key").fill("not-a-key");
  await page.getByRole("button", { name: "Pin" }).click();
  check((await outcomeOf(page, "pin-status")).includes("failed"), "a malformed key is not pinned");
  await page.getByLabel("Pinned public key").fill(vkey);
  await page.getByRole("button", { name: "Pin" }).click();
  check((await outcomeOf(page, "pin-status")).includes("ok"), "the ledger's key is pinned in this browser: " + (await text(page, "#pin-status")) + " [" + vkey + "]");
  await shot(page, "audit");
  await accessible(page, "the audit page");

  await page.goto(base + requestPath);
  await page.getByRole("button", { name: "Verify in this browser" }).click();
  await outcomeOf(page, "verify-result");
  const verified = await text(page, "#verify-result");
  check(verified.startsWith("Verified in this browser"), "the entry's proof and checkpoint verify in the browser: " + verified);
  await shot(page, "request", true);
  await accessible(page, "a request page");

  // The server lies about the proof: one hash of the path changed.
  await page.route("**/console/proof*", async (route) => {
    const response = await route.fetch();
    const proof = await response.json();
    check(proof.hashes.length > 0, "the proof has a hash to change");
    const h = proof.hashes[0];
    proof.hashes[0] = (h[0] === "0" ? "1" : "0") + h.slice(1);
    await route.fulfill({ response, json: proof });
  });
  await page.getByRole("button", { name: "Verify in this browser" }).click();
  await outcomeOf(page, "verify-result");
  check((await text(page, "#verify-result")).startsWith("FAILED"), "a tampered proof fails in the browser: " + (await text(page, "#verify-result")));
  await page.unroute("**/console/proof*");

  // The server lies about the checkpoint: its root changed, the signature no longer holds.
  await page.route("**/console/checkpoint", async (route) => {
    const response = await route.fetch();
    const note = (await response.text()).split("\n");
    note[2] = "AAAA" + note[2].slice(4);
    await route.fulfill({ response, body: note.join("\n") });
  });
  await page.getByRole("button", { name: "Verify in this browser" }).click();
  await outcomeOf(page, "verify-result");
  check((await text(page, "#verify-result")).includes("FAILED: the checkpoint"), "a forged checkpoint fails in the browser: " + (await text(page, "#verify-result")));
  await page.unroute("**/console/checkpoint");
  await context.close();
}

// ---- A supervisor: a statutory report with its charts, a bad date named --------------
{
  const { context, page } = await person();
  await signIn(page, tokens.supervisor);
  await page.getByRole("link", { name: "Reports" }).click();
  await page.waitForLoadState("domcontentloaded");
  await page.locator("select[name=kind]").selectOption("nyc-doc");
  await page.getByLabel("From", { exact: true }).fill("2018-07-01");
  await page.getByLabel("To", { exact: true }).fill("2018-09-31");
  await page.getByRole("button", { name: "Compute" }).click();
  await page.waitForLoadState("domcontentloaded");
  check((await text(page, "[role=alert]")).includes("2018-09-31"), "a bad date in the report form is named: " + (await text(page, "[role=alert]")).trim());
  await accessible(page, "the reports page");
  await page.getByLabel("To", { exact: true }).fill("2018-09-30");
  await page.getByRole("button", { name: "Compute" }).click();
  await page.waitForLoadState("domcontentloaded");
  const body = await page.content();
  check(body.includes("9-131(f)") && (await page.locator("svg").count()) > 0, "the NYC DOC report shows its figures and charts");
  await shot(page, "report");
  await context.close();
}

// ---- Counsel: its clients, receipts checked in the page, another person's records refused --
{
  const { context, page } = await person();
  await signIn(page, tokens.counsel);
  check(page.url() === base + "/counsel", "counsel lands on its own page");
  const clients = await page.locator("section.client").count();
  check(clients > 0, "counsel sees the people assigned to it (" + clients + ")");
  await shot(page, "counsel", true);
  await accessible(page, "the counsel page");

  const downloading = page.waitForEvent("download");
  await page.locator("a.receipt").first().click();
  const download = await downloading;
  const receiptPath = join(mkdtempSync(join(tmpdir(), "comity-browser-")), "receipt.json");
  await download.saveAs(receiptPath);
  const receipt = JSON.parse(readFileSync(receiptPath, "utf8"));
  check(receipt.format === "comity-receipt/1", "a receipt downloads as one file");

  await page.getByLabel("Pinned public key").fill(vkey);
  await page.getByRole("button", { name: "Pin" }).click();
  check((await outcomeOf(page, "pin-status")).includes("ok"), "counsel pins the key in its browser");
  await page.getByLabel("Receipt file").setInputFiles(receiptPath);
  await outcomeOf(page, "receipt-result");
  check((await text(page, "#receipt-result")).startsWith("Receipt holds"), "the receipt checks in the page: " + (await text(page, "#receipt-result")));

  const edited = structuredClone(receipt);
  edited.entry.text = edited.entry.text.replace("\"outcome\":\"", "\"outcome\":\"x");
  const editedPath = receiptPath.replace(/receipt\.json$/, "edited.json");
  writeFileSync(editedPath, JSON.stringify(edited));
  await page.getByLabel("Receipt file").setInputFiles(editedPath);
  await outcomeOf(page, "receipt-result");
  check((await text(page, "#receipt-result")).startsWith("Receipt REFUSED"), "an edited receipt is refused: " + (await text(page, "#receipt-result")));

  const mine = await page.locator("section.client a[href^='/requests/']").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
  const strangerPath = queuePaths.find((p) => !mine.includes(p));
  const padded = { ...receipt, note: "an extra member" };
  const paddedPath = receiptPath.replace(/receipt\.json$/, "padded.json");
  writeFileSync(paddedPath, JSON.stringify(padded));
  await page.getByLabel("Receipt file").setInputFiles(paddedPath);
  await outcomeOf(page, "receipt-result");
  check((await text(page, "#receipt-result")).includes("`note`"), "a receipt with a member of its own is refused: " + (await text(page, "#receipt-result")));

  const refused = await page.goto(base + strangerPath);
  check(refused.status() === 403, "counsel is refused a request about someone else (" + refused.status() + ")");
  check((await page.content()).includes("counsel-reads-only-assigned-subjects"), "the refusal names the access rule");
  await page.goto(base + "/queue");
  check((await page.content()).includes("Not yours to see"), "counsel has no queue");
  await context.close();
}

// ---- An auditor: the ledger, never a person's records; the law for everyone --------------
{
  const { context, page } = await person();
  await signIn(page, tokens.auditor);
  check(page.url() === base + "/audit", "an auditor lands on the audit page");
  await page.getByRole("button", { name: "Verify now" }).click();
  await page.waitForFunction(() => {
    const s = document.getElementById("verification-status");
    return s && (s.dataset.state === "ok" || s.dataset.state === "failed");
  }, null, { timeout: 60000 });
  check((await text(page, "#verification-status")).includes("Verified: "), "a full verification runs from the audit page: " + (await text(page, "#verification-status")).trim());
  const refused = await page.goto(base + requestPath);
  check(refused.status() === 403, "an auditor is refused a person's request");
  check(!(await page.content()).includes("synth-person"), "and sees no one's id");
  await page.goto(base + "/packs");
  check(await page.locator("table.versions").count() > 3, "the law in force lists every jurisdiction's versions");
  await shot(page, "packs");
  await accessible(page, "the law page");
  await page.locator("table.versions a").first().click();
  await page.waitForLoadState("domcontentloaded");
  check((await page.content()).includes("Sources"), "a version's page shows its rules beside the statute");
  await context.close();
}

// ---- An administrator: the law in force, no one's records, no ledger -------------------
{
  const { context, page } = await person();
  await signIn(page, tokens.admin);
  check(page.url() === base + "/packs", "an administrator lands on the law in force");
  const nav = await page.locator("nav").textContent();
  check(!nav.includes("Queue") && !nav.includes("Audit"), "an administrator is offered neither the queue nor the ledger: " + nav.trim());
  const refused = await page.goto(base + requestPath);
  check(refused.status() === 403, "an administrator is refused a person's request");
  await context.close();
}

// ---- A narrow screen ------------------------------------------------------------------
{
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await signIn(page, tokens.clerk);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 1, "the queue fits a narrow screen (overflow " + overflow + " px)");
  await shot(page, "queue-narrow");
  await context.close();
}

await axeContext.close();
await browser.close();
console.log(failures ? failures + " check(s) failed" : "every check passed");
process.exit(failures ? 1 : 0);
