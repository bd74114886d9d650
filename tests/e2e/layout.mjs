// The studio's first screen in Debian's Chromium (playwright-core): on a
// 1440x900 desktop and on a 390x844 phone the live view, Capture, the
// exposure controls and the latest shot are all in view without
// scrolling (by element positions); the shooting bar steps ISO four stops
// each way from the keyboard and the aperture by the wheel, keeping the
// focus (Space never fires); battery and shots left are in the header.
// Run by tests/integration/studio_layout.sh:
//   node layout.mjs STUDIO_URL CONTROL_URL [SCREENSHOT_DIR]
// Prints "ok - ..." / "not ok - ..." lines.
import { launchFresh, until } from './common.mjs';

const [studio, control, shots] = process.argv.slice(2);
let failed = 0;
const report = (ok, name, detail) => {
  console.log(`${ok ? 'ok' : 'not ok'} - studio_layout: browser: ${name}${ok || !detail ? '' : ' -- ' + detail}`);
  if (!ok) failed++;
};
const state = async () => (await fetch(control + '/state')).json();
const browser = await launchFresh(); // the drawers as a new visitor finds them
try {
  await fetch(studio + '/api/capture', { method: 'POST' }); // a latest shot to show
  for (const [name, width, height] of [['desktop', 1440, 900], ['phone', 390, 844]]) {
    const page = await browser.newPage({ viewport: { width, height } });
    await page.goto(studio + '/');
    await until(async () => (await page.$$('#shooting .stepper')).length >= 5 && (await page.$$('#mini img')).length > 0);
    const boxes = {};
    for (const [what, sel] of [['the live view', '#viewer'], ['Capture', '#capture'], ['the exposure controls', '#shooting'],
      ['the latest shot', '#mini a'], ['its histogram', '#histogram']]) {
      const b = await page.locator(sel).first().boundingBox();
      boxes[what] = b;
      report(b && b.y >= 0 && b.y + b.height <= height && b.height > 0,
        `${name} ${width}x${height}: ${what} on the first screen`, JSON.stringify(b));
    }
    const steppers = await page.$$eval('#shooting .stepper', (l) => l.map((s) => s.dataset.canonical));
    report(['iso', 'aperture', 'shutterspeed', 'exposurecompensation', 'whitebalance'].every((n) => steppers.includes(n)),
      `${name}: ISO, aperture, shutter, exposure compensation and white balance in the shooting bar`, steppers.join(' '));
    report(await page.isVisible('#battery') && /battery \d+%/.test(await page.textContent('#battery')) &&
      /\d+ shots left/.test(await page.textContent('#shots-left')),
    `${name}: battery and shots left in the header`, `${await page.textContent('#battery')} / ${await page.textContent('#shots-left')}`);
    if (shots) await page.screenshot({ path: `${shots}/layout-${name}.png` });
    await page.close();
  }

  // the keyboard on the shooting bar
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(studio + '/');
  await until(async () => (await page.$$('#shooting .stepper')).length >= 5);
  await fetch(studio + '/api/settings', { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ path: 'iso', value: '100' }) });
  const isoBox = '#shooting .stepper[data-canonical="iso"]';
  await until(async () => (await page.textContent(`${isoBox} .value`)) === '100');
  const isos = (await (await fetch(studio + '/api/settings')).json()).settings.find((x) => x.canonical === 'iso').choices;
  const from = isos.indexOf('100');
  const shots0 = (await state()).shots;
  await page.focus(isoBox);
  const scroll0 = await page.evaluate(() => window.scrollY);
  let kept = true;
  for (const [key, at] of [[']', 1], [']', 2], [']', 3], [']', 4], ['[', 3], ['[', 2], ['[', 1], ['[', 0]]) {
    await page.keyboard.press(key);
    kept = kept && await until(async () => (await state()).settings.iso === isos[from + at]) &&
      await page.evaluate((sel) => document.activeElement === document.querySelector(sel), isoBox);
  }
  await page.keyboard.press('Space');
  report(kept && from >= 0, 'ISO four stops up and back with ] and [, the control keeping the focus',
    `at ${(await state()).settings.iso}, focus on ${await page.evaluate(() => document.activeElement.className)}`);
  report(await page.textContent(`${isoBox} .value`) === '100', '... and showing the value');
  report((await state()).shots === shots0, 'Space on the shooting bar does not fire the shutter');
  report(await page.evaluate(() => window.scrollY) === scroll0, '... nor scroll the page', `scrollY ${scroll0} -> ${await page.evaluate(() => window.scrollY)}`);
  const ap0 = (await state()).settings.aperture;
  const apBox = '#shooting .stepper[data-canonical="aperture"]';
  const apShown = await page.textContent(`${apBox} .value`);
  await page.hover(apBox);
  await page.mouse.wheel(0, -100);
  // the control shows the step at once; the camera has it when the studio
  // has set it (under ASan on a loaded machine, seconds: the API's own 30 s)
  const shown = await until(async () => (await page.textContent(`${apBox} .value`)) !== apShown, 5000);
  report(shown && await until(async () => (await state()).settings.aperture !== ap0, 30000), 'the wheel over the aperture steps it',
    `camera ${ap0} -> ${(await state()).settings.aperture}, control ${apShown} -> ${await page.textContent(`${apBox} .value`)}, ` +
    `under the pointer: ${await page.evaluate((sel) => { const r = document.querySelector(sel).getBoundingClientRect(); const e = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2); return e ? e.tagName + '.' + e.className : 'nothing'; }, apBox)}`);
  // the drawers: the rarer panels start folded to their title, open with a click, and stay so
  const closed = await page.$$eval('section[data-drawer]', (l) => l.filter((x) => x.classList.contains('closed')).map((x) => x.dataset.drawer));
  report(['timelapse', 'import', 'tagging', 'webhooks', 'presets'].every((d) => closed.includes(d)) &&
    await page.isHidden('#interval-s') && await page.isVisible('#timelapse h2'),
  'time-lapse, import, tagging, webhooks and presets start as drawers, folded to their title', closed.join(' '));
  await page.click('#timelapse .drawer-toggle');
  report(await until(() => page.isVisible('#interval-s')), 'a click opens one');
  await page.reload();
  await until(async () => (await page.$$('#shooting .stepper')).length >= 5);
  report(await until(() => page.isVisible('#interval-s')) && await page.isHidden('#webhook-url'),
    '... and it stays open after a reload, the others closed');
  // the settings panel: the shared settings in plain words, the camera's own tree under Advanced
  const labels = await page.$$eval('#settings .shared-settings .setting label', (l) => l.map((x) => x.textContent));
  report(['ISO', 'Aperture', 'Shutter speed', 'White balance'].every((w) => labels.includes(w)) &&
    !labels.some((w) => /0x[0-9a-f]{4}|PTP|remote/i.test(w)),
  'the settings panel starts with the shared settings in plain words', labels.join(', '));
  report(!(await page.$eval('#settings details.advanced', (d) => d.open)) &&
    (await page.$$('#settings details.advanced .setting')).length > 5,
  'the camera\'s own tree is there, folded under Advanced');
  if (shots) await page.locator('#settings').screenshot({ path: `${shots}/layout-settings.png` });
  await page.close();
} catch (e) {
  report(false, 'the page works', e.message);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
