// common: what the browser tests share: waiting on state in the page, and
// Debian's Chromium (/usr/bin/chromium, headless, no sandbox: the tests run
// as root in a container) driven by playwright-core.
import { chromium } from 'playwright-core';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// until(fn, ms): calls fn every 100 ms until it gives something true
// (an exception counts as false); false after ms.
export async function until(fn, ms = 10000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try { if (await fn()) return true; } catch (e) { /* retry */ }
    await sleep(100);
  }
  return false;
}

// The studio's drawers (the time-lapse, import, tagging, webhooks and
// presets panels) start closed; the tests of what is inside them open them
// all for every page (launch), the test of the drawers themselves does not
// (launchFresh).
const DRAWERS_OPEN = JSON.stringify({ timelapse: true, import: true, tagging: true, webhooks: true, presets: true });

// withDrawersOpen(page): the page opens the studio with every drawer open
// and the review pane not opening by itself after each shot (it would
// cover the panels these tests click on next), unless the page itself
// already chose; returns page.  (review.mjs tests the pane as a new
// visitor finds it.)
export async function withDrawersOpen(page) {
  await page.addInitScript((open) => {
    if (!localStorage.getItem('tether.drawers')) localStorage.setItem('tether.drawers', open);
    if (!localStorage.getItem('tether.review')) localStorage.setItem('tether.review', 'off');
  }, DRAWERS_OPEN);
  return page;
}

export async function launch() {
  const browser = await launchFresh();
  const newPage = browser.newPage.bind(browser);
  browser.newPage = async (options) => withDrawersOpen(await newPage(options));
  return browser;
}

export const launchFresh = () => chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
});
