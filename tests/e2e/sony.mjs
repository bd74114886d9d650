// The studio on a Sony Wi-Fi camera, in Debian's Chromium (playwright-core):
// a click on the live view focuses the camera there (touch AF), and the
// camera's own focus frame, from live view's frame-info packets, is drawn
// where the click was.  Run by tests/integration/sony_studio.sh:
//   node sony.mjs STUDIO_URL CONTROL_URL [SCREENSHOT_DIR]
// Prints "ok - ..." / "not ok - ..." lines.
import { launch, until } from './common.mjs';

const [studio, control, shots] = process.argv.slice(2);
let failed = 0;
const report = (ok, name, detail) => {
  console.log(`${ok ? 'ok' : 'not ok'} - sony_studio: browser: ${name}${ok || !detail ? '' : ' -- ' + detail}`);
  if (!ok) failed++;
};
const state = async () => (await fetch(control + '/state')).json();
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(studio + '/');
  await until(async () => page.evaluate(() => document.querySelector('#live').naturalWidth > 0), 20000);
  report(await until(async () => /focuses by touch/.test(await page.textContent('#focus-none'))),
    'the focus panel says the camera focuses by touch', await page.textContent('#focus-none'));
  // the camera list loaded again (an event, a reconnection) keeps it so:
  // its refresh wrote "cannot be driven" over it, once in a full run
  await page.evaluate(() => loadCameras());
  report(/focuses by touch/.test(await page.textContent('#focus-none')),
    'and still says so after the camera list is loaded again', await page.textContent('#focus-none'));
  // where the picture is inside the <img> (object-fit: contain)
  const pic = await page.evaluate(() => {
    const img = document.querySelector('#live'), b = img.getBoundingClientRect();
    const k = Math.min(b.width / img.naturalWidth, b.height / img.naturalHeight);
    const w = img.naturalWidth * k, h = img.naturalHeight * k;
    return { x: b.left + (b.width - w) / 2, y: b.top + (b.height - h) / 2, w, h };
  });
  await page.mouse.click(pic.x + pic.w * 0.3, pic.y + pic.h * 0.4);
  report(await until(async () => {
    const f = (await state()).focus;
    return f.touch_set && Math.abs(f.touch_x - 30) <= 1 && Math.abs(f.touch_y - 40) <= 1;
  }), 'a click at 30 %, 40 % of the picture focuses the camera there', JSON.stringify((await state()).focus));
  report(await until(async () => {
    const b = await page.locator('.cam-frame.focused').first().boundingBox().catch(() => null);
    if (!b) return false;
    const cx = (b.x + b.width / 2 - pic.x) / pic.w, cy = (b.y + b.height / 2 - pic.y) / pic.h;
    return Math.abs(cx - 0.3) < 0.06 && Math.abs(cy - 0.4) < 0.06;
  }, 8000), 'the camera\'s focus frame is drawn green where the click was');
  if (shots) await page.screenshot({ path: `${shots}/sony-touch-af.png` });
} catch (e) {
  report(false, 'the page works', e.message);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
