// End-to-end test of the studio UI with a camera on a camera node, in
// Debian's Chromium (playwright-core).  Run by
// tests/integration/studio_rig_ui.sh, which starts a local simulated camera,
// a second one behind `tether agent` (a camera node on loopback, through
// mosquitto) and `tether serve --broker`, and passes:
//   node rig.mjs STUDIO_URL SCREENSHOT_DIR
// A node camera streams its live view through the node (its tile and the
// big viewer show frames); its focus
// tools, which need a camera of the studio's own, are not offered and the
// focus panel says why; no request of the page is refused with 409; a
// capture from its tile lands a photo; its settings are the node's.
// Prints "ok - ..." / "not ok - ..." lines.
import { launch, until } from './common.mjs';

const [studio, shots] = process.argv.slice(2);
let failed = 0;
const report = (ok, name, detail) => {
  console.log(`${ok ? 'ok' : 'not ok'} - studio_rig_ui: ${name}${ok || !detail ? '' : ' -- ' + detail}`);
  if (!ok) failed++;
};

const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const refused = [];
  page.on('response', (r) => { if (r.status() === 409) refused.push(r.url()); });
  page.on('pageerror', (e) => report(false, 'no script error', e.message));
  await page.goto(studio + '/');
  // every message the page shows (toast() is a global of its classic scripts)
  await page.evaluate(() => {
    window.__toasts = [];
    const show = window.toast;
    window.toast = (text, kind) => { window.__toasts.push([text, kind]); show(text, kind); };
  });
  const cams = async () => (await page.evaluate(() => fetch('/api/cameras').then((r) => r.json()))).cameras;
  report(await until(async () => (await cams()).length === 2, 20000), 'the studio lists its own camera and the node\'s');
  const node = (await cams()).find((c) => !!c.remote);
  report(!!node, 'one of them is on the node', JSON.stringify(await cams()));
  if (node) {
    const tile = `#camera-grid .tile[data-camera="${node.id}"]`;
    await page.click('#grid-toggle');
    report(await until(async () => page.isVisible('#camera-grid')), 'the grid shows both cameras');
    // an MJPEG <img> shows frames: its natural size is the camera's
    const showing = async (sel) => page.$eval(sel, (i) => !!i.getAttribute('src') && i.naturalWidth > 0).catch(() => false);
    report(await until(async () => showing(`${tile} img`), 20000), 'the node camera\'s tile shows its live view',
      await page.getAttribute(`${tile} img`, 'src'));
    if (shots) await page.screenshot({ path: `${shots}/rig-grid.png` });
    await page.click(`${tile} .tile-capture`);
    report(await until(async () => {
      const r = await page.evaluate(() => fetch('/api/photos?limit=5').then((x) => x.json()));
      return r.photos.some((p) => p.camera === node.id || p.url.includes(node.id));
    }, 30000), 'a capture from its tile lands a photo from the node');
    await page.dblclick(`${tile} .tile-view`);
    report(await until(async () => (await page.getAttribute('#live', 'src') || '').includes(`/api/cameras/${node.id}/stream.mjpg`)
      && showing('#live'), 20000), 'selected alone, the big viewer streams it from the node', await page.getAttribute('#live', 'src'));
    report(await until(async () => /On node n1/.test(await page.textContent('#focus-none')) && !(await page.isVisible('#af'))),
      'the focus panel says why it has no tools for it', await page.textContent('#focus-none'));
    // its settings come from the node: the shooting bar shows its ISO, and a step changes it there
    // (read again until the node answers: its camera may still be sending the shot above)
    let lastRead = '';
    const nodeIso = async () => {
      const got = await page.evaluate((p) => fetch(p).then(async (x) => ({ status: x.status, body: await x.json() })),
        `/api/cameras/${encodeURIComponent(node.id)}/settings?name=iso`);
      lastRead = JSON.stringify(got);
      return got.body.value;
    };
    let iso0;
    report(await until(async () => (iso0 = await nodeIso()) !== undefined, 30000), 'the node answers a read of its ISO', lastRead);
    // (the page reads the node's settings through the broker, and asks
    // again every 2 s for what the node did not answer in time: a loaded
    // machine takes several rounds)
    const isoBox = '#shooting .stepper[data-canonical="iso"]';
    const shown = async () => { const b = await page.$(isoBox); return b ? b.textContent() : '(no ISO control)'; };
    report(await until(async () => (await shown()).includes(iso0), 30000),
      'the shooting bar shows the node camera\'s ISO', `${iso0} vs ${await shown()}`);
    await page.click(`${isoBox} button:last-of-type`);
    report(await until(async () => (await nodeIso()) !== iso0, 15000), 'a step of the ISO changes it on the node', `${iso0} -> ${await nodeIso()}`);
    const errors = await page.evaluate(() => window.__toasts.filter(([, kind]) => !kind).map(([t]) => t));
    report(errors.length === 0, 'no error is shown for the node camera', errors.join(' | '));
    if (shots) await page.screenshot({ path: `${shots}/rig-selected.png` });
  }
  report(refused.length === 0, 'no request of the page was refused as a node camera\'s', refused.join(' '));
} catch (e) {
  report(false, 'the browser session ran to the end', e.message);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
