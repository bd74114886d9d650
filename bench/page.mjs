// page.mjs: what the studio page itself sees, in Debian's Chromium
// (playwright-core; bench/run-page starts the studio): live-view frames per
// second arriving in the page (the MJPEG stream read by the page's own
// fetch, as the <img> reads it), and the time from a click on Capture to
// the new shot shown large in the review pane with its histogram drawn, and
// to its thumbnail in the strip with the strip's histogram.
//   node page.mjs STUDIO_URL SHOTS
// Prints "name value" lines; no pass or fail.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../tests/e2e/', import.meta.url));
const { chromium } = require('playwright-core');
const [studio, shotsArg] = process.argv.slice(2);
const shots = Number(shotsArg || 10);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(studio + '/');
  await page.waitForFunction(() => document.querySelector('#live').naturalWidth > 0, null, { timeout: 20000 });
  // frames per second: JPEG starts (FF D8) in 5 s of the stream, read in the page
  const fps = await page.evaluate(async () => {
    const r = await fetch('/stream.mjpg');
    const reader = r.body.getReader();
    let frames = 0, prev = 0;
    const end = performance.now() + 5000;
    while (performance.now() < end) {
      const { value, done } = await reader.read();
      if (done) break;
      for (let i = 0; i < value.length; i++) {
        if (prev === 0xff && value[i] === 0xd8) frames++;
        prev = value[i];
      }
    }
    reader.cancel();
    return frames / 5;
  });
  console.log(`liveview_fps_in_page ${fps.toFixed(1)}`);
  const times = [], large = [];
  for (let i = 0; i < shots; i++) {
    if (await page.isVisible('#review')) await page.click('#review-close'); // back to the live view
    await page.waitForFunction(() => !document.querySelector('#capture').disabled);
    const before = await page.$eval('#mini a', (a) => a.dataset.id).catch(() => '');
    const name = await page.textContent('#review-name');
    const t0 = Date.now();
    await page.click('#capture');
    await page.waitForFunction((old) => { // the review pane (review.js)
      const img = document.querySelector('#review-img');
      return !document.querySelector('#review').hidden && document.querySelector('#review-name').textContent !== old &&
        img.complete && img.naturalWidth > 0 && document.querySelector('#review-clip').textContent.includes('clipped');
    }, name, { timeout: 30000 });
    large.push(Date.now() - t0);
    await page.waitForFunction((old) => {
      const a = document.querySelector('#mini a');
      const img = a && a.querySelector('img');
      return a && a.dataset.id !== old && img && img.complete && img.naturalWidth > 0 &&
        document.querySelector('#clip').textContent.includes('clipped');
    }, before, { timeout: 30000 });
    times.push(Date.now() - t0);
  }
  times.sort((a, b) => a - b);
  large.sort((a, b) => a - b);
  const q = (p, t = times) => t[Math.min(t.length - 1, Math.floor(p * t.length))];
  console.log(`capture_to_shown_large_ms_p50 ${q(0.5, large)}`);
  console.log(`capture_to_shown_large_ms_p95 ${q(0.95, large)}`);
  console.log(`capture_to_shown_ms_p50 ${q(0.5)}`);
  console.log(`capture_to_shown_ms_p95 ${q(0.95)}`);
  console.log(`capture_to_shown_ms_max ${times[times.length - 1]}`);
} finally {
  await browser.close();
}
