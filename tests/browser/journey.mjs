// journey.mjs: what a person does on keydir's site, in headless Chromium
// (Debian's), as TAP.  tests/e2e/30-browser.sh starts keydird and makes
// the keys, then runs this with:
//   KD_URL      the directory
//   KD_MAILDIR  its Maildir (the links are read from the mails)
//   KEY1, ADDR1, FPR1   a key file with one address, for the journey
//   KEY2, ADDR2, FPR2   another, for the same journey without JavaScript
//   KEY3, KEY4, ADDR3, FPR3, FPR4  two keys for one address: the first
//                       published, then replaced by the second in German
//   OUT         where screenshots go (375 and 1280 px wide, every page)
// Every page is checked for console errors, CSP violations and axe-core
// violations of impact serious or critical.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import puppeteer from 'puppeteer-core';

const require = createRequire(import.meta.url);
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const env = (k) => {
	if (!process.env[k]) throw new Error(`journey.mjs: ${k} is not set`);
	return process.env[k];
};
const URL0 = env('KD_URL'), MAILDIR = env('KD_MAILDIR'), OUT = env('OUT');

let n = 0, failed = 0;
function ok(cond, what, diag) {
	n++;
	if (!cond) failed++;
	console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${what}`);
	if (!cond && diag)
		for (const l of String(diag).split('\n'))
			console.log(`# ${l}`);
	return cond;
}

const problems = [];	// console errors and CSP violations, per page
const shots = new Set();

async function check(page, name) {
	// axe-core on the page as it is (evaluated through DevTools, which
	// the page's CSP does not govern)
	await page.evaluate(AXE);
	const r = await page.evaluate(async () => await globalThis.axe.run(
	    document, { resultTypes: ['violations'] }));
	const bad = r.violations.filter((v) =>
	    v.impact === 'serious' || v.impact === 'critical');
	ok(bad.length === 0, `${name}: no serious or critical accessibility ` +
	    `violation (axe-core)`, bad.map((v) => `${v.id}: ${v.help} (` +
	    v.nodes.map((x) => x.target.join(' ')).join(', ') + ')').join('\n'));
	if (!shots.has(name)) {
		shots.add(name);
		const vp = page.viewport();
		for (const w of [375, 1280]) {
			await page.setViewport({ width: w, height: 800 });
			await page.screenshot({ path: path.join(OUT,
			    `${name}-${w}.png`), fullPage: true });
		}
		await page.setViewport(vp);
	}
}

function watch(page) {
	page.on('console', (m) => {
		// a page answered 404 on purpose (nothing found, no such
		// page) is reported as the document's own load error: not a
		// problem of the page; anything else is
		if (m.type() !== 'error' || (m.location().url === page.url() &&
		    /^Failed to load resource: the server responded with a status of 404/
		    .test(m.text())))
			return;
		problems.push(`${page.url()}: ${m.text()}`);
	});
	page.on('pageerror', (e) => problems.push(`${page.url()}: ${e}`));
}

// The text of a mail file: quoted-printable undone, UTF-8 read.
function mailText(p) {
	const raw = fs.readFileSync(p, 'latin1').replace(/=\r?\n/g, '')
	    .replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(
	    parseInt(h, 16)));
	return Buffer.from(raw, 'latin1').toString('utf8');
}

// The newest mail to addr with a link BASE/kind/TOKEN, waiting for it up
// to 20 s, never one whose link is in skip: { link, text }, or null.
async function mailWith(addr, kind, skip = new Set()) {
	const re = new RegExp(`https?://[^\\s"<>]*/${kind}/[A-Za-z0-9_-]{43}`);
	for (let i = 0; i < 200; i++) {
		const found = [];
		for (const d of ['new', 'cur']) {
			const dir = path.join(MAILDIR, d);
			if (!fs.existsSync(dir)) continue;
			for (const f of fs.readdirSync(dir)) {
				const p = path.join(dir, f);
				const t = mailText(p);
				if (!new RegExp(`^To: *<?${addr.replace('.',
				    '\\.')}>?\\s*$`, 'mi').test(t)) continue;
				const m = t.match(re);
				if (m && !skip.has(m[0]))
					found.push([fs.statSync(p).mtimeMs,
					    { link: m[0], text: t }]);
			}
		}
		if (found.length) {
			found.sort((a, b) => b[0] - a[0]);
			return found[0][1];
		}
		await new Promise((r) => setTimeout(r, 100));
	}
	return null;
}

async function mailLink(addr, kind, skip = new Set()) {
	const m = await mailWith(addr, kind, skip);
	return m ? m.link : null;
}

async function go(page, url) {
	const r = await page.goto(url, { waitUntil: 'load' });
	return r ? r.status() : 0;
}

async function submit(page, selector) {
	const [r] = await Promise.all([
		page.waitForNavigation({ waitUntil: 'load' }),
		page.click(selector),
	]);
	return r ? r.status() : 0;
}

const text = (page) => page.evaluate(() => document.body.innerText);

// The whole journey for one key: upload, confirm, search, download,
// manage.  tag names the screenshots ("" for the first run only).
async function journey(page, key, addr, fpr, tag) {
	const s = (name) => (tag ? `${tag}-${name}` : name);
	const linksSeen = new Set();

	ok(await go(page, `${URL0}/`) === 200, `${tag || 'js'}: / opens`);
	ok(await page.$('form[action="/search"] input[name="q"]') !== null,
	    `${tag || 'js'}: a search box`);
	if (!tag) await check(page, 'home');

	await Promise.all([page.waitForNavigation(), page.click(
	    'a[href="/upload"]')]);
	ok(page.url() === `${URL0}/upload`, `${tag || 'js'}: the Upload link`);
	if (!tag) await check(page, 'upload');
	const file = await page.$('input[type="file"][name="keyfile"]');
	await file.uploadFile(key);
	ok(await submit(page, 'form[action="/upload"] button[type="submit"]')
	    === 200, `${tag || 'js'}: the key file uploaded through the form`);
	const box = await page.$(`input[type="checkbox"][value="${addr}"]`);
	ok(box !== null && await box.evaluate((b) => b.checked),
	    `${tag || 'js'}: ${addr} listed, checked to be mailed`);
	ok((await text(page)).includes('not published'),
	    `${tag || 'js'}: ... and said to be not published yet`);
	if (!tag) await check(page, 'uploaded');
	ok(await submit(page, 'form[action="/upload/verify"] button') === 200,
	    `${tag || 'js'}: confirmation asked for the chosen address`);
	ok((await text(page)).includes('a confirmation mail is on its way'),
	    `${tag || 'js'}: the page says the mail is on its way`);
	if (!tag) await check(page, 'mailed');

	const link = await mailLink(addr, 'verify');
	ok(link !== null, `${tag || 'js'}: the confirmation link read from ` +
	    `the mail`);
	linksSeen.add(link);
	ok(await go(page, link) === 200, `${tag || 'js'}: the link opens`);
	const body = await text(page);
	ok(body.includes(addr) && body.replace(/\s/g, '').includes(fpr),
	    `${tag || 'js'}: the page names the address and the key`);
	const danger = await page.$('button.danger');
	ok(danger !== null, `${tag || 'js'}: "This was not me" is set apart`);
	if (!tag) await check(page, 'confirm');
	ok(await submit(page, `form[action$="/verify/${link.split('/')
	    .pop()}"] button`) === 200, `${tag || 'js'}: confirmed`);
	ok((await text(page)).includes('is now published'),
	    `${tag || 'js'}: the page says it is published`);

	await go(page, `${URL0}/`);
	await page.type('#q', addr);
	ok(await submit(page, 'form.search button') === 200,
	    `${tag || 'js'}: searched by address`);
	const found = (await text(page)).replace(/\s/g, '');
	ok(found.includes(fpr), `${tag || 'js'}: the key is found`);
	if (!tag) await check(page, 'search');

	// the download link: the bytes must be the by-fingerprint answer
	const dl = fs.mkdtempSync(path.join(OUT, 'dl-'));
	const cdp = await page.createCDPSession();
	await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow',
	    downloadPath: dl });
	await page.click('a[download]');
	let got = null;
	for (let i = 0; i < 100 && !got; i++) {
		const f = fs.readdirSync(dl).filter((x) => !x.endsWith(
		    '.crdownload'));
		if (f.length) got = fs.readFileSync(path.join(dl, f[0]));
		else await new Promise((r) => setTimeout(r, 100));
	}
	const want = Buffer.from(await (await fetch(
	    `${URL0}/vks/v1/by-fingerprint/${fpr}`)).arrayBuffer());
	ok(got !== null && got.equals(want), `${tag || 'js'}: the downloaded ` +
	    `key is byte for byte the by-fingerprint answer`);
	await cdp.detach();

	// manage: a link by mail, then unpublish
	await go(page, `${URL0}/manage`);
	if (!tag) await check(page, 'manage');
	await page.type('#address', addr);
	ok(await submit(page, 'form[action="/manage"] button') === 200,
	    `${tag || 'js'}: a manage link asked for`);
	const mlink = await mailLink(addr, 'manage', linksSeen);
	ok(mlink !== null, `${tag || 'js'}: the manage link read from the mail`);
	ok(await go(page, mlink) === 200, `${tag || 'js'}: it opens`);
	if (!tag) await check(page, 'manage-link');
	ok(await submit(page, 'button.danger') === 200 && (await text(page))
	    .includes('no longer published'), `${tag || 'js'}: unpublished`);
	await go(page, `${URL0}/search?q=${encodeURIComponent(addr)}`);
	ok((await text(page)).includes('No key found'),
	    `${tag || 'js'}: a search finds it no more`);
	if (!tag) await check(page, 'search-none');
}

// The texts of every mail to addr so far.
function mailsTo(addr) {
	const out = [];
	for (const d of ['new', 'cur']) {
		const dir = path.join(MAILDIR, d);
		if (!fs.existsSync(dir)) continue;
		for (const f of fs.readdirSync(dir)) {
			const t = mailText(path.join(dir, f));
			if (new RegExp(`^To: *<?${addr.replace('.', '\\.')}>?\\s*$`,
			    'mi').test(t))
				out.push(t);
		}
	}
	return out;
}

// Upload key through the form and ask for addr's confirmation: whether
// both pages came.
async function uploadAndAsk(page, key, addr) {
	await go(page, `${URL0}/upload`);
	const file = await page.$('input[type="file"][name="keyfile"]');
	await file.uploadFile(key);
	if (await submit(page, 'form[action="/upload"] button[type="submit"]')
	    !== 200 || await page.$(`input[type="checkbox"][value="${addr}"]`)
	    === null)
		return false;
	return await submit(page, 'form[action="/upload/verify"] button') ===
	    200;
}

// Confirm through the link: the page after it.
async function confirmLink(page, link) {
	await go(page, link);
	await submit(page, `form[action$="/verify/${link.split('/').pop()}"] ` +
	    'button');
	return text(page);
}

// A key replaced by another for its address, the second time in German:
// the German mail names the published key, the page shows both keys.
async function replacement(page) {
	const addr = env('ADDR3'), f3 = env('FPR3'), f4 = env('FPR4');
	const seen = new Set();
	const groups = (f) => f.match(/.{4}/g).join(' ');

	ok(await uploadAndAsk(page, env('KEY3'), addr),
	    'replace: the first key uploaded, its confirmation asked for');
	let m = await mailWith(addr, 'verify', seen);
	ok(m !== null && (await confirmLink(page, m.link)).includes(
	    'is now published'), 'replace: ... and confirmed');
	seen.add(m && m.link);

	// keydird runs with mail_rate=1s: one request per address a second
	await new Promise((r) => setTimeout(r, 1100));
	await page.setExtraHTTPHeaders({ 'Accept-Language': 'de' });
	ok(await uploadAndAsk(page, env('KEY4'), addr),
	    'replace: a second key for the address, uploaded in German');
	m = await mailWith(addr, 'verify', seen);
	ok(m !== null && m.text.includes('jemand hat das Schlüsselverzeichnis')
	    && m.text.includes('mit einem ANDEREN Schlüssel') && m.text
	    .includes(groups(f3)) && /^Subject: =\?UTF-8\?B\?/mi.test(m.text),
	    'replace: the confirmation mail is German and names the ' +
	    'published key', m && m.text.slice(0, 2000));
	if (m === null) return;
	await go(page, m.link);
	const body = (await text(page)).replace(/\s/g, '');
	ok(body.includes(f3) && body.includes(f4),
	    'replace: the page shows both keys', body.slice(0, 1500));
	ok(await page.$eval('html', (h) => h.lang) === 'de',
	    'replace: ... in German');
	await check(page, 'replace-de');
	ok((await confirmLink(page, m.link)).includes(
	    'ist jetzt mit dem Schlüssel'), 'replace: confirmed, in German');
	ok(mailsTo(addr).some((t) => t.includes('Bisher war es:') &&
	    t.includes(groups(f3)) && t.includes(groups(f4))),
	    'replace: the notice of the change, in German, names both keys');
	await go(page, `${URL0}/search?q=${encodeURIComponent(addr)}`);
	const found = (await text(page)).replace(/\s/g, '');
	ok(found.includes(f4) && !found.includes(f3),
	    'replace: a search finds the new key, not the old');
	await page.setExtraHTTPHeaders({});
}

const browser = await puppeteer.launch({
	executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
	headless: true,
	args: [...(process.getuid() === 0 ? ['--no-sandbox'] : []),
	    '--disable-gpu', '--disable-background-networking',
	    '--disable-component-update', '--no-first-run'],
});
try {
	const page = await browser.newPage();
	watch(page);
	await page.setViewport({ width: 1280, height: 800 });
	await journey(page, env('KEY1'), env('ADDR1'), env('FPR1'), '');
	await go(page, `${URL0}/about`);
	await check(page, 'about');
	await go(page, `${URL0}/about/api`);
	await check(page, 'api');
	ok(await go(page, `${URL0}/no/such/page`) === 404 &&
	    (await text(page)).includes('Page not found'),
	    'a missing page is a page, 404');
	await check(page, 'notfound');

	// German, by Accept-Language
	await page.setExtraHTTPHeaders({ 'Accept-Language': 'de-DE,de;q=0.9' });
	await go(page, `${URL0}/`);
	ok(await page.$eval('html', (h) => h.lang) === 'de' &&
	    (await text(page)).includes('Ein prüfendes Verzeichnis'),
	    'Accept-Language de: the page is German');
	await check(page, 'home-de');
	await page.setExtraHTTPHeaders({});
	await replacement(page);

	// the same journey with JavaScript off
	const nojs = await browser.newPage();
	watch(nojs);
	await nojs.setJavaScriptEnabled(false);
	await journey(nojs, env('KEY2'), env('ADDR2'), env('FPR2'), 'nojs');

	ok(problems.length === 0, 'no console error and no CSP violation on ' +
	    'any page', problems.join('\n'));
} catch (e) {
	ok(false, `the journey ran to its end`, e.stack);
} finally {
	await browser.close();
}
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
