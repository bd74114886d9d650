// The studio's Tagging panel in Debian's Chromium (playwright-core): it
// shows the saved settings, "Use this device's location" fills in the
// position the browser gives (granted here; localhost is a secure
// context), Save stores the settings (GET /api/tagging) and a reload shows
// them again, the toggle turns tagging of new captures off and on, and
// "Apply to this session" reports its counts.  Run by
// tests/integration/studio_tag.sh:  node tagging.mjs STUDIO_URL [SCREENSHOT_DIR]
// Prints "ok - ..." / "not ok - ..." lines.
import { chromium } from 'playwright-core';

const [studio, shots] = process.argv.slice(2);
let failed = 0;
const report = (ok, name, detail) => {
  console.log(`${ok ? 'ok' : 'not ok'} - studio_tag: browser: ${name}${ok || !detail ? '' : ' -- ' + detail}`);
  if (!ok) failed++;
};
const settings = async () => (await fetch(studio + '/api/tagging')).json();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(fn, ms = 10000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try { if (await fn()) return true; } catch (e) { /* retry */ }
    await sleep(100);
  }
  return false;
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
});
try {
  const context = await browser.newContext({
    viewport: { width: 1440, height: 1000 },
    permissions: ['geolocation'],
    geolocation: { latitude: -41.2864603, longitude: 174.776236, accuracy: 12 },
  });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // 127.0.0.1 is a secure context, as localhost is
  await page.goto(studio + '/');
  const before = await settings();
  report(await until(async () => (await page.inputValue('#tag-lat')) === String(before.gps.lat)),
    'the panel shows the saved position', await page.inputValue('#tag-lat'));
  report((await page.isChecked('#tag-enabled')) === before.enabled, 'and whether new captures are tagged');

  await page.click('#tag-locate');
  report(await until(async () => (await page.inputValue('#tag-lat')) === '-41.2864603'),
    "\"Use this device's location\" fills in the browser's position", await page.textContent('#tag-geo'));
  report((await page.inputValue('#tag-lon')) === '174.7762360', 'both coordinates', await page.inputValue('#tag-lon'));
  await page.fill('#tag-artist', 'Eve Ngata');
  await page.fill('#tag-copyright', '© 2026 Eve Ngata');
  await page.fill('#tag-keywords', 'harbour, wellington');
  await page.fill('#tag-alt', '');
  await page.click('#tag-save');
  report(await until(async () => {
    const s = await settings();
    return s.gps && Math.abs(s.gps.lat + 41.2864603) < 1e-9 && Math.abs(s.gps.lon - 174.776236) < 1e-9 &&
      s.gps.alt === undefined && s.artist === 'Eve Ngata' && s.keywords.join() === 'harbour,wellington';
  }), 'Save stores the settings (GET /api/tagging)', JSON.stringify(await settings()));
  report(await until(async () => (await page.textContent('#tag-result')).startsWith('Saved')), 'and says so');
  if (shots) await page.locator('#tagging').screenshot({ path: `${shots}/studio-tagging.png` });

  await page.reload();
  report(await until(async () => (await page.inputValue('#tag-artist')) === 'Eve Ngata'), 'a reload shows the saved settings');
  report((await page.inputValue('#tag-keywords')) === 'harbour, wellington' &&
    (await page.inputValue('#tag-copyright')) === '© 2026 Eve Ngata' && (await page.inputValue('#tag-lat')) === '-41.2864603',
    'all of them');

  const was = await page.isChecked('#tag-enabled');
  await page.click('#tag-enabled');
  report(await until(async () => (await settings()).enabled === !was), 'the toggle turns tagging of new captures ' + (was ? 'off' : 'on'));
  await page.click('#tag-enabled');
  report(await until(async () => (await settings()).enabled === was), 'and back');

  await page.click('#tag-apply');
  report(await until(async () => /^Session "default": \d+ tagged, 0 failed/.test(await page.textContent('#tag-result')), 20000),
    '"Apply to this session" reports its counts', await page.textContent('#tag-result'));

  // plain http on another address is no secure context: the message says what to do
  const insecure = await browser.newPage();
  await insecure.goto(studio + '/');
  await insecure.evaluate(() => Object.defineProperty(window, 'isSecureContext', { value: false }));
  await insecure.click('#tag-locate');
  report(await until(async () => (await insecure.textContent('#tag-geo')).includes('https://')),
    'without a secure context the button explains why there is no location', await insecure.textContent('#tag-geo'));
  report(errors.length === 0, 'no script errors in the page', errors.join('; '));
} catch (e) {
  report(false, 'the browser session ran to the end', e.message);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
