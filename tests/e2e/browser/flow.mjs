// keyward's self-service flow in a real headless Chromium (Debian's
// /usr/bin/chromium), driven by playwright-core.
//
// Started by tests/e2e/browser_flow_test.py, which runs keywardd --demo and
// keyward-web and hands this script what it needs in the environment:
//
//   KWB_URL          keyward-web's base URL, http://127.0.0.1:PORT
//   KWB_DAEMON_LOG   keywardd's standard output (its console notifier prints
//                    the one-time codes there: "keyward code for alice: N")
//   KWB_PUBKEY       a fresh Ed25519 public key file (ssh-keygen -t ed25519)
//   KWB_PRIVKEY      its private key file (pasted once, must be refused)
//   KWB_FINGERPRINT  the public key's fingerprint as `ssh-keygen -lf` prints it
//   KWB_UPLOAD_PUBKEY, KWB_UPLOAD_FINGERPRINT
//                    a second public key (id_*.pub), uploaded with the file
//                    chooser, and its fingerprint; the JavaScript context
//                    also uploads it to get a "login" certificate, and the
//                    one without JavaScript pastes it for a "deploy" one
//   KWB_PROFILE      a fresh, empty folder for Chromium's --user-data-dir
//   KWB_ARTIFACTS    where the screenshots go (default ./screenshots)
//   KWB_RESULTS      where to write the results as JSON (optional)
//   KWB_CHROMIUM     the browser (default /usr/bin/chromium)
//
// Every step is checked on what the page shows (headings, notices, errors,
// table cells), not only on status codes. Exit 0 when every check passed.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const env = (name, fallback) => {
  const v = process.env[name] ?? fallback;
  if (v === undefined || v === '') {
    console.error(`flow.mjs: ${name} is not set`);
    process.exit(2);
  }
  return v;
};

const BASE = env('KWB_URL').replace(/\/$/, '');
const ORIGIN = new URL(BASE).origin;
const DAEMON_LOG = env('KWB_DAEMON_LOG');
const PUBKEY = fs.readFileSync(env('KWB_PUBKEY'), 'utf8').trim();
const PRIVKEY = fs.readFileSync(env('KWB_PRIVKEY'), 'utf8');
const FINGERPRINT = env('KWB_FINGERPRINT');
const UPLOAD_PUBKEY = env('KWB_UPLOAD_PUBKEY');
const UPLOAD_BASE = path.basename(UPLOAD_PUBKEY).replace(/\.pub$/, '');
const UPLOAD_FINGERPRINT = env('KWB_UPLOAD_FINGERPRINT');
const PROFILE = env('KWB_PROFILE');
const ARTIFACTS = env('KWB_ARTIFACTS', path.join(HERE, 'screenshots'));
const RESULTS = process.env.KWB_RESULTS || '';
const CHROMIUM = env('KWB_CHROMIUM', '/usr/bin/chromium');

const ACCOUNT = 'alice';
const OWNER = 'alice@example.org';
const DEVICE = 'e2e-laptop';
const STOLEN_DEVICE = 'e2e-stolen';
const UPLOAD_DEVICE = 'e2e-phone';
const STEP_TIMEOUT_MS = 20000;

const t0 = Date.now();
const checks = [];
const failures = [];
const screenshots = [];
const requests = [];   // every request any page made, in both contexts
const problems = [];   // console errors, page errors, failed requests
const documents = [];  // every document response: {url, method, status}
const notes = [];      // harmless oddities worth reporting
const certificates = {};  // role -> the certificate as the page showed (and downloaded) it

function check(cond, what, detail = '') {
  checks.push({ ok: !!cond, what, detail: cond ? '' : String(detail) });
  if (!cond) {
    failures.push(`${what}${detail ? ': ' + detail : ''}`);
    console.error(`FAIL: ${what}${detail ? ': ' + detail : ''}`);
  }
  return !!cond;
}

// A step that must pass for the next ones to make sense: a thrown error or a
// failed check inside stops the section.
class StepFailed extends Error {}
function must(cond, what, detail = '') {
  if (!check(cond, what, detail)) throw new StepFailed(what);
}

function log(msg) {
  console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);
}

async function shot(page, name) {
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  screenshots.push(file);
  log(`screenshot ${file}`);
  return file;
}

const text = async (locator) => (await locator.innerText()).replace(/\s+/g, ' ').trim();

// ------------------------------------------------------------ one-time codes

function daemonLogSize() {
  try {
    return fs.statSync(DAEMON_LOG).size;
  } catch {
    return 0;
  }
}

// The newest code the console notifier printed for `user` after `offset`:
//   keyward message to alice@example.org: keyward code
//     keyward code for alice: 123456
async function codeFor(user, offset) {
  const deadline = Date.now() + 10000;
  const re = /keyward code for ([^\s:]+): (\d(?:[\d ]{4,14})\d)[ \t]*\r?\n/g;
  while (Date.now() < deadline) {
    const buf = fs.readFileSync(DAEMON_LOG);
    const fresh = buf.subarray(Math.min(offset, buf.length)).toString('utf8');
    let code = null;
    for (const m of fresh.matchAll(re)) if (m[1] === user) code = m[2].replace(/ /g, '');
    if (code) return code;
    await new Promise((r) => setTimeout(r, 100));
  }
  return null;
}

// --------------------------------------------------------------- navigation

// Clicks a submit button and waits until the page that answers has loaded at
// a URL for which `want(url)` holds. Returns the document responses of that
// navigation (a 303 and the page it leads to, or one page).
async function submit(page, button, want, what) {
  const before = documents.length;
  await button.click();
  await page.waitForURL((u) => want(new URL(u)), { waitUntil: 'load', timeout: STEP_TIMEOUT_MS });
  const got = documents.slice(before).filter((d) => d.page === page);
  must(got.length > 0, `${what}: a page came back`);
  return got;
}

function watch(context, label) {
  context.on('request', (r) => requests.push({ context: label, url: r.url(), method: r.method(), type: r.resourceType() }));
  context.on('requestfailed', (r) => {
    // A navigation that turns into a download (the certificate, sent as an
    // attachment) is reported as aborted: the page stays where it was.
    if (new URL(r.url()).pathname === '/cert/download' && /ERR_ABORTED/.test(r.failure()?.errorText || '')) return;
    problems.push(`${label}: request failed: ${r.method()} ${r.url()}: ${r.failure()?.errorText}`);
  });
  context.on('response', (r) => {
    if (r.request().resourceType() !== 'document') return;
    let page = null;
    try {
      page = r.frame().page();
    } catch {}
    documents.push({ page, url: r.url(), method: r.request().method(), status: r.status() });
  });
  context.on('page', (p) => {
    p.on('console', (m) => {
      if (m.type() !== 'error' && m.type() !== 'warning') return;
      const where = m.location().url || '';
      const line = `${label}: console ${m.type()}: ${m.text()} (${where || 'no url'})`;
      // Expected: the 422 of the refused private key and of the refused
      // validity, and Chromium asking for /favicon.ico (served now; kept
      // for an older keyward-web).
      if (/status of 422/.test(m.text()) && ['/add', '/cert'].includes(new URL(where, BASE).pathname)) return;
      if (/status of 404/.test(m.text()) && new URL(where, BASE).pathname === '/favicon.ico') {
        if (!notes.includes('favicon')) notes.push('favicon');
        return;
      }
      problems.push(line);
    });
    p.on('pageerror', (e) => problems.push(`${label}: page error: ${e.message}`));
  });
}

// Is JavaScript running in this context? A page whose script renames it.
async function scriptsRun(context) {
  const probe = await context.newPage();
  try {
    await probe.setContent('<title>no script</title><script>document.title = "script ran"</script>');
    return (await probe.title()) === 'script ran';
  } finally {
    await probe.close();
  }
}

// What every page must be: labelled controls, ids that resolve, a CSRF
// token in every POST form, no script, no sideways scrolling (a phone).
async function hygiene(page, what) {
  const r = await page.evaluate(() => {
    const ids = [...document.querySelectorAll('[id]')].map((e) => e.id);
    const dupIds = ids.filter((id, i) => ids.indexOf(id) !== i);
    const refs = [];
    for (const e of document.querySelectorAll('[aria-describedby]')) refs.push(...e.getAttribute('aria-describedby').split(/\s+/));
    for (const e of document.querySelectorAll('label[for]')) refs.push(e.htmlFor);
    const missing = refs.filter((id) => id && !document.getElementById(id));
    const unlabelled = [...document.querySelectorAll('input, textarea, select')]
      .filter((e) => e.type !== 'hidden' && e.labels.length === 0 && !e.getAttribute('aria-label'))
      .map((e) => e.name || e.outerHTML.slice(0, 60));
    const noToken = [...document.querySelectorAll('form')]
      .filter((f) => f.method === 'post' && !/^[0-9a-f]{32,}$/.test(f.querySelector('input[name=csrf]')?.value || ''))
      .map((f) => f.getAttribute('action'));
    return {
      lang: document.documentElement.lang,
      dupIds, missing, unlabelled, noToken,
      scripts: document.scripts.length,
      overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      h1: document.querySelectorAll('h1').length,
    };
  });
  check(r.lang !== '', `${what}: <html lang> is set`);
  check(r.h1 === 1, `${what}: one h1`, r.h1);
  check(r.dupIds.length === 0, `${what}: ids are unique`, r.dupIds.join(' '));
  check(r.missing.length === 0, `${what}: aria-describedby and label[for] point at elements`, r.missing.join(' '));
  check(r.unlabelled.length === 0, `${what}: every form control has a label`, r.unlabelled.join(' '));
  check(r.noToken.length === 0, `${what}: every POST form carries a CSRF token`, r.noToken.join(' '));
  check(r.scripts === 0, `${what}: no script on the page`, r.scripts);
  check(r.overflow <= 1, `${what}: no sideways scrolling`, `${r.overflow} px too wide`);
}

// ------------------------------------------------------------------- pages

// The login page and the code page; returns on the keys page.
async function signIn(page, prefix, { withShots }) {
  let resp = await page.goto(`${BASE}/`, { waitUntil: 'load', timeout: STEP_TIMEOUT_MS });
  must(resp && resp.status() === 200, `${prefix}: GET / answers 200`, resp && resp.status());
  must((await text(page.locator('h1'))) === 'Sign in to manage your SSH keys', `${prefix}: the login page's heading`,
    await text(page.locator('h1')));
  const user = page.getByLabel('User name');
  must(await user.isVisible(), `${prefix}: the login form has a labelled "User name" field`);
  must(await page.getByRole('button', { name: 'Send me a code' }).isVisible(), `${prefix}: a "Send me a code" button`);
  check((await page.title()).includes('keyward'), `${prefix}: the page has a title`, await page.title());
  await hygiene(page, `${prefix}: login page`);
  if (withShots) await shot(page, withShots[0]);

  await user.fill(ACCOUNT);
  const offset = daemonLogSize();
  let docs = await submit(page, page.getByRole('button', { name: 'Send me a code' }),
    (u) => u.pathname === '/login', `${prefix}: POST /login`);
  must(docs.at(-1).status === 200, `${prefix}: POST /login answers 200`, docs.at(-1).status);
  must((await text(page.locator('h1'))) === 'Enter your code', `${prefix}: the code page's heading`,
    await text(page.locator('h1')));
  const notice = await text(page.locator('main .notice'));
  must(/a code is on its way/i.test(notice), `${prefix}: the code page says a code is on its way`, notice);
  const codeField = page.getByLabel('Code', { exact: true });
  must(await codeField.isVisible(), `${prefix}: the code form has a labelled "Code" field`);
  await hygiene(page, `${prefix}: code page`);
  if (withShots) await shot(page, withShots[1]);

  const code = await codeFor(ACCOUNT, offset);
  must(code !== null, `${prefix}: keywardd's console notifier printed a code for ${ACCOUNT}`);
  log(`${prefix}: the code from keywardd's output is ${code.length} digits`);
  await codeField.fill(code);
  docs = await submit(page, page.getByRole('button', { name: 'Sign in' }), (u) => u.pathname === '/keys',
    `${prefix}: POST /verify`);
  must(docs[0].method === 'POST' && docs[0].status === 303, `${prefix}: POST /verify redirects (303)`,
    `${docs[0].method} ${docs[0].status}`);
  must(docs.at(-1).status === 200, `${prefix}: GET /keys answers 200`, docs.at(-1).status);
  must((await text(page.locator('h1'))) === `SSH keys of ${ACCOUNT}`, `${prefix}: the keys page names the account`,
    await text(page.locator('h1')));
  check((await text(page.locator('header .who'))) === `Signed in as ${ACCOUNT}`, `${prefix}: the header says who is signed in`,
    await page.locator('header').innerText());
  await hygiene(page, `${prefix}: keys page`);
  return code;
}

const rows = (page) => page.locator('table.keys tbody tr');
const rowOf = (page, device) =>
  rows(page).filter({ has: page.locator('td[data-label="Device"]', { hasText: new RegExp(`^\\s*${device}\\s*$`) }) });

async function rowCells(row) {
  const cells = {};
  for (const td of await row.locator('td').all()) cells[await td.getAttribute('data-label')] = await text(td);
  return cells;
}

async function jsFlow(context) {
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  check(await scriptsRun(context), 'js: scripts run in the JavaScript context (the probe is sound)');

  // 1-2. Login page, code page, code from keywardd's notifier.
  await signIn(page, 'js', { withShots: ['01-login', '02-code'] });

  // 3. The keys page before anything was added.
  const before = await rows(page).count();
  if (before === 0) {
    must(/There are no keys on this account yet/.test(await text(page.locator('main'))),
      'js: an empty account says it has no keys yet');
  }
  must((await rowOf(page, DEVICE).count()) === 0, `js: no "${DEVICE}" key before it is added`);
  must(!(await text(page.locator('main'))).includes(FINGERPRINT), 'js: the new key is not listed before it is added');
  must(await page.getByLabel('Public key').isVisible() && await page.getByLabel('Device name').isVisible() &&
       await page.getByLabel('Your e-mail address').isVisible(), 'js: the add form has labelled fields');
  log(`js: the keys page lists ${before} key(s) at first`);
  await shot(page, '03-keys-empty');

  // 4. Paste the fresh Ed25519 public key; the table shows its fingerprint.
  await page.getByLabel('Public key').fill(PUBKEY);
  await page.getByLabel('Device name').fill(DEVICE);
  await page.getByLabel('Your e-mail address').fill(OWNER);
  let docs = await submit(page, page.getByRole('button', { name: 'Add the key' }),
    (u) => u.pathname === '/keys' && u.searchParams.get('notice') === 'added', 'js: POST /add');
  must(docs[0].method === 'POST' && docs[0].status === 303, 'js: POST /add redirects (303)', `${docs[0].method} ${docs[0].status}`);
  let notice = await text(page.locator('main .notice'));
  must(notice.startsWith('The key was added'), 'js: the page says the key was added', notice);
  must((await rows(page).count()) === before + 1, 'js: the table has one more row', await rows(page).count());
  const row = rowOf(page, DEVICE);
  must((await row.count()) === 1, `js: one row for "${DEVICE}"`, await row.count());
  let cells = await rowCells(row);
  must(cells['Fingerprint'] === FINGERPRINT, 'js: the row shows the fingerprint exactly as ssh-keygen -lf prints it',
    `page ${JSON.stringify(cells['Fingerprint'])}, ssh-keygen ${JSON.stringify(FINGERPRINT)}`);
  // Byte for byte in the DOM too (no soft hyphen or zero-width space that
  // would break a copy and paste).
  const fpRaw = await row.locator('td[data-label="Fingerprint"]').textContent();
  check(fpRaw.trim() === FINGERPRINT, 'js: the fingerprint cell holds exactly the fingerprint', JSON.stringify(fpRaw));
  check(cells['Owner'] === OWNER, 'js: the row shows the owner', cells['Owner']);
  check(cells['Type'] === 'ssh-ed25519' && cells['Bits'] === '256', 'js: the row shows type ssh-ed25519, 256 bits',
    `${cells['Type']} ${cells['Bits']}`);
  check(cells['State'] === 'Active', 'js: the new key is Active', cells['State']);
  check(cells['Expires'] === 'never', 'js: the new key does not expire', cells['Expires']);
  const today = new Date();
  const ymd = (d) => d.toISOString().slice(0, 10);
  const yesterday = new Date(today.getTime() - 86400000);
  const tomorrow = new Date(today.getTime() + 86400000);
  check([ymd(yesterday), ymd(today), ymd(tomorrow)].includes(cells['Added']), 'js: the row shows today as the date added',
    cells['Added']);
  check(await row.locator('summary').isVisible(), 'js: the new key has a revoke control');
  await hygiene(page, 'js: keys page with a key');
  await shot(page, '04-key-added');

  // 5. A private key pasted by mistake: an error a person can act on, the
  //    key not echoed back, nothing added.
  await page.getByLabel('Public key').fill(PRIVKEY);
  await page.getByLabel('Device name').fill(STOLEN_DEVICE);
  await page.getByLabel('Your e-mail address').fill(OWNER);
  docs = await submit(page, page.getByRole('button', { name: 'Add the key' }), (u) => u.pathname === '/add',
    'js: POST /add with a private key');
  check(docs.at(-1).status === 422, 'js: a private key gets 422', docs.at(-1).status);
  const error = await text(page.locator('#add-error'));
  must(/private key/i.test(error) && /\.pub\b/.test(error),
    'js: the form says it is a private key and to paste the .pub file', error);
  check(await page.locator('#add-error').isVisible(), 'js: the error is visible');
  check((await page.getByLabel('Public key').getAttribute('aria-invalid')) === 'true', 'js: the key field is marked invalid');
  const body = PRIVKEY.split('\n').filter((l) => l && !l.startsWith('-----'));
  const html = await page.content();
  check(!body.some((l) => html.includes(l)), 'js: no line of the private key comes back in the page');
  check((await page.getByLabel('Public key').inputValue()) === '', 'js: the key field is emptied',
    (await page.getByLabel('Public key').inputValue()).slice(0, 40));
  check((await page.getByLabel('Device name').inputValue()) === STOLEN_DEVICE, 'js: the device name is kept after the error');
  check((await rowOf(page, STOLEN_DEVICE).count()) === 0, `js: no "${STOLEN_DEVICE}" key was added`);
  check((await rows(page).count()) === before + 1, 'js: the table is unchanged after the error', await rows(page).count());
  await hygiene(page, 'js: keys page with an error');
  await shot(page, '05-private-key-error');

  // 6. Revoke the key: the disclosure, then the confirmation button.
  const live = rowOf(page, DEVICE);
  await live.locator('summary').click();
  const confirm = live.getByRole('button', { name: 'Yes, revoke this key' });
  must(await confirm.isVisible(), 'js: the revoke confirmation opens');
  check((await text(live.locator('details form p'))).includes(FINGERPRINT), 'js: the confirmation names the fingerprint');
  docs = await submit(page, confirm, (u) => u.pathname === '/keys' && u.searchParams.get('notice') === 'revoked',
    'js: POST /revoke');
  must(docs[0].method === 'POST' && docs[0].status === 303, 'js: POST /revoke redirects (303)', `${docs[0].method} ${docs[0].status}`);
  notice = await text(page.locator('main .notice'));
  must(notice.startsWith('The key was revoked'), 'js: the page says the key was revoked', notice);
  const gone = rowOf(page, DEVICE);
  const n = await gone.count();
  if (n === 0) {
    check(!(await text(page.locator('main'))).includes(FINGERPRINT), 'js: the revoked key is gone from the page');
  } else {
    must(n === 1, `js: one row for "${DEVICE}" after the revoke`, n);
    cells = await rowCells(gone);
    must(cells['State'] === 'Revoked', 'js: the key is shown Revoked', cells['State']);
    check(cells['Fingerprint'] === FINGERPRINT, 'js: the revoked row keeps its fingerprint', cells['Fingerprint']);
    check((await gone.locator('summary, form').count()) === 0, 'js: a revoked key has no revoke control');
    check((await gone.getAttribute('class') || '').includes('state-revoked'), 'js: the row is styled as revoked');
  }
  const active = await rows(page).filter({ has: page.locator('td[data-label="State"]', { hasText: /^Active$/ }) }).all();
  for (const r of active) {
    check((await rowCells(r))['Fingerprint'] !== FINGERPRINT, 'js: the revoked key is not among the active ones');
  }
  await hygiene(page, 'js: keys page after the revoke');
  await shot(page, '06-revoked');

  // 7. Another key, uploaded as a browser sends a chosen .pub file (which
  //    Chromium may label with whatever MIME type it guesses for ".pub").
  await page.getByLabel('Or choose the .pub file').setInputFiles(UPLOAD_PUBKEY);
  await page.getByLabel('Device name').fill(UPLOAD_DEVICE);
  await page.getByLabel('Your e-mail address').fill(OWNER);
  docs = await submit(page, page.getByRole('button', { name: 'Add the key' }),
    (u) => u.pathname === '/keys' && u.searchParams.get('notice') === 'added' || u.pathname === '/add',
    'js: POST /add with an uploaded file');
  must(docs[0].status === 303, 'js: an uploaded .pub file is accepted (303)',
    `${docs.at(-1).status}: ${await text(page.locator('#add-error')).catch(() => '')}`);
  must((await text(page.locator('main .notice'))).startsWith('The key was added'), 'js: the page says the uploaded key was added');
  const up = rowOf(page, UPLOAD_DEVICE);
  must((await up.count()) === 1, `js: one row for "${UPLOAD_DEVICE}"`);
  cells = await rowCells(up);
  check(cells['Fingerprint'] === UPLOAD_FINGERPRINT, 'js: the uploaded key shows its ssh-keygen -lf fingerprint',
    `${cells['Fingerprint']} != ${UPLOAD_FINGERPRINT}`);
  check(cells['State'] === 'Active', 'js: the uploaded key is Active', cells['State']);
  await shot(page, '07-key-uploaded');

  // 8. A certificate for the uploaded key: the role, the file, a validity.
  must(await page.getByRole('heading', { name: 'Get a certificate' }).isVisible(), 'js: the keys page offers a certificate');
  const login = page.getByRole('radio', { name: 'login' });
  must(await login.isChecked(), 'js: the first role (login) is chosen');
  check(await page.getByRole('radio', { name: 'deploy' }).isVisible(), 'js: alice is offered the deploy role too');
  check(/Log in as alice\./.test(await text(page.locator('#role-login-hint'))), 'js: the login role says whom it logs in as',
    await text(page.locator('#role-login-hint')));
  await page.getByLabel('Or upload its .pub file').setInputFiles(UPLOAD_PUBKEY);
  await page.getByLabel('Valid for (optional)').fill('+1d');
  await hygiene(page, 'js: keys page with the certificate form filled');
  await shot(page, '08-cert-form');
  docs = await submit(page, page.getByRole('button', { name: 'Sign the certificate' }), (u) => u.pathname === '/cert',
    'js: POST /cert');
  must(docs.at(-1).status === 200, 'js: POST /cert answers 200',
    `${docs.at(-1).status}: ${await text(page.locator('#cert-error')).catch(() => '')}`);
  must((await text(page.locator('h1'))) === 'Your certificate', 'js: the certificate page', await text(page.locator('h1')));
  notice = await text(page.locator('main .notice'));
  check(/^Signed: the role login, serial \d+, valid until /.test(notice), 'js: the page says what was signed', notice);
  const certText = (await page.getByLabel('Certificate', { exact: true }).inputValue()).trim();
  must(certText.startsWith('ssh-ed25519-cert-v01@openssh.com '), 'js: the page shows the certificate', certText.slice(0, 60));
  const main = await text(page.locator('main'));
  check(main.includes(`Save it as ~/.ssh/${UPLOAD_BASE}-cert.pub`), 'js: the page says where to save it', main.slice(0, 400));
  check(main.includes('ssh alice@HOST'), 'js: the page shows how to log in with it');
  check(main.includes(`ssh-keygen -L -f ~/.ssh/${UPLOAD_BASE}-cert.pub`), 'js: the page shows how to inspect it');
  check(main.includes(UPLOAD_FINGERPRINT), 'js: the page names the key by its fingerprint');
  await hygiene(page, 'js: certificate page');
  await shot(page, '09-certificate');
  // The download: the file as ssh expects it beside the key.
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: STEP_TIMEOUT_MS }),
    page.getByRole('button', { name: `Download ${UPLOAD_BASE}-cert.pub` }).click(),
  ]);
  check(download.suggestedFilename() === `${UPLOAD_BASE}-cert.pub`, 'js: the download is named <key>-cert.pub',
    download.suggestedFilename());
  const saved = path.join(ARTIFACTS, download.suggestedFilename());
  await download.saveAs(saved);
  const downloaded = fs.readFileSync(saved, 'utf8');
  check(downloaded === certText + '\n', 'js: the downloaded file is the certificate on the page', downloaded.slice(0, 60));
  certificates.login = downloaded;
  check((await text(page.locator('h1'))) === 'Your certificate', 'js: the page stays after the download');
  await page.close();
}

// Without JavaScript: login, code, keys (where the revoked key is listed).
async function noJsFlow(context) {
  check(!(await scriptsRun(context)), 'nojs: scripts do not run in the context without JavaScript');
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  await signIn(page, 'nojs', { withShots: ['10-nojs-login', '11-nojs-code'] });
  must(await page.getByLabel('Public key').isVisible(), 'nojs: the keys page shows the add form');
  const row = rowOf(page, DEVICE);
  if ((await row.count()) === 1) {
    check((await rowCells(row))['State'] === 'Revoked', 'nojs: the key revoked before is listed as Revoked');
  }
  const up = rowOf(page, UPLOAD_DEVICE);
  if (check((await up.count()) === 1, `nojs: the uploaded "${UPLOAD_DEVICE}" key is listed`)) {
    const cells = await rowCells(up);
    check(cells['State'] === 'Active' && cells['Fingerprint'] === UPLOAD_FINGERPRINT,
      'nojs: the uploaded key is Active, with its fingerprint', JSON.stringify(cells));
    // The revoke control is a <details> disclosure: it must open without script.
    await up.locator('summary').click();
    check(await up.getByRole('button', { name: 'Yes, revoke this key' }).isVisible(),
      'nojs: the revoke confirmation opens without JavaScript');
  }
  await shot(page, '12-nojs-keys');

  // A certificate without JavaScript: the deploy role, the key pasted, a
  // validity beyond the role's hour refused first.
  await page.getByRole('radio', { name: 'deploy' }).check();
  await page.getByLabel('Key to certify').fill(fs.readFileSync(UPLOAD_PUBKEY, 'utf8'));
  await page.getByLabel('Valid for (optional)').fill('+2h');
  let docs = await submit(page, page.getByRole('button', { name: 'Sign the certificate' }), (u) => u.pathname === '/cert',
    'nojs: POST /cert beyond the role\'s maximum');
  check(docs.at(-1).status === 422, 'nojs: a validity beyond the maximum gets 422', docs.at(-1).status);
  const error = await text(page.locator('#cert-error'));
  check(/at most 1 hour/.test(error), 'nojs: the error says the role\'s maximum', error);
  check(await page.getByRole('radio', { name: 'deploy' }).isChecked(), 'nojs: the chosen role is kept after the error');
  check((await page.getByLabel('Valid for (optional)').getAttribute('aria-invalid')) === 'true',
    'nojs: the validity field is marked invalid');
  await page.getByLabel('Valid for (optional)').fill('+30m');
  docs = await submit(page, page.getByRole('button', { name: 'Sign the certificate' }), (u) => u.pathname === '/cert',
    'nojs: POST /cert');
  must(docs.at(-1).status === 200, 'nojs: POST /cert answers 200', docs.at(-1).status);
  must((await text(page.locator('h1'))) === 'Your certificate', 'nojs: the certificate page');
  const main = await text(page.locator('main'));
  check(main.includes('ssh deploy@HOST'), 'nojs: the page says to log in as deploy');
  check(/Signed: the role deploy/.test(main), 'nojs: the page names the role');
  certificates.deploy = (await page.getByLabel('Certificate', { exact: true }).inputValue()).trim() + '\n';
  await hygiene(page, 'nojs: certificate page');
  await shot(page, '13-nojs-certificate');
  await page.close();
}

// --------------------------------------------------------------------- main

async function main() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  let context = null;
  let status = 1;
  const sections = {};
  try {
    log(`launching ${CHROMIUM}`);
    context = await chromium.launchPersistentContext(PROFILE, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync',
        // Belt and braces: no host name resolves, so a request meant to
        // leave the machine fails (and is still recorded and reported).
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
      viewport: { width: 1024, height: 768 },
      timeout: 30000,
      // The page sets its own CSP; keep Chromium from bypassing it.
      bypassCSP: false,
    });
    watch(context, 'js');
    const browser = context.browser();
    log(`Chromium ${browser ? browser.version() : '?'} up`);

    for (const [name, run] of [
      ['js', () => jsFlow(context)],
      ['nojs', async () => {
        if (!browser) throw new Error('no browser handle for a second context');
        const nojs = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 } });
        watch(nojs, 'nojs');
        try {
          await noJsFlow(nojs);
        } finally {
          await nojs.close();
        }
      }],
    ]) {
      const s = Date.now();
      try {
        await run();
        sections[name] = 'passed';
      } catch (e) {
        sections[name] = 'failed';
        if (!(e instanceof StepFailed)) check(false, `${name}: the flow ran to its end`, e.message.split('\n')[0]);
        let i = 0;
        for (const p of context.pages().concat(...context.browser()?.contexts().filter((c) => c !== context)
          .map((c) => c.pages()) ?? [])) {
          if (p.url() === 'about:blank') continue;
          try {
            await shot(p, `failure-${name}-${++i}`);
          } catch {}
        }
      }
      log(`section ${name}: ${sections[name]} in ${((Date.now() - s) / 1000).toFixed(1)} s`);
    }

    // No request leaves the machine: every one goes to keyward-web.
    const outside = requests.filter((r) => {
      try {
        return new URL(r.url).origin !== ORIGIN;
      } catch {
        return true;
      }
    });
    check(requests.length > 0, 'requests were recorded');
    check(outside.length === 0, `every request went to ${ORIGIN}`, outside.map((r) => r.url).join(', '));
    check(problems.length === 0, 'no console error, page error or failed request', problems.join(' | '));
    const bad = documents.filter((d) => d.status >= 400 && !(d.status === 422 && /\/(add|cert)$/.test(d.url)));
    check(bad.length === 0, 'no page answered with an error status (besides the refused key and validity)',
      bad.map((d) => `${d.method} ${d.url} ${d.status}`).join(', '));
    status = failures.length === 0 ? 0 : 1;
  } catch (e) {
    check(false, 'the browser ran', e.stack || e.message);
  } finally {
    if (context) {
      try {
        await context.close();
      } catch (e) {
        console.error(`closing Chromium: ${e.message}`);
      }
    }
  }

  const seconds = (Date.now() - t0) / 1000;
  const result = {
    ok: failures.length === 0,
    checks: checks.length,
    failures,
    sections,
    screenshots,
    notes: notes.map((n) => (n === 'favicon' ? 'Chromium asked for /favicon.ico and got 404' : n)),
    certificates,
    requests: requests.map((r) => `${r.context} ${r.method} ${r.url}`),
    seconds,
  };
  if (RESULTS) fs.writeFileSync(RESULTS, JSON.stringify(result, null, 2));
  log(`${checks.length - failures.length} of ${checks.length} checks passed, ${requests.length} requests, all to ${ORIGIN}: ` +
    `${requests.every((r) => r.url.startsWith(ORIGIN + '/'))}`);
  return failures.length === 0 ? status : 1;
}

main().then((rc) => process.exit(rc), (e) => {
  console.error(e);
  process.exit(1);
});
