// The studio's Tagging panel in Debian's Chromium (playwright-core): it
// shows the saved settings, "Use this device's location" fills in the
// position the browser gives (granted here; localhost is a secure
// context), Save stores the settings (GET /api/tagging) and a reload shows
// them again, the toggle turns tagging of new captures off and on, and
// "Apply to this session" reports its counts.  Nothing typed is lost:
// typing the tags and then ticking "tag new captures" keeps every field on
// screen and saves them with it (it used to blank them all and store
// empty tags), Save stores what is on screen, and a change made by another
// browser meanwhile does not wipe what is being typed.  Run by
// tests/integration/studio_tag.sh:  node tagging.mjs STUDIO_URL [SCREENSHOT_DIR]
// Prints "ok - ..." / "not ok - ..." lines.
import { launch, sleep, until, withDrawersOpen } from './common.mjs';

const [studio, shots] = process.argv.slice(2);
let failed = 0;
const report = (ok, name, detail) => {
  console.log(`${ok ? 'ok' : 'not ok'} - studio_tag: browser: ${name}${ok || !detail ? '' : ' -- ' + detail}`);
  if (!ok) failed++;
};
const settings = async () => (await fetch(studio + '/api/tagging')).json();
const putSettings = async (body) => fetch(studio + '/api/tagging', {
  method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
});
const browser = await launch();
try {
  const context = await browser.newContext({
    viewport: { width: 1440, height: 1000 },
    permissions: ['geolocation'],
    geolocation: { latitude: -41.2864603, longitude: 174.776236, accuracy: 12 },
  });
  const page = await withDrawersOpen(await context.newPage());
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

  // --- nothing typed is lost ---------------------------------------------------------------
  await putSettings({ enabled: false, gps: null, artist: '', copyright: '', keywords: [] });
  await page.reload();
  await until(async () => (await page.inputValue('#tag-artist')) === '' && !(await page.isChecked('#tag-enabled')));
  // counts the page's "tagging" events after tagging.js has handled each
  // (listeners of one EventSource run in the order they were added)
  await page.evaluate(() => {
    window.taggingEvents = 0;
    state.events.addEventListener('tagging', () => { window.taggingEvents++; });
  });
  const typed = { '#tag-lat': '51.5007292', '#tag-lon': '-0.1246254', '#tag-alt': '12.5', '#tag-artist': 'Kiri Tane',
    '#tag-copyright': '© 2026 Kiri Tane', '#tag-keywords': 'westminster, clock' };
  const onScreen = async () => {
    for (const [sel, v] of Object.entries(typed)) if ((await page.inputValue(sel)) !== v) return `${sel}: "${await page.inputValue(sel)}"`;
    return '';
  };
  const stored = (s) => s.enabled === true && s.gps && Math.abs(s.gps.lat - 51.5007292) < 1e-9 &&
    Math.abs(s.gps.lon + 0.1246254) < 1e-9 && s.gps.alt === 12.5 && s.artist === 'Kiri Tane' &&
    s.copyright === '© 2026 Kiri Tane' && s.keywords.join() === 'westminster,clock';
  for (const [sel, v] of Object.entries(typed)) await page.fill(sel, v);
  await page.click('#tag-enabled');
  report(await until(async () => (await page.textContent('#tag-result')).startsWith('Saved: new captures are tagged') &&
    (await page.evaluate(() => window.taggingEvents)) >= 1), 'ticking "tag new captures" after typing saves',
  await page.textContent('#tag-result'));
  report((await onScreen()) === '' && (await page.isChecked('#tag-enabled')),
    'and every typed field is still on screen (answer and event handled)', await onScreen());
  report(stored(await settings()), 'GET /api/tagging has the typed tags, tagging on', JSON.stringify(await settings()));
  await page.click('#tag-save');
  report(await until(async () => (await page.evaluate(() => window.taggingEvents)) >= 2), 'Save is answered');
  report((await onScreen()) === '', 'after Save the fields are unchanged', await onScreen());
  report(stored(await settings()), 'and GET /api/tagging still has them', JSON.stringify(await settings()));
  if (shots) await page.locator('#tagging').screenshot({ path: `${shots}/studio-tagging-typed.png` });

  // another browser turns tagging off while this one types: the box follows, the typing stays
  await page.fill('#tag-artist', 'Kiri Tane-Smith');
  await putSettings({ enabled: false });
  report(await until(async () => (await page.evaluate(() => window.taggingEvents)) >= 3 && !(await page.isChecked('#tag-enabled'))),
    "another browser's change shows in the box");
  report((await page.inputValue('#tag-artist')) === 'Kiri Tane-Smith' && (await page.inputValue('#tag-lat')) === '51.5007292',
    'without wiping what is being typed', await page.inputValue('#tag-artist'));
  // half a position cannot be sent: the box stays as it was, saying why
  await page.fill('#tag-lon', '');
  await page.click('#tag-enabled');
  report(await until(async () => (await page.textContent('#tag-result')).includes('latitude and a longitude')),
    'ticking the box with half a position says why it cannot', await page.textContent('#tag-result'));
  report(!(await page.isChecked('#tag-enabled')) && (await settings()).enabled === false &&
    (await page.inputValue('#tag-lat')) === '51.5007292', 'and changes nothing');

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
