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

export const launch = () => chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
});
