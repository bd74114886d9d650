// Review in Debian's Chromium (playwright-core), as a new visitor finds
// the studio: a capture shows the shot large by itself with its own
// histogram and EXIF; a 100 % loupe at the point clicked; ←/→ through the
// session; full screen; Space shoots on and the new shot takes its place;
// a RAW + JPEG shot is one item (the JPEG, a RAW badge, both files to
// download) in the review, the strip and the gallery; a RAW alone is shown
// from its preview; two photos compared side by side in the gallery with
// zoom and pan shared.  At 1440x900 and on a 390x844 phone, with element
// boxes checked for overlaps and screenshots kept.
// Run by tests/integration/studio_review.sh:
//   node review.mjs STUDIO_URL CONTROL_URL [SCREENSHOT_DIR]
// Prints "ok - ..." / "not ok - ..." lines.
import { launchFresh, until } from './common.mjs';

const [studio, control, shots] = process.argv.slice(2);
let failed = 0;
const report = (ok, name, detail) => {
  console.log(`${ok ? 'ok' : 'not ok'} - studio_review: ${name}${ok || !detail ? '' : ' -- ' + detail}`);
  if (!ok) failed++;
};
const state = async () => (await fetch(control + '/state')).json();
const photos = async (q = '') => (await fetch(`${studio}/api/photos?per_page=50${q}`)).json();
const setFormat = (value) => fetch(studio + '/api/settings', { method: 'POST', headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ path: 'imageformat', value }) });

// Boxes that must all be inside the window and overlap none of the others.
async function laidOut(page, sels, width, height) {
  const boxes = [];
  for (const sel of sels) boxes.push([sel, await page.locator(sel).boundingBox()]);
  const bad = [];
  for (const [sel, b] of boxes) {
    if (!b || b.width < 1 || b.height < 1) bad.push(`${sel} not shown`);
    else if (b.x < -1 || b.y < -1 || b.x + b.width > width + 1 || b.y + b.height > height + 1) bad.push(`${sel} outside ${JSON.stringify(b)}`);
  }
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const [sa, a] = boxes[i], [sb, b] = boxes[j];
      if (a && b && a.x + a.width > b.x + 1 && b.x + b.width > a.x + 1 && a.y + a.height > b.y + 1 && b.y + b.height > a.y + 1)
        bad.push(`${sa} overlaps ${sb}`);
    }
  }
  return bad;
}

// The loupe's state: 100 % or not, and the picture's fraction at the stage's centre.
const loupeOf = (page, stage, img) => page.evaluate(([s, i]) => {
  const st = document.querySelector(s), im = document.querySelector(i);
  const r = im.getBoundingClientRect(), b = st.getBoundingClientRect();
  return { on: st.classList.contains('loupe'), w: r.width, h: r.height, n: im.naturalWidth / (window.devicePixelRatio || 1),
    fx: (b.left + b.width / 2 - r.left) / r.width, fy: (b.top + b.height / 2 - r.top) / r.height, sw: st.clientWidth, sh: st.clientHeight };
}, [stage, img]);
// Is the loupe centred on (fx, fy), as near as the picture's edges let it?
const centredOn = (l, fx, fy, tol = 0.05) => {
  const clamp = (f, half) => Math.min(Math.max(f, half), 1 - half);
  return Math.abs(l.fx - clamp(fx, l.sw / 2 / l.w)) < tol && Math.abs(l.fy - clamp(fy, l.sh / 2 / l.h)) < tol;
};

const histogramDrawn = (page) => page.evaluate(() => {
  const c = document.querySelector('#review-histogram');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let lit = 0;
  for (let i = 3; i < d.length; i += 4) if (d[i]) lit++;
  return lit > 500;
});

const REVIEW_PARTS = ['#review .review-head', '#review-stage', '#review .review-side'];

const browser = await launchFresh();
try {
  for (let i = 0; i < 2; i++) await fetch(studio + '/api/capture', { method: 'POST' });
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(studio + '/');
  await until(async () => (await page.$$('#shooting .stepper')).length >= 5 && (await page.$$('#mini img')).length > 0);
  report(await page.isChecked('#review-auto') && await page.isHidden('#review'),
    'a new visitor reviews each shot; the pane is closed until a shot comes');

  // a capture: the shot large, with its own histogram and EXIF
  const t0 = Date.now();
  await page.click('#capture');
  const newest = async () => (await photos()).photos[0];
  report(await until(async () => await page.isVisible('#review') &&
    await page.textContent('#review-name') === (await newest()).file &&
    await page.evaluate(() => document.querySelector('#review-img').complete && document.querySelector('#review-img').naturalWidth > 0), 15000),
  'a capture shows the new shot large by itself', await page.textContent('#review-name'));
  const shownMs = Date.now() - t0;
  const total = (await photos()).total;
  report(await page.textContent('#review-pos') === `1 of ${total}`, '... as the newest of the session', await page.textContent('#review-pos'));
  report(await until(() => histogramDrawn(page)), '... with its own histogram');
  report(await until(async () => /ISO/.test(await page.textContent('#review-exif')) &&
    (await page.textContent('#review-exif')).includes((await newest()).file)), '... and its EXIF', await page.textContent('#review-exif'));
  console.log(`# capture click to the shot shown large: ${shownMs} ms`);
  let bad = await laidOut(page, REVIEW_PARTS, 1440, 900);
  report(bad.length === 0, 'desktop 1440x900: the head, the picture and its analysis side by side, nothing overlapping', bad.join('; '));
  const imgBox = await page.locator('#review-img').boundingBox();
  report(imgBox.width > 900, 'the picture takes most of the window', JSON.stringify(imgBox));
  if (shots) await page.screenshot({ path: `${shots}/review-desktop.png` });

  // the loupe: 100 % at the point clicked, a second click fits it again
  await page.mouse.click(imgBox.x + imgBox.width * 0.25, imgBox.y + imgBox.height * 0.3);
  let l = await loupeOf(page, '#review-stage', '#review-img');
  report(l.on && Math.abs(l.w - l.n) < 2 && centredOn(l, 0.25, 0.3),
    'a click shows 100 % centred on the point clicked', JSON.stringify(l));
  if (shots) await page.screenshot({ path: `${shots}/review-loupe.png` });
  await page.mouse.click(700, 450);
  l = await loupeOf(page, '#review-stage', '#review-img');
  report(!l.on && l.w < l.n, 'a second click fits it again', JSON.stringify(l));

  // ←/→ through the session
  const files = (await photos()).photos.map((p) => p.file);
  await page.keyboard.press('ArrowRight');
  report(await until(async () => await page.textContent('#review-name') === files[1] && await page.textContent('#review-pos') === `2 of ${total}`),
    '→ shows the shot before', await page.textContent('#review-name'));
  await page.keyboard.press('ArrowLeft');
  report(await until(async () => await page.textContent('#review-name') === files[0]), '← comes back');

  // full screen
  await page.keyboard.press('f');
  report(await until(() => page.evaluate(() => document.fullscreenElement && document.fullscreenElement.id === 'review')),
    'F shows the review full screen');
  await page.keyboard.press('f');
  report(await until(() => page.evaluate(() => !document.fullscreenElement)), '... and F leaves it');

  // Space shoots on: the new shot takes the pane
  const shots0 = (await state()).shots;
  await page.keyboard.press('Space');
  report(await until(async () => (await state()).shots === shots0 + 1 &&
    await page.textContent('#review-pos') === `1 of ${total + 1}` && await page.textContent('#review-name') === (await newest()).file, 15000),
  'Space fires the shutter while reviewing, and the new shot is shown', await page.textContent('#review-pos'));
  await page.keyboard.press('Escape');
  report(await until(() => page.isHidden('#review')) && await page.isVisible('#viewer'), 'Esc goes back to the live view');

  // RAW + JPEG: one item, the JPEG shown, both files to download
  await setFormat('RAW + Large Fine JPEG');
  const before = (await photos()).total;
  await page.click('#capture');
  report(await until(async () => await page.isVisible('#review') && /\.jpg$/.test(await page.textContent('#review-name')) &&
    await page.textContent('#review-raw') === 'RAW + JPEG', 20000),
  'a RAW + JPEG shot is reviewed as its JPEG with a RAW badge', `${await page.textContent('#review-name')} [${await page.textContent('#review-raw')}]`);
  const pair = await newest();
  report((await photos()).total === before + 1 && pair.raw_file && /\.cr2$/.test(pair.raw_file.file), '... one item in the session, carrying its RAW',
    JSON.stringify(pair.raw_file));
  report(/\.jpg$/.test(await page.getAttribute('#review-download', 'download')) && await page.isVisible('#review-download-raw') &&
    /\.cr2$/.test(await page.getAttribute('#review-download-raw', 'download')), '... both files to download');
  report(await until(() => histogramDrawn(page)), '... with a histogram');
  if (shots) await page.screenshot({ path: `${shots}/review-raw-jpeg.png` });
  await page.keyboard.press('Escape');
  report(await until(async () => (await page.$$(`#mini a[data-id="${pair.id}"]`)).length === 1 &&
    (await page.$$(`#mini a[data-id="${pair.raw_file.id}"]`)).length === 0), 'the strip shows the shot once');

  // a RAW alone: from the preview it embeds
  await setFormat('RAW');
  await page.click('#capture');
  report(await until(async () => await page.isVisible('#review') && /\.cr2$/.test(await page.textContent('#review-name')) &&
    await page.textContent('#review-raw') === 'RAW' &&
    await page.evaluate(() => document.querySelector('#review-img').naturalWidth > 0), 20000),
  'a RAW alone is reviewed from its preview', await page.textContent('#review-name'));
  report(await until(() => histogramDrawn(page)), '... with its histogram');
  report(await page.isHidden('#review-download-raw') && /\.cr2$/.test(await page.getAttribute('#review-download', 'download')),
    '... and downloads as the RAW itself');
  await page.click('#review-close');
  await setFormat('Large Fine JPEG');

  // turned off, the pane stays closed after a shot; Review opens it
  await page.uncheck('#review-auto');
  const shots1 = (await state()).shots;
  await page.click('#capture');
  await until(async () => (await state()).shots === shots1 + 1, 15000);
  await until(async () => (await page.$$eval('#mini a', (l) => l[0] && l[0].dataset.id)) === String((await newest()).id));
  report(await page.isHidden('#review'), 'with "after each shot" off, a capture leaves the page as it is');
  await page.click('#review-open');
  report(await until(async () => await page.isVisible('#review') && await page.textContent('#review-name') === (await newest()).file),
    '... and Review shows the newest shot');
  await page.click('#review-close');
  await page.reload();
  report(!(await page.isChecked('#review-auto')), '... remembered after a reload');
  await page.check('#review-auto');
  report(errors.length === 0, 'no script errors on the page', errors.join('; '));
  await page.close();

  // a phone: the picture above its analysis, nothing overlapping
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await phone.goto(studio + '/');
  await until(async () => (await phone.$$('#shooting .stepper')).length >= 5);
  await phone.click('#capture');
  report(await until(async () => await phone.isVisible('#review') &&
    await phone.evaluate(() => document.querySelector('#review-img').naturalWidth > 0), 15000), 'phone 390x844: a capture shows the shot large');
  await until(async () => /ISO/.test(await phone.textContent('#review-exif')));
  bad = await laidOut(phone, REVIEW_PARTS, 390, 844);
  const stageBox = await phone.locator('#review-stage').boundingBox();
  report(bad.length === 0 && stageBox.height > 250, 'phone: the head, the picture and its analysis above each other, nothing overlapping',
    bad.join('; ') + JSON.stringify(stageBox));
  report(await phone.isVisible('#review-close'), 'phone: the way back to the live view is in view');
  if (shots) await phone.screenshot({ path: `${shots}/review-phone.png` });
  const pb = await phone.locator('#review-img').boundingBox();
  await phone.mouse.click(pb.x + pb.width * 0.6, pb.y + pb.height * 0.5);
  l = await loupeOf(phone, '#review-stage', '#review-img');
  report(l.on && Math.abs(l.w - l.n) < 2 && centredOn(l, 0.6, 0.5), 'phone: a tap shows 100 % there', JSON.stringify(l));
  await phone.close();

  // the gallery: the RAW + JPEG shot is one tile; two photos side by side
  const g = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await g.goto(studio + '/gallery');
  const all = await photos();
  report(await until(async () => (await g.$$('#grid figure')).length === Math.min(all.total, 24)), 'the gallery has a tile per shot',
    `${(await g.$$('#grid figure')).length} tiles, ${all.total} shots`);
  const pairTile = `#grid figure[data-id="${pair.id}"]`;
  report(await g.textContent(`${pairTile} .raw-badge`) === 'RAW + JPEG' && (await g.$$(`#grid figure[data-id="${pair.raw_file.id}"]`)).length === 0,
    'the RAW + JPEG shot is one tile with a RAW badge');
  await g.click(`${pairTile} img`);
  report(await until(async () => await g.isVisible('#full') && await g.isVisible('#download-raw')) &&
    /\.cr2$/.test(await g.getAttribute('#download-raw', 'download')) && /\.jpg$/.test(await g.getAttribute('#download', 'download')),
  '... its full view offers both files');
  await g.keyboard.press('Escape');

  const ids = all.photos.filter((p) => !p.raw).slice(0, 2).map((p) => p.id);
  await g.click('#compare-pick');
  await g.click(`#grid figure[data-id="${ids[0]}"] img`);
  report(await g.isHidden('#compare') && await g.$eval(`#grid figure[data-id="${ids[0]}"]`, (f) => f.classList.contains('picked')),
    'compare: a first tile is marked');
  await g.click(`#grid figure[data-id="${ids[1]}"] img`);
  const loaded = (k) => g.evaluate((id) => document.querySelector(id).complete && document.querySelector(id).naturalWidth > 0, `#cmp-img-${k}`);
  report(await until(async () => await g.isVisible('#compare') && await loaded('a') && await loaded('b')),
    '... the second opens both side by side');
  const names = [await g.textContent('#cmp-name-a'), await g.textContent('#cmp-name-b')];
  report(names[0] === all.photos.find((p) => p.id === ids[0]).file && names[1] === all.photos.find((p) => p.id === ids[1]).file,
    '... each named', names.join(' | '));
  await until(async () => /ISO/.test(await g.textContent('#cmp-exif-b')));
  bad = await laidOut(g, ['#cmp-stage-a', '#cmp-stage-b', '#compare-close'], 1440, 900);
  const [ba, bb] = [await g.locator('#cmp-img-a').boundingBox(), await g.locator('#cmp-img-b').boundingBox()];
  report(bad.length === 0 && ba.x + ba.width <= bb.x + 1, 'desktop: left and right, nothing overlapping', bad.join('; '));
  if (shots) await g.screenshot({ path: `${shots}/gallery-compare.png` });
  await g.mouse.click(ba.x + ba.width * 0.3, ba.y + ba.height * 0.4);
  let la = await loupeOf(g, '#cmp-stage-a', '#cmp-img-a'), lb = await loupeOf(g, '#cmp-stage-b', '#cmp-img-b');
  report(la.on && lb.on && Math.abs(la.w - la.n) < 2 && Math.abs(lb.w - lb.n) < 2 && centredOn(la, 0.3, 0.4) &&
    Math.abs(lb.fx - la.fx) < 0.02 && Math.abs(lb.fy - la.fy) < 0.02,
  'a click on one shows both at 100 % at the same point', JSON.stringify([la, lb]));
  if (shots) await g.screenshot({ path: `${shots}/gallery-compare-loupe.png` });
  await g.evaluate(() => { const s = document.querySelector('#cmp-stage-a'); s.scrollLeft += 150; s.scrollTop += 80; });
  report(await until(async () => {
    la = await loupeOf(g, '#cmp-stage-a', '#cmp-img-a');
    lb = await loupeOf(g, '#cmp-stage-b', '#cmp-img-b');
    return Math.abs(la.fx - 0.3) > 0.05 && Math.abs(lb.fx - la.fx) < 0.01 && Math.abs(lb.fy - la.fy) < 0.01;
  }), 'panning one pans the other to the same place', JSON.stringify([la, lb]));
  await g.evaluate(() => { const s = document.querySelector('#cmp-stage-b'); s.scrollLeft -= 300; });
  report(await until(async () => {
    la = await loupeOf(g, '#cmp-stage-a', '#cmp-img-a');
    lb = await loupeOf(g, '#cmp-stage-b', '#cmp-img-b');
    return Math.abs(lb.fx - la.fx) < 0.01;
  }), '... either way', JSON.stringify([la, lb]));
  await g.mouse.click(bb.x + bb.width / 2, bb.y + bb.height / 2);
  la = await loupeOf(g, '#cmp-stage-a', '#cmp-img-a');
  lb = await loupeOf(g, '#cmp-stage-b', '#cmp-img-b');
  report(!la.on && !lb.on, 'a second click fits both again');
  await g.keyboard.press('Escape');
  report(await until(() => g.isHidden('#compare')) && (await g.$$('#grid figure.picked')).length === 0, 'Esc ends the comparison');
  // C over two tiles, on a phone: one above the other
  await g.setViewportSize({ width: 390, height: 844 });
  await g.hover(`#grid figure[data-id="${ids[0]}"] img`);
  await g.keyboard.press('c');
  await g.hover(`#grid figure[data-id="${ids[1]}"] img`);
  await g.keyboard.press('c');
  report(await until(async () => await g.isVisible('#compare') && await loaded('a') && await loaded('b')), 'C over two tiles compares them');
  bad = await laidOut(g, ['#cmp-stage-a', '#cmp-stage-b', '#compare-close'], 390, 844);
  const [pa, pb2] = [await g.locator('#cmp-stage-a').boundingBox(), await g.locator('#cmp-stage-b').boundingBox()];
  report(bad.length === 0 && pa.y + pa.height <= pb2.y + 1, 'phone: one above the other, nothing overlapping', bad.join('; '));
  if (shots) await g.screenshot({ path: `${shots}/gallery-compare-phone.png` });
  await g.close();
} catch (e) {
  report(false, 'review works', e.message);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
