// End-to-end tests of the studio UI in a real browser (Debian's Chromium,
// driven by playwright-core).  Run by tests/integration/studio_ui.sh, which
// starts `tether sim ptpip` and `tether serve` and passes:
//   node studio.mjs STUDIO_URL CONTROL_URL SCREENSHOT_DIR
// Prints "ok - ..." / "not ok - ..." lines.  Screenshots are kept.
import { chromium } from 'playwright-core';

const [studio, control, shots] = process.argv.slice(2);
let failed = 0;
const report = (ok, name, detail) => {
  console.log(`${ok ? 'ok' : 'not ok'} - studio_ui: ${name}${ok || !detail ? '' : ' -- ' + detail}`);
  if (!ok) failed++;
};
const state = async () => (await fetch(control + '/state')).json();
const status = async () => (await fetch(studio + '/api/status')).json();
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
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(studio + '/');
  report(await page.title() === 'tether studio', 'the page loads');
  report(await until(async () => (await page.textContent('#camera')).includes('Canon EOS 550D')), 'the camera model is shown');
  report(await until(async () => (await page.textContent('#link')) === 'connected'), 'the camera shows as connected');

  // live view
  const f0 = (await status()).stream.frames_sent;
  report(await until(async () => page.evaluate(() => document.querySelector('#live').naturalWidth === 1056)),
    'live view frames arrive in the page (1056 px wide)');
  await sleep(1500);
  const s1 = await status();
  report(s1.stream.clients >= 1 && s1.stream.frames_sent - f0 > 15,
    `the stream keeps flowing (${s1.stream.frames_sent - f0} frames in ~2 s)`);

  // settings: an ISO change reaches the camera
  report(await until(async () => (await page.$$('.setting')).length > 10), 'the settings tree is rendered');
  await page.selectOption('select[id="set--main-imgsettings-iso"]', '800');
  report(await until(async () => (await state()).settings.iso === '800'), 'an ISO change in the UI reaches the camera');

  // capture: the photo appears in the mini gallery without a reload
  const before = await page.$$eval('#mini img', (l) => l.length);
  await page.click('#capture');
  report(await until(async () => (await page.$$eval('#mini img', (l) => l.length)) === before + 1, 15000),
    'a capture appears in the mini gallery');
  report(await until(async () => (await page.textContent('#clip')).includes('clipped')), 'its histogram and clipping are shown');
  report(await until(async () => (await page.textContent('#exif')).includes('800')), 'its EXIF (ISO 800) is shown');
  await page.screenshot({ path: `${shots}/studio-desktop.png` });

  // presets: save with ISO 800 ticked, change ISO, apply, ISO is back
  await page.fill('#preset-name', 'studio key light');
  await page.click('#save-preset button');
  report(await until(async () => (await page.$$('#presets li')).length === 1), 'a preset is saved and listed');
  await page.selectOption('select[id="set--main-imgsettings-iso"]', '1600');
  await until(async () => (await state()).settings.iso === '1600');
  await page.click('#presets li button:text("Apply")');
  report(await until(async () => (await state()).settings.iso === '800'), 'applying the preset sets the camera back to ISO 800');
  report(await until(async () => (await page.inputValue('select[id="set--main-imgsettings-iso"]')) === '800'),
    'and the UI follows');

  // a dial turned on the body shows up in the UI by itself
  await fetch(control + '/body/setting', { method: 'POST', body: JSON.stringify({ name: 'iso', value: '3200' }) });
  report(await until(async () => (await page.inputValue('select[id="set--main-imgsettings-iso"]')) === '3200', 15000),
    'an ISO change made on the camera body shows up in the UI');

  // sessions: a new session starts empty; switching back shows the old photos
  await page.fill('#session-name', 'wedding');
  await page.click('#new-session button');
  report(await until(async () => (await page.$$eval('#mini img', (l) => l.length)) === 0), 'a new session starts with an empty gallery');
  await page.click('#capture');
  report(await until(async () => (await page.$$eval('#mini img', (l) => l.length)) === 1, 15000), 'a capture lands in the new session');
  await page.selectOption('#session', 'default');
  report(await until(async () => (await page.$$eval('#mini img', (l) => l.length)) === before + 1),
    'switching back moves the gallery to the old session');

  // a change made on the camera body shows up (control channel: shutter)
  const n0 = await page.$$eval('#mini img', (l) => l.length);
  await fetch(control + '/shutter', { method: 'POST' });
  report(await until(async () => (await page.$$eval('#mini img', (l) => l.length)) === n0 + 1, 15000),
    'a shot taken with the body\'s button appears by itself');

  // camera lost and back
  await fetch(control + '/unplug', { method: 'POST' });
  report(await until(async () => !(await page.isHidden('#lost')), 15000), 'a lost camera is shown on the live view');
  await page.screenshot({ path: `${shots}/studio-camera-lost.png` });
  await fetch(control + '/plug', { method: 'POST' });
  report(await until(async () => (await page.textContent('#link')) === 'connected', 20000), 'and it comes back by itself');
  const f2 = (await status()).stream.frames_sent;
  report(await until(async () => (await status()).stream.frames_sent > f2 + 10, 15000), 'live view resumes');

  // gallery page
  const g = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await g.goto(studio + '/gallery');
  report(await until(async () => (await g.$$('#grid figure')).length === n0 + 1), 'the gallery page lists the session\'s photos');
  await g.click('#grid figure img');
  report(await until(async () => g.evaluate(() => document.querySelector('#full-img').naturalWidth === 5184)),
    'a photo opens at full size (5184 px)');
  await g.screenshot({ path: `${shots}/gallery-full.png` });
  await g.click('#close');
  await g.screenshot({ path: `${shots}/gallery.png` });

  // phone
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await phone.goto(studio + '/');
  report(await until(async () => phone.evaluate(() => document.querySelector('#live').naturalWidth > 0)), 'live view on a phone-sized screen');
  const fits = await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
  report(fits, 'the layout fits a phone without sideways scrolling');
  await phone.screenshot({ path: `${shots}/studio-phone.png`, fullPage: true });
  const tablet = await browser.newPage({ viewport: { width: 1024, height: 768 } });
  await tablet.goto(studio + '/');
  await sleep(1000);
  await tablet.screenshot({ path: `${shots}/studio-tablet.png` });

  report(errors.length === 0, 'no script errors in the pages', errors.join('; '));
} catch (e) {
  report(false, 'the browser session ran to the end', e.message);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
