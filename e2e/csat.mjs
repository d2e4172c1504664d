// Browser test of the widget's satisfaction rating (docs/widget.md "Rating the service"), driven
// by cmd/kefu/browser_csat_test.go against a real `kefu serve --demo`:
//
//   KEFU_STORE_URL, KEFU_CONSOLE_URL, KEFU_ARTIFACTS, CHROMIUM_PATH as for browser.mjs.
//
// A buyer writes; the demo owner takes the conversation and invites a rating from the console
// (invite-rating), and the widget shows its stars while the conversation is open; the buyer rates
// it and is thanked, the console's header shows the stars, and the close that follows asks
// nothing more. A second conversation closes unrated: the widget asks by itself; after rating
// it, a reload asks no more, and the console's history shows both ratings. Every wait is
// Playwright's own; nothing sleeps. The first failure prints "FAIL: <step>: <why>", saves
// failure-csat.png and exits 1 (e2e/harness.mjs).
import { STORE_URL, RUN, W, C, check, step, newPage, shot, run, api, apiLogin, login, openWidget, widgetSend, conversationOf, recordWidgetEvents } from './harness.mjs';

const FIRST = `发票开好了吗 csat-${RUN}`;
const SECOND = `还有一个问题 csat-${RUN}`;
const CSAT = '[data-testid=kefu-csat]';
const THANKS = '[data-testid=kefu-csat-thanks]';

async function rate(page, stars, comment) {
  const box = page.locator(CSAT);
  await box.waitFor({ state: 'visible' });
  check(await page.locator('[data-testid=kefu-csat-submit]').isDisabled(), 'submit is enabled before a star is picked');
  await page.locator(`[data-testid=kefu-csat-star][data-stars="${stars}"]`).click();
  check(await page.locator(`[data-testid=kefu-csat-star][data-stars="${stars}"]`).getAttribute('aria-pressed') === 'true', 'the star picked is not marked');
  if (comment) await page.locator('[data-testid=kefu-csat-comment]').fill(comment);
  await page.locator('[data-testid=kefu-csat-submit]').click();
  await page.locator(THANKS).waitFor({ state: 'visible' });
  await box.waitFor({ state: 'hidden' });
}

async function scenario(browser, pages) {
  const token = await step('the demo owner signs in over REST', () => apiLogin('owner'));
  const page = await newPage(browser, pages, 'csat', recordWidgetEvents);

  const first = await step('the buyer writes; no stars while the conversation is open', async () => {
    await page.goto(STORE_URL);
    await openWidget(page);
    await widgetSend(page, FIRST);
    const id = await conversationOf(page, FIRST);
    check(await page.locator(CSAT).isHidden(), 'the stars show in an open conversation nobody invited a rating of');
    return id;
  });

  const owner = await newPage(browser, pages, 'owner');
  await step('the owner takes it and invites a rating from the console: the stars show while it is open', async () => {
    await api('POST', `/conversations/${first}/accept`, token);
    await login(owner, 'owner');
    await owner.locator(`${C.convItem}[data-conversation-id="${first}"]`).click();
    await owner.locator('[data-testid=invite-rating]').click();
    await owner.locator('[data-testid=chat-rating]').waitFor({ state: 'visible' });
    await owner.locator('[data-testid=invite-rating]').waitFor({ state: 'hidden' });
    await page.locator(`${W.message}[data-code=rating_invited]`).waitFor();
    await page.locator(CSAT).waitFor({ state: 'visible' });
    await shot(page, 'widget-csat.png');
  });

  await step('the buyer gives 5 stars with a comment and is thanked; the agent sees it', async () => {
    await rate(page, 5, '很满意');
    const { conversation } = await api('GET', `/conversations/${first}`, token);
    check(conversation.rating === 5 && conversation.rating_comment === '很满意', `stored rating ${conversation.rating} ${JSON.stringify(conversation.rating_comment)}`);
    await owner.locator('[data-testid=chat-rating][data-stars="5"]').filter({ hasText: '很满意' }).waitFor();
    await shot(page, 'widget-csat-thanks.png');
    await shot(owner, 'console-csat.png');
  });

  await step('closing a rated conversation asks nothing more', async () => {
    await api('POST', `/conversations/${first}/close`, token);
    await page.locator(`${W.message}[data-code=closed]`).waitFor();
    check(await page.locator(CSAT).isHidden(), 'the stars show again after the close of a rated conversation');
  });

  const second = await step('a second conversation closes unrated: the widget asks by itself', async () => {
    await widgetSend(page, SECOND);
    const id = await conversationOf(page, SECOND);
    check(id !== first, `the second message went to conversation ${id}, the rated one`);
    await api('POST', `/conversations/${id}/close`, token);
    await rate(page, 3);
    return id;
  });

  await step('after a reload the widget asks no more', async () => {
    await page.reload();
    await openWidget(page);
    await page.locator(`${W.message}[data-code=closed][data-conv="${second}"]`).waitFor();
    check(await page.locator(CSAT).isHidden(), 'the stars show again after a reload');
    check(await page.locator(THANKS).isHidden(), 'the thank-you shows again after a reload');
    const { conversation } = await api('GET', `/conversations/${second}`, token);
    check(conversation.rating === 3 && !conversation.rating_comment, `stored rating ${conversation.rating} ${JSON.stringify(conversation.rating_comment)}`);
  });

  await step("the console's history shows each closed conversation's stars", async () => {
    await owner.locator('[data-testid=history-tab]').click();
    await owner.locator(`[data-testid=history-item][data-conversation-id="${first}"] [data-testid=history-rating][data-stars="5"]`).waitFor();
    await owner.locator(`[data-testid=history-item][data-conversation-id="${second}"] [data-testid=history-rating][data-stars="3"]`).waitFor();
  });
}

run('widget csat', scenario);
