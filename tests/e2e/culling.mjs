// Culling in the gallery, in Debian's Chromium (playwright-core): three
// shots rated, labelled, picked and rejected from the keyboard (1-5
// stars, 6-9 a colour, P pick, X reject) over the tile under the pointer
// and in the full view; the filter finds them; exiftool reads the rating
// and the label back from the files' XMP, as Lightroom would.
// Run by tests/integration/studio_layout.sh:
//   node culling.mjs STUDIO_URL PHOTO_DIR [SCREENSHOT_DIR]
// Prints "ok - ..." / "not ok - ..." lines.
import { execFileSync } from 'node:child_process';
import { launch, until } from './common.mjs';

const [studio, photos, shots] = process.argv.slice(2);
let failed = 0;
const report = (ok, name, detail) => {
  console.log(`${ok ? 'ok' : 'not ok'} - studio_layout: culling: ${name}${ok || !detail ? '' : ' -- ' + detail}`);
  if (!ok) failed++;
};
const photo = async (id) => (await fetch(`${studio}/api/photos/${id}`)).json();
const xmp = (p) => execFileSync('exiftool', ['-s3', '-XMP:Rating', '-XMP:Label', `${photos}/${p.url.replace('/photos/', '')}`])
  .toString().trim().split('\n').join(' ');
const browser = await launch();
try {
  for (let i = 0; i < 3; i++) await fetch(studio + '/api/capture', { method: 'POST' });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(studio + '/gallery');
  await until(async () => (await page.$$('#grid figure')).length >= 3);
  const ids = await page.$$eval('#grid figure', (l) => l.slice(0, 3).map((f) => f.dataset.id));
  const tile = (id) => `#grid figure[data-id="${id}"] img`;
  await page.hover(tile(ids[0]));
  await page.keyboard.press('4');
  await page.keyboard.press('6');
  await page.hover(tile(ids[1]));
  await page.keyboard.press('x');
  await page.click(tile(ids[2])); // the full view
  await page.keyboard.press('2');
  await page.keyboard.press('p');
  const want = [[4, 'Red', 0], [-1, '', -1], [2, '', 1]];
  let got = [];
  const settled = await until(async () => {
    got = await Promise.all(ids.map(async (id) => { const p = await photo(id); return [p.rating, p.label, p.pick]; }));
    return JSON.stringify(got) === JSON.stringify(want);
  });
  report(settled, 'keys rate, label, reject and pick: 4★ red, rejected, 2★ picked', JSON.stringify(got));
  report(await until(async () => (await page.textContent('#full-cull')).includes('⚑ ★★')), 'the full view shows the stars and the pick');
  await page.keyboard.press('Escape');
  report(await until(async () => (await page.textContent(`#grid figure[data-id="${ids[0]}"] .cull`)) === '★★★★' &&
    (await page.getAttribute(`#grid figure[data-id="${ids[0]}"] .cull`, 'data-label')) === 'Red'), 'the tile shows them');
  if (shots) await page.screenshot({ path: `${shots}/gallery-culling.png` });
  const ids_shown = () => page.$$eval('#grid figure', (l) => l.map((f) => f.dataset.id).sort().join(' '));
  await page.selectOption('#cull-filter', 'min_rating=2');
  report(await until(async () => (await ids_shown()) === [ids[0], ids[2]].sort().join(' ')),
    'the "★★ or more" filter shows the two rated', await ids_shown());
  await page.selectOption('#cull-filter', 'pick=-1');
  report(await until(async () => JSON.stringify(await page.$$eval('#grid figure', (l) => l.map((f) => f.dataset.id))) ===
    JSON.stringify([ids[1]])), '"rejects" shows the rejected one');
  await page.selectOption('#cull-filter', 'label=Red');
  report(await until(async () => JSON.stringify(await page.$$eval('#grid figure', (l) => l.map((f) => f.dataset.id))) ===
    JSON.stringify([ids[0]])), '"red" shows the red one');
  const files = await Promise.all(ids.map(photo));
  const read = files.map(xmp);
  report(read[0] === '4 Red' && read[1] === '-1' && read[2] === '2', 'exiftool reads the rating and label from the files\' XMP',
    JSON.stringify(read));
} catch (e) {
  report(false, 'culling works', e.message);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
