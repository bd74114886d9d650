// Signing in to a studio that has an access token, in Debian's Chromium
// (playwright-core): a gallery link opened before signing in leads to the
// sign-in page; a wrong token says so on the page; the right one lands on
// the gallery asked for; "Sign out" is shown, ends the session and goes
// back to the sign-in page, after which the gallery asks for the token
// again.  Run by tests/integration/studio_signin.sh:
//   node signin.mjs STUDIO_URL TOKEN [SCREENSHOT_DIR]
// Prints "ok - ..." / "not ok - ..." lines.
import { launch, until } from './common.mjs';

const [studio, token, shots] = process.argv.slice(2);
let failed = 0;
const report = (ok, name, detail) => {
  console.log(`${ok ? 'ok' : 'not ok'} - studio_signin: browser: ${name}${ok || !detail ? '' : ' -- ' + detail}`);
  if (!ok) failed++;
};
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await page.goto(studio + '/gallery');
  report(new URL(page.url()).pathname === '/login', 'a gallery link before signing in shows the sign-in page', page.url());
  await page.fill('input[name=token]', 'not-the-token');
  await Promise.all([page.waitForURL(/failed=1/), page.click('button')]);
  const why = page.locator('#why');
  report(await why.isVisible() && /not this studio/.test(await why.textContent()),
    'a wrong token says why on the page', await why.count() ? await why.textContent() : 'no message');
  if (shots) await page.screenshot({ path: `${shots}/signin-wrong-token.png` });
  await page.fill('input[name=token]', token);
  await Promise.all([page.waitForURL(/\/gallery$/), page.click('button')]);
  report(new URL(page.url()).pathname === '/gallery', 'the right token lands on the gallery asked for', page.url());
  const out = page.locator('#sign-out');
  report(await until(() => out.isVisible()), 'the gallery shows "Sign out"');
  await page.goto(studio + '/');
  report(await until(() => out.isVisible()), 'the studio page shows "Sign out"');
  if (shots) await page.screenshot({ path: `${shots}/signin-studio-phone.png` });
  await Promise.all([page.waitForURL(/\/login$/), out.click()]);
  report(new URL(page.url()).pathname === '/login', 'signing out goes back to the sign-in page', page.url());
  await page.goto(studio + '/gallery');
  report(new URL(page.url()).pathname === '/login', 'after signing out the gallery asks for the token again', page.url());
} catch (e) {
  report(false, 'the sign-in works', e.message);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
