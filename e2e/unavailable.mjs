// Browser test of the widget where chat is unavailable (docs/widget.md "Unavailable"), driven by
// cmd/kefu/browser_widget_test.go against a real `kefu serve --demo`:
//
//   KEFU_STORE_URL, KEFU_CONSOLE_URL, KEFU_ARTIFACTS, CHROMIUM_PATH as for browser.mjs.
//
// A page on an origin the demo shop did not register, and a page naming a shop that does not
// exist, embed the widget: the session is refused (403 origin_not_allowed, 404 shop_not_found),
// the refusal is readable, and the panel says chat is unavailable, with nothing to type into and
// no more session calls. Every wait is Playwright's own; nothing sleeps. The first failure prints
// "FAIL: <step>: <why>", saves failure-*.png and exits 1 (e2e/harness.mjs).
import { KEFU_ORIGIN, W, check, step, newPage, shot, run, openWidget, startForeignSite } from './harness.mjs';

const UNAVAILABLE = '[data-testid=kefu-unavailable]';

// countSessionCalls, an init script, counts the page's calls to a widget session URL.
function countSessionCalls() {
  window.__kefuSessionCalls = 0;
  const real = window.fetch;
  window.fetch = function (url, ...rest) {
    if (String(url).includes('/api/v1/widget/shops/')) window.__kefuSessionCalls++;
    return real.call(this, url, ...rest);
  };
}

// expectUnavailable opens the widget on url and checks that it says want, offers nothing to type
// into or send, and does not ask for a session again (not on open, send or the network's return).
async function expectUnavailable(browser, pages, label, url, shopSlug, status, code, want) {
  const page = await newPage(browser, pages, label, countSessionCalls);
  const sessionURL = `${KEFU_ORIGIN}/api/v1/widget/shops/${shopSlug}/session`;
  const answered = page.waitForResponse((r) => r.url() === sessionURL && r.request().method() === 'POST');
  await page.goto(url);
  const res = await answered;
  const body = await res.json().catch(() => ({}));
  check(res.status() === status && body.error && body.error.code === code,
    `${label}: the session answered ${res.status()} ${JSON.stringify(body)}, want ${status} ${code}`);
  check(res.headers()['access-control-allow-origin'] === new URL(url).origin,
    `${label}: the refusal carries Access-Control-Allow-Origin ${res.headers()['access-control-allow-origin']}, want the page's origin`);

  await openWidget(page);
  const note = page.locator(UNAVAILABLE);
  await note.waitFor({ state: 'visible' });
  const said = await note.textContent();
  check(said === want, `${label}: the panel says ${JSON.stringify(said)}, want ${JSON.stringify(want)}`);
  const typeable = await page.locator(`${W.panel} textarea, ${W.panel} input`).evaluateAll((els) =>
    els.filter((el) => !el.disabled && el.getClientRects().length > 0).length);
  check(typeable === 0, `${label}: ${typeable} enabled, visible text boxes in an unavailable panel`);
  check(await page.locator(W.send).isHidden(), `${label}: the send button shows in an unavailable panel`);
  check(await page.locator('[data-testid=kefu-welcome]').isHidden(), `${label}: the welcome shows in an unavailable panel`);
  check(await page.locator('[data-testid=kefu-human]').isHidden(), `${label}: 转人工 shows in an unavailable panel`);

  // Nothing wakes it: the network coming back, kefu('send') (refused), opening again.
  const after = await page.evaluate(() => {
    window.dispatchEvent(new Event('online'));
    const sent = window.kefu('send', 'hello?');
    window.kefu('close');
    window.kefu('open');
    return { sent, calls: window.__kefuSessionCalls, outbox: Object.keys(localStorage).filter((k) => k.endsWith(':outbox') && localStorage.getItem(k) !== '[]') };
  });
  check(after.sent === false, `${label}: kefu('send') answered ${after.sent} in an unavailable widget, want false`);
  check(after.calls === 1, `${label}: the widget asked for a session ${after.calls} times, want once (it must stop retrying)`);
  check(after.outbox.length === 0, `${label}: an unavailable widget queued messages in ${after.outbox.join(', ')}`);
  return page;
}

let foreign;
run('widget unavailable', async (browser, pages) => {
  foreign = await startForeignSite({
    '/': { 'data-shop': 'demo' },
    '/en': { 'data-shop': 'demo', 'data-lang': 'en' },
    '/ghost': { 'data-shop': 'no-such-shop' },
  });
  const site = `http://127.0.0.1:${foreign.address().port}`;

  await step('an unregistered origin: 在线客服暂时无法使用, nothing to type into, no retries', async () => {
    const page = await expectUnavailable(browser, pages, 'foreign', `${site}/`, 'demo', 403, 'origin_not_allowed', '在线客服暂时无法使用');
    await shot(page, 'widget-unavailable.png');
  });

  await step('the same in English: Chat is unavailable on this page', () =>
    expectUnavailable(browser, pages, 'foreign-en', `${site}/en`, 'demo', 403, 'origin_not_allowed', 'Chat is unavailable on this page'));

  await step('a shop that does not exist: unavailable too', () =>
    expectUnavailable(browser, pages, 'ghost', `${site}/ghost`, 'no-such-shop', 404, 'shop_not_found', '在线客服暂时无法使用'));
}, { after: () => foreign && foreign.close() });
