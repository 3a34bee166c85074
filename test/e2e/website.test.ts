// The website in a real headless Chromium (Debian's package, driven by playwright-core): every
// page renders real data, search finds a package, a signed-in user comments and sees it, a
// <script> comment stays text, a maintainer flags stable and the package page shows it, error
// pages are pages with their status. Saves a screenshot of the package page under artifacts/.
import { expect } from 'chai';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { updateStatus } from '../../src/store/changes/update-status.js';
import { fixtureRepo, git, pushUrl, queuedLine } from '../support/git-client.js';
import { api, newUser, startTestServer, type TestServer } from '../support/test-server.js';

const ARTIFACTS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'artifacts');
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('website in a real browser', function () {
  this.timeout(180_000);
  let s: TestServer;
  let browser: Browser;
  let page: Page;
  let alice = '';
  let bob = '';
  let pkgid = 0;
  const dialogs: string[] = [];

  before(async () => {
    s = await startTestServer({ worker: false });
    alice = await newUser(s, 'alice');
    bob = await newUser(s, 'bob');
    await api(s.url, 'POST', '/api/v1/repos', { name: 'hello' }, alice);
    const wc = await fixtureRepo('hello');
    const push = await git(wc, 'push', pushUrl(s.url, 'hello', 'alice', alice), 'HEAD:refs/heads/version-1.0');
    pkgid = queuedLine(push.out)!.pkgid;
    // test shortcut standing in for the VM builder: record a good build outcome
    await updateStatus(s.ctx.store, pkgid, {
      message: 'test: good build', actor: 'builder',
      change: (st) => {
        st.state = 'good';
        st.build = { arch: 'x86_64', installed_size: 16222, compile_seconds: 2.5, files: ['/usr/bin/hello', '/usr/share/doc/hello/README'], modified_files: [], binaries: ['/usr/bin/hello'], resolved_dependencies: [], phases: {} };
      },
    });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
    page = await browser.newPage();
    page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
  });
  after(async () => {
    await browser?.close();
    await s?.close();
  });

  const signIn = async (user: string, token: string) => {
    await page.context().clearCookies();
    await page.goto(`${s.url}/sign-in`);
    await page.getByLabel('User name').fill(user);
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${s.url}/`);
  };

  it('renders the home page with the recent submission and the queue', async () => {
    const res = await page.goto(`${s.url}/`);
    expect(res!.status()).to.equal(200);
    expect(await page.locator('main').innerText()).to.contain('hello').and.contain('Build queue');
    expect(await page.locator('header, nav, main, footer').count()).to.equal(4);
  });

  it('finds a package with the search box', async () => {
    await page.goto(`${s.url}/`);
    await page.getByRole('searchbox', { name: 'Search packages' }).fill('greeting');
    await page.getByRole('button', { name: 'Search' }).first().click();
    await page.waitForURL(/\/packages\?q=greeting/);
    expect(await page.getByRole('link', { name: 'hello', exact: true }).count()).to.be.greaterThan(0);
  });

  for (const [url, text] of [['/packages', 'hello'], ['/category/utils', 'hello'], ['/tag/cli', 'hello'], ['/builds', 'Recent failures']]) {
    it(`renders ${url}`, async () => {
      const res = await page.goto(`${s.url}${url}`);
      expect(res!.status()).to.equal(200);
      expect(await page.locator('main').innerText()).to.contain(text);
    });
  }

  it('renders the submission page with the build result', async () => {
    await page.goto(`${s.url}/submissions/${pkgid}`);
    const main = await page.locator('main').innerText();
    expect(main).to.contain('/usr/bin/hello').and.contain('16 KiB').and.contain(`/pkg/${pkgid}`);
  });

  it('lets a signed-in user comment, and a <script> comment stays text', async () => {
    await signIn('bob', bob);
    await page.goto(`${s.url}/submissions/${pkgid}`);
    await page.getByLabel('Comment').fill('Works on my machine');
    await page.getByRole('button', { name: 'Post comment' }).click();
    await page.waitForURL(`${s.url}/submissions/${pkgid}`);
    expect(await page.locator('ol.comments').innerText()).to.contain('Works on my machine');
    const xss = '<script>alert("xss")</script><img src=x onerror=alert(2)>';
    await page.getByLabel('Comment').fill(xss);
    await page.getByRole('button', { name: 'Post comment' }).click();
    await page.waitForURL(`${s.url}/submissions/${pkgid}`);
    expect(await page.locator('ol.comments').innerText()).to.contain(xss);
    expect(await page.locator('ol.comments script, ol.comments img').count()).to.equal(0);
    expect(dialogs).to.deep.equal([]);
    const comments = await api(s.url, 'GET', `/api/v1/pkg/${pkgid}`);
    expect(comments.json.comments).to.equal(2);
  });

  it('refuses a flag from a non-maintainer with a 403 page, then a maintainer flags stable', async () => {
    const forbidden = page.waitForResponse((r) => r.url().endsWith('/flag-stable'));
    await page.getByRole('button', { name: 'Flag stable' }).click();
    expect((await forbidden).status()).to.equal(403);
    await signIn('alice', alice);
    await page.goto(`${s.url}/submissions/${pkgid}`);
    await page.getByRole('button', { name: 'Flag stable' }).click();
    await page.waitForURL(`${s.url}/submissions/${pkgid}`);
    await page.goto(`${s.url}/packages/hello`);
    expect(await page.locator('main').innerText()).to.match(/Stable\s+1\.0 \(pkgid \d+\)/);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'package-page.png'), fullPage: true });
    expect((await fetch(`${s.url}/port/hello/stable`, { redirect: 'manual' })).headers.get('location')).to.equal(`/pkg/${pkgid}`);
  });

  it('is readable on a phone: no page scrolls sideways at 390 px', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
    try {
      for (const url of ['/', '/packages', '/packages/hello', `/submissions/${pkgid}`, '/builds']) {
        await phone.goto(`${s.url}${url}`);
        const [scroll, width] = await phone.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
        expect(scroll, url).to.be.at.most(width);
      }
      await phone.goto(`${s.url}/packages/hello`);
      await phone.screenshot({ path: path.join(ARTIFACTS, 'package-page-phone.png'), fullPage: true });
    } finally {
      await phone.close();
    }
  });

  it('refuses a form without its CSRF token', async () => {
    const r = await page.evaluate(async (u) => (await fetch(u, { method: 'POST', body: new URLSearchParams({ text: 'forged' }) })).status, `${s.url}/submissions/${pkgid}/comment`);
    expect(r).to.equal(403);
  });

  it('shows error pages as pages with their status', async () => {
    for (const [url, status] of [['/packages/nosuch', 404], ['/submissions/99999', 404], ['/submissions/abc', 404]] as const) {
      const res = await page.goto(`${s.url}${url}`);
      expect(res!.status(), url).to.equal(status);
      expect(await page.locator('h1').innerText()).to.equal('Not found');
    }
  });
});
