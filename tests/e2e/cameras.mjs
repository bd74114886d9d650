// End-to-end test of the studio UI with several cameras, in Debian's
// Chromium (playwright-core).  Run by tests/integration/studio_cameras_ui.sh,
// which starts three simulated cameras (Canon, Nikon, generic) with their
// control channels and `tether serve` on all three, and passes:
//   node cameras.mjs STUDIO_URL SCREENSHOT_DIR CONTROL_URL...
// (one control URL per camera, in the order of --camera).  Checks the
// switcher, the settings panel following the selected camera, keyboard
// selection, the grid's live tiles, a tile's capture, capture-all with each
// camera's photo and name, a camera lost and back (its tab, tile and
// controls), adding a bad and a good camera and removing one, and the phone
// layout.  Prints "ok - ..." / "not ok - ..." lines; screenshots are kept.
import { launch, sleep, until } from './common.mjs';

const [studio, shots, ...controls] = process.argv.slice(2);
let failed = 0;
const report = (ok, name, detail) => {
  console.log(`${ok ? 'ok' : 'not ok'} - studio_cameras_ui: ${name}${ok || !detail ? '' : ' -- ' + detail}`);
  if (!ok) failed++;
};
const getJson = async (path) => (await fetch(studio + path)).json();
const cameraList = async () => (await getJson('/api/cameras')).cameras;
const cameraRoute = (id, rest) => `/api/cameras/${encodeURIComponent(id)}/${rest}`;

const browser = await launch();
try {
  const cameras = await cameraList();
  report(cameras.length === 3, 'the studio serves three cameras', JSON.stringify(cameras));
  const byModel = (re) => cameras.find((c) => re.test(c.model));
  const canon = byModel(/Canon/), nikon = byModel(/Nikon|D750/);
  const generic = cameras.find((c) => c !== canon && c !== nikon);
  const nikonControl = controls[cameras.indexOf(nikon)];

  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('dialog', (d) => d.accept()); // "remove this camera?"
  await page.goto(studio + '/');

  // the switcher: three cameras by name, all connected
  const tabs = page.locator('#camera-tabs .camera-tab');
  report(await until(async () => (await tabs.count()) === 3), 'the switcher lists three cameras');
  const tabNames = await tabs.locator('.name').allTextContents();
  report(cameras.every((c) => tabNames.some((n) => n.startsWith(c.model))), 'each by its model', tabNames.join(', '));
  report(await page.locator('#camera-tabs .camera-tab.away').count() === 0, 'none is marked lost');
  const tab = (c) => page.locator(`#camera-tabs .camera-tab[data-camera="${c.id}"]`);
  const selectedId = () => page.getAttribute('#camera-tabs .camera-tab[aria-selected="true"]', 'data-camera');

  // selecting a camera: the header, the live view and the settings follow;
  // a setting changed in the panel reaches that camera only
  await tab(nikon).click();
  report(await until(async () => (await page.textContent('#camera')).startsWith(nikon.model)), 'selecting the Nikon names it in the header');
  report(await until(async () => (await page.getAttribute('#live', 'src')) === cameraRoute(nikon.id, 'stream.mjpg')),
    'the live view shows the Nikon\'s stream');
  report(await until(async () => (await page.getAttribute('#settings', 'data-camera')) === nikon.id &&
    (await page.locator('#settings .setting').count()) > 3), 'the settings panel shows the Nikon\'s settings');
  const nikonSettings = (await getJson(cameraRoute(nikon.id, 'settings'))).settings;
  const canonIsoBefore = (await getJson(cameraRoute(canon.id, 'settings'))).settings.find((s) => s.name === 'iso');
  const iso = nikonSettings.find((s) => s.name === 'iso' && s.type === 'choice' && !s.read_only);
  if (iso) {
    const want = iso.choices.find((v) => v !== iso.value && v !== canonIsoBefore?.value && /^[0-9]+$/.test(v));
    const select = `select[id="set-${iso.path.replace(/[^a-z0-9]/gi, '-')}"]`;
    await page.selectOption(select, want);
    report(await until(async () => (await getJson(cameraRoute(nikon.id, 'settings'))).settings.find((s) => s.name === 'iso').value === want),
      `an ISO change in the panel reaches the Nikon (ISO ${want})`);
    const canonIso = (await getJson(cameraRoute(canon.id, 'settings'))).settings.find((s) => s.name === 'iso');
    report(!canonIso || canonIso.value === canonIsoBefore.value, 'and not the Canon');
  } else {
    report(false, 'the Nikon has an ISO setting to change', nikonSettings.map((s) => s.name).join(' '));
  }
  await page.keyboard.press('Escape');
  await page.locator('body').click({ position: { x: 5, y: 5 } }); // out of the select, so that keys are shortcuts
  await page.keyboard.press('1');
  report(await until(async () => (await selectedId()) === cameras[0].id), 'key 1 selects the first camera');
  report(await until(async () => (await page.getAttribute('#settings', 'data-camera')) === cameras[0].id),
    'and the settings panel follows');
  await tab(cameras[0]).focus();
  await page.keyboard.press('ArrowRight');
  report(await until(async () => (await selectedId()) === cameras[1].id), 'the arrow keys move along the switcher');

  // the grid: a live tile per camera, each updating; a click selects
  await page.click('#grid-toggle');
  const tiles = page.locator('#camera-grid .tile');
  report(await until(async () => (await tiles.count()) === 3 && await page.isVisible('#camera-grid')), 'the grid shows three tiles');
  report(await page.isHidden('#viewer'), 'in place of the single live view');
  report(await until(async () => page.evaluate(() => [...document.querySelectorAll('#camera-grid img')].every((i) => i.naturalWidth > 0)), 15000),
    'every tile shows its camera\'s live view');
  // a tile updates: what it shows changes over a few seconds (the simulators' scenes have noise)
  const tileHashes = () => page.evaluate(() => [...document.querySelectorAll('#camera-grid img')].map((img) => {
    const c = document.createElement('canvas');
    c.width = 64; c.height = 43;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0, 64, 43);
    const d = g.getImageData(0, 0, 64, 43).data;
    let h = 0;
    for (let i = 0; i < d.length; i++) h = (h * 31 + d[i]) >>> 0;
    return h;
  }));
  const first = await tileHashes();
  const changed = new Set();
  await until(async () => {
    (await tileHashes()).forEach((h, i) => { if (h !== first[i]) changed.add(i); });
    return changed.size === 3;
  }, 15000);
  report(changed.size === 3, `every tile's picture updates (${changed.size} of 3)`);
  for (const c of cameras) {
    report(new RegExp(c.model).test(await page.textContent(`#camera-grid .tile[data-camera="${c.id}"] .tile-name`)),
      `the tile of ${c.id} names its camera`);
  }
  await page.click(`#camera-grid .tile[data-camera="${generic.id}"] .tile-view`);
  report(await until(async () => (await selectedId()) === generic.id &&
    (await page.getAttribute(`#camera-grid .tile[data-camera="${generic.id}"]`, 'class')).includes('selected')),
  'clicking a tile selects its camera');
  report(await until(async () => (await page.getAttribute('#settings', 'data-camera')) === generic.id), 'and the panels follow it');
  await page.click(`#camera-grid .tile[data-camera="${canon.id}"] .tile-capture`);
  report(await until(async () => /^saved /.test(await page.textContent(`#camera-grid .tile[data-camera="${canon.id}"] .tile-result`)), 20000),
    'a tile\'s Capture takes a picture with its camera', await page.textContent(`#camera-grid .tile[data-camera="${canon.id}"] .tile-result`));
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('Space');
  const genericLine = `#camera-grid .tile[data-camera="${generic.id}"] .tile-result`;
  report(await until(async () => /^saved /.test(await page.textContent(genericLine)), 20000),
    'Space in the grid takes a picture with the selected camera, shown on its tile', await page.textContent(genericLine));
  await page.screenshot({ path: `${shots}/cameras-grid.png` });

  // capture all: one photo per camera, each with its camera's name, and the spread
  await page.click('#capture-all');
  report(await until(async () => (await page.locator('#capture-all-result li').count()) === 3, 60000), 'capture-all lists the three cameras');
  report(await page.locator('#capture-all-result li.ok').count() === 3, 'each with its photo',
    await page.textContent('#capture-all-result'));
  const caText = await page.textContent('#capture-all-result');
  report(/trigger spread [0-9.]+ ms/.test(caText), 'and the trigger spread', caText);
  report(cameras.every((c) => caText.includes(c.model)), 'naming each camera');
  report(await until(async () => {
    const ids = await page.$$eval('#mini a', (l) => l.slice(0, 3).map((a) => a.dataset.camera));
    return cameras.every((c) => ids.includes(c.id));
  }, 15000), 'the three new photos lead the latest strip');
  const tagText = await page.$$eval('#mini a .cam-tag', (l) => l.slice(0, 3).map((t) => t.textContent));
  report(cameras.every((c) => tagText.some((t) => t.startsWith(c.model))), 'each saying which camera took it', tagText.join(', '));
  await page.screenshot({ path: `${shots}/cameras-capture-all.png` });

  // a lost camera: its tab and tile are marked, its controls off; back by itself
  await fetch(nikonControl + '/unplug', { method: 'POST' });
  report(await until(async () => (await tab(nikon).getAttribute('class')).includes('away'), 20000), 'a lost camera is marked in the switcher');
  const nikonTile = `#camera-grid .tile[data-camera="${nikon.id}"]`;
  report(await until(async () => (await page.getAttribute(nikonTile, 'class')).includes('away')), 'and on its tile');
  report(await page.isDisabled(`${nikonTile} .tile-capture`), 'its tile\'s Capture is disabled');
  report(!(await page.isDisabled(`#camera-grid .tile[data-camera="${canon.id}"] .tile-capture`)), 'the others\' are not');
  // capture-all with one camera away: the others' photos, and its reason
  await page.click('#capture-all');
  const nikonLine = `#capture-all-result li[data-camera="${nikon.id}"]`;
  report(await until(async () => (await page.locator(nikonLine).count()) === 1 &&
    (await page.getAttribute(nikonLine, 'class')) === 'bad' && !(await page.isDisabled('#capture-all')), 60000),
  'capture-all with a lost camera says it failed there', await page.textContent('#capture-all-result'));
  report(await page.locator('#capture-all-result li.ok').count() === 2, 'and shows the other two photos');
  report(/2 of 3 cameras/.test(await page.textContent('#capture-all-result .ca-head')), 'and counts them');
  await page.screenshot({ path: `${shots}/cameras-lost-grid.png` });
  await page.click('#grid-toggle');
  await tab(nikon).click();
  report(await until(async () => await page.isVisible('#lost') && (await page.textContent('#link')) === 'camera lost'),
    'selected, it shows as lost on the live view and the badge');
  report(await page.evaluate(() => ['#capture', '#af', '#interval-form button.primary'].every((s) => document.querySelector(s).matches(':disabled')) &&
    [...document.querySelectorAll('#settings select, #settings input')].every((e) => e.matches(':disabled'))),
  'its capture, focus, time-lapse and settings controls are disabled');
  await page.screenshot({ path: `${shots}/cameras-lost.png` });
  await fetch(nikonControl + '/plug', { method: 'POST' });
  report(await until(async () => !(await tab(nikon).getAttribute('class')).includes('away'), 30000), 'it comes back by itself');
  report(await until(async () => (await page.textContent('#link')) === 'connected' && await page.isHidden('#lost')),
    'and is live again');
  report(await until(async () => page.evaluate(() => !document.querySelector('#capture').matches(':disabled'))), 'with its controls back');

  // adding a camera: a bad spec is refused and kept to be corrected; a
  // good one joins the switcher (and the grid, now with snapshots); removed again
  await page.click('#cameras-open');
  report(await page.isVisible('#camera-manager'), 'the camera manager opens');
  report(await page.locator('#camera-list li').count() === 3, 'listing the three cameras');
  await page.fill('#camera-spec', 'nonsense:123');
  await page.click('#camera-add');
  report(await until(async () => (await page.textContent('#camera-add-result')).startsWith('Not added:'), 30000),
    'a bad spec is refused with the server\'s reason', await page.textContent('#camera-add-result'));
  report(await page.inputValue('#camera-spec') === 'nonsense:123', 'and what was typed stays');
  await page.fill('#camera-spec', 'sim:generic');
  await page.click('#camera-add');
  report(await until(async () => (await page.textContent('#camera-add-result')).startsWith('Added'), 30000),
    'a simulated camera is added', await page.textContent('#camera-add-result'));
  report(await until(async () => (await tabs.count()) === 4), 'and joins the switcher');
  const added = (await cameraList()).find((c) => !cameras.some((o) => o.id === c.id));
  report(added && (await selectedId()) === added.id, 'selected');
  await page.click('#camera-manager-close');
  if (added) { // (without it, the rest of the test still runs)
  await page.click('#grid-toggle');
  report(await until(async () => (await tiles.count()) === 4 &&
    page.evaluate(() => [...document.querySelectorAll('#camera-grid img')].every((i) => i.naturalWidth > 0 && /snapshot\.jpg/.test(i.src))), 20000),
  'four tiles show snapshots (a browser has too few connections for four streams)');
  await page.screenshot({ path: `${shots}/cameras-grid-four.png` });
  await page.click('#cameras-open');
  await page.click(`#camera-list li[data-camera="${added.id}"] button`);
  report(await until(async () => (await tabs.count()) === 3 && (await tiles.count()) === 3), 'removing it takes it out of the switcher and the grid');
  await page.click('#camera-manager-close');
  report(await until(async () => page.evaluate(() => [...document.querySelectorAll('#camera-grid img')].every((i) => /stream\.mjpg/.test(i.src)))),
    'three tiles stream again');
  }

  // the gallery names the camera of each photo
  const gallery = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  gallery.on('pageerror', (e) => errors.push(e.message));
  await gallery.goto(studio + '/gallery');
  report(await until(async () => {
    const ids = await gallery.$$eval('#grid figure[data-camera]', (l) => l.map((f) => f.dataset.camera));
    return cameras.every((c) => ids.includes(c.id));
  }), 'the gallery marks each photo with its camera');
  const captions = await gallery.$$eval('#grid figcaption', (l) => l.map((f) => f.textContent));
  report(cameras.every((c) => captions.some((t) => t.includes(c.model))), 'by name', captions.slice(0, 4).join(' | '));
  await gallery.screenshot({ path: `${shots}/cameras-gallery.png` });

  // a phone: the switcher and the grid fit the width; the single view too
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  phone.on('pageerror', (e) => errors.push(e.message));
  await phone.goto(studio + '/');
  report(await until(async () => (await phone.locator('#camera-tabs .camera-tab').count()) === 3), 'a phone shows the switcher');
  await phone.tap('#grid-toggle');
  report(await until(async () => phone.evaluate(() => [...document.querySelectorAll('#camera-grid img')].every((i) => i.naturalWidth > 0) &&
    document.querySelectorAll('#camera-grid img').length === 3), 15000), 'and the grid');
  const fits = () => phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
  report(await fits(), 'the grid fits a phone without sideways scrolling');
  await phone.screenshot({ path: `${shots}/cameras-phone-grid.png`, fullPage: true });
  await phone.tap('#grid-toggle');
  await phone.locator('#camera-tabs .camera-tab').nth(1).tap();
  report(await until(async () => (await phone.textContent('#camera')).startsWith(cameras[1].model)), 'a tap on the switcher selects a camera');
  report(await fits(), 'the single view fits a phone');
  await sleep(800);
  await phone.screenshot({ path: `${shots}/cameras-phone.png` });

  report(errors.length === 0, 'no script errors in the pages', errors.join('; '));
} catch (e) {
  report(false, 'the browser session ran to the end', e.message);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
