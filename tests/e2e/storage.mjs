// The photo folder's health on the studio's main page in Debian's Chromium
// (playwright-core): the header shows the free space and no banner while
// the folder is fine; when the disk fills (FILL_CMD, run here) a banner
// says photos cannot be saved and why, without a reload (the "storage"
// event); when space is freed (FREE_CMD) it goes away.  Run by
// tests/integration/studio_storage.sh:
//   node storage.mjs STUDIO_URL FILL_CMD FREE_CMD [SCREENSHOT_DIR]
// Prints "ok - ..." / "not ok - ..." lines.
import { execSync } from 'node:child_process';
import { launch, sleep, until } from './common.mjs';

const [studio, fillCmd, freeCmd, shots] = process.argv.slice(2);
let failed = 0;
const report = (ok, name, detail) => {
  console.log(`${ok ? 'ok' : 'not ok'} - studio_storage: browser: ${name}${ok || !detail ? '' : ' -- ' + detail}`);
  if (!ok) failed++;
};
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(studio + '/');
  const banner = page.locator('#storage-banner');
  const disk = page.locator('#disk');
  report(await until(async () => /free$/.test(await disk.textContent()) && await disk.isVisible()),
    'the header shows the free space', await disk.textContent());
  report(await banner.isHidden(), 'no storage banner while the folder is fine');
  execSync(fillCmd, { stdio: 'ignore' });
  const shown = await until(async () => await banner.isVisible() && /full/.test(await banner.textContent()));
  report(shown, 'a full disk shows a banner saying so, without a reload', await banner.textContent());
  report(/badge bad/.test(await disk.getAttribute('class')), 'the free space turns red', await disk.getAttribute('class'));
  if (shots) await page.screenshot({ path: `${shots}/storage-full.png` });
  execSync(freeCmd, { stdio: 'ignore' });
  report(await until(async () => await banner.isHidden()), 'space freed: the banner goes away');
} catch (e) {
  report(false, 'the page works', e.message);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
