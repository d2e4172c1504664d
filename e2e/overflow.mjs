// Browser test of the overflow stages in the supervisor view (docs/overflow.md), driven by
// cmd/kefu/browser_overflow_test.go against a real `kefu serve --demo`:
//
//   KEFU_STORE_URL, KEFU_CONSOLE_URL, KEFU_ARTIFACTS, CHROMIUM_PATH as for browser.mjs.
//
// The owner signs in (the only agent online, with one slot) and gives the demo shop a policy
// whose backup stage engages at one waiting buyer. One buyer is served, a second waits: the
// console's banner above the queue shows the backup stage with the line; a third buyer is told
// the backup team helps; the owner switches surge mode on and the banner says so, then off.
// Every wait is Playwright's own; nothing sleeps. The first failure prints "FAIL: <step>: <why>",
// saves failure-*.png and exits 1 (e2e/harness.mjs).
import { STORE_URL, RUN, W, WAIT_MS, check, step, newPage, shot, run, restOK, login } from './harness.mjs';

const BANNER = '[data-testid=overflow-banner]';

// policy is a demo policy with stages at 1, 10, 20 and 30 waiting buyers.
function policy(surgeOn) {
  return {
    policy: { enabled: true, hold_seconds: 0, backup: { queue_length: 1 }, bot_first: { queue_length: 10 },
      leave_message: { queue_length: 20 }, queue_full: { queue_length: 30 } },
    surge: { on: surgeOn, profile: { cap_bonus: 0, bot_first: false } },
  };
}

// buyerWrites opens the store page in a fresh context and writes text in the widget.
async function buyerWrites(browser, pages, label, text) {
  const page = await newPage(browser, pages, label);
  await page.goto(STORE_URL);
  await page.locator(W.bubble).click();
  await page.locator(W.panel).waitFor({ state: 'visible' });
  await page.locator(W.input).fill(text);
  await page.locator(W.send).click();
  await page.locator(`${W.message}[data-sender=buyer]`).filter({ hasText: text }).waitFor();
  return page;
}

async function scenario(browser, pages) {
  const owner = await newPage(browser, pages, 'owner');
  await step('the owner signs in with one slot and sets an overflow policy', async () => {
    await login(owner, 'owner');
    const { agents } = await restOK(owner, 'GET', '/api/v1/agents');
    const me = agents.find((a) => a.username === 'owner');
    await restOK(owner, 'PATCH', `/api/v1/agents/${me.id}`, { max_concurrent: 1 });
    const set = await restOK(owner, 'PUT', '/api/v1/shop/overflow', policy(false));
    check(set.policy.enabled && set.state.stage === 'normal', `the policy as stored: ${JSON.stringify(set)}`);
    check(await owner.locator(BANNER).isHidden(), 'the overflow banner shows while the shop is normal');
  });

  await step('one buyer is served, a second waits: the banner shows the backup stage and the line', async () => {
    await buyerWrites(browser, pages, 'buyer-1', `在吗 1-${RUN}`);
    await buyerWrites(browser, pages, 'buyer-2', `在吗 2-${RUN}`);
    const banner = owner.locator(BANNER);
    await banner.filter({ hasText: '备用客服组' }).waitFor();
    // The banner follows the overflow frames, which a busy machine may send a
    // tick apart: wait for the line of 1 before reading it.
    await banner.filter({ hasText: '排队 1 人' }).waitFor({ timeout: WAIT_MS }).catch(() => {});
    const text = await banner.textContent();
    check(text.includes('排队 1 人'), `the banner says ${JSON.stringify(text)}, want the line of 1`);
    await shot(owner, 'overflow-banner.png');
  });

  await step('a buyer arriving in the backup stage is told the backup team helps', async () => {
    const third = await buyerWrites(browser, pages, 'buyer-3', `在吗 3-${RUN}`);
    await third.locator(`${W.message}[data-sender=system]`).filter({ hasText: '备用客服通道' }).waitFor();
  });

  await step('surge mode switched on shows in the banner, and goes when switched off', async () => {
    await restOK(owner, 'PUT', '/api/v1/shop/overflow', policy(true));
    await owner.locator(BANNER).filter({ hasText: '大促模式' }).waitFor();
    await restOK(owner, 'PUT', '/api/v1/shop/overflow', policy(false));
    await owner.locator(BANNER).filter({ hasNotText: '大促模式' }).waitFor();
  });
}

run('overflow', scenario);
