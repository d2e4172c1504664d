// Browser end-to-end test of product and order cards (docs/widget.md, "Cards") against the real
// server, `kefu serve --demo` (KEFU_STORE_URL, KEFU_CONSOLE_URL, KEFU_ARTIFACTS, CHROMIUM_PATH: see
// e2e/harness.mjs). A buyer on the demo store page clicks 咨询这件商品: the panel opens with the
// product pinned above the text box; an anonymous visitor has no 我的订单. Signed in as 张三, the
// buyer sends the product (a card, linking to the page in a new tab) and picks order
// 2026111100123 from 我的订单 (a card saying 已发货). A card sent while the socket is down waits in
// the outbox across a reload and is stored once. xiaowang sees the cards as cards in the chat.
import { STORE_URL, W, C, check, step, newPage, shot, run, login, recordWidgetEvents, storedRow, conversationOf, openWidget } from './harness.mjs';

const ORDER = '2026111100123';
const PRODUCT_TEXT = '[商品] 冬季加厚羽绒服 ¥299.00';
const mine = `${W.message}[data-sender=buyer]`;
const card = '[data-testid=kefu-card]';

async function scenario(browser, pages) {
  const buyer = await newPage(browser, pages, 'buyer', recordWidgetEvents);

  await step('咨询这件商品 opens the panel with the product pinned above the text box', async () => {
    await buyer.goto(STORE_URL);
    await buyer.locator(W.bubble).waitFor({ state: 'visible' });
    await buyer.locator('#ask-product').click();
    await buyer.locator(W.panel).waitFor({ state: 'visible' });
    const preview = buyer.locator('[data-testid=kefu-product-preview]');
    await preview.waitFor({ state: 'visible' });
    const text = await preview.locator(card).textContent();
    check(text.includes('冬季加厚羽绒服') && text.includes('¥299.00'), `the preview says ${JSON.stringify(text)}`);
    check(await preview.locator(card).getAttribute('data-kind') === 'product', 'the preview is not a product card');
    check((await buyer.locator('[data-testid=kefu-send-product]').textContent()) === '发送商品', 'no 发送商品 button');
    check(!(await buyer.locator('[data-testid=kefu-orders-button]').isVisible()), 'an anonymous visitor is offered 我的订单');
  });

  await step('a card shows an https image with no referrer, and no plain-http image from elsewhere', async () => {
    const img = buyer.locator('[data-testid=kefu-product-preview] img');
    await buyer.evaluate(() => kefu('product', { title: '围巾', price_cents: 2900, image_url: 'http://elsewhere.invalid/a.jpg' }));
    await buyer.locator('[data-testid=kefu-product-preview]', { hasText: '围巾' }).waitFor();
    check(await img.count() === 0, 'a plain-http image from another origin is shown');
    await buyer.evaluate(() => kefu('product', { title: '围巾', price_cents: 2900, image_url: 'https://img.invalid/a.jpg' }));
    await img.waitFor({ state: 'attached' });
    check(await img.getAttribute('referrerpolicy') === 'no-referrer', `the image's referrerpolicy is ${await img.getAttribute('referrerpolicy')}`);
    await buyer.locator('#ask-product').click(); // the page's own product again
    await buyer.locator('[data-testid=kefu-product-preview]', { hasText: '冬季加厚羽绒服' }).waitFor();
  });

  await step('signed in as 张三, 发送商品 sends the product as a card that links to the page', async () => {
    await buyer.locator('#login').click();
    await buyer.locator('#who', { hasText: '张三' }).waitFor();
    await buyer.locator('[data-testid=kefu-orders-button]').waitFor({ state: 'visible' });
    await buyer.locator('[data-testid=kefu-send-product]').click();
    const row = storedRow(buyer, mine, '冬季加厚羽绒服');
    await row.waitFor();
    const c = row.locator(`${card}[data-kind=product]`);
    check((await c.textContent()).includes('¥299.00'), `the product card says ${JSON.stringify(await c.textContent())}`);
    check(await c.getAttribute('target') === '_blank' && await c.getAttribute('rel') === 'noopener noreferrer', 'the card link does not open apart, without a referrer');
    check((await c.getAttribute('href')).startsWith(new URL(STORE_URL).origin), `the card links to ${await c.getAttribute('href')}`);
    check(!(await buyer.locator('[data-testid=kefu-product-preview]').isVisible()), 'the preview stays after the product was sent');
  });

  await step('我的订单 lists 张三\'s orders; picking 2026111100123 sends an order card saying 已发货', async () => {
    await buyer.locator('[data-testid=kefu-orders-button]').click();
    const option = buyer.locator(`[data-testid=kefu-order-option][data-order-no="${ORDER}"]`);
    await option.waitFor({ state: 'visible' });
    check((await option.textContent()).includes('已发货'), `the option says ${JSON.stringify(await option.textContent())}`);
    await option.click();
    const row = storedRow(buyer, mine, ORDER);
    await row.waitFor();
    const text = await row.locator(`${card}[data-kind=order]`).textContent();
    check(text.includes(ORDER) && text.includes('已发货'), `the order card says ${JSON.stringify(text)}`);
    await shot(buyer, 'cards-widget.png');
  });

  await step('a card sent while the socket is down waits in the outbox across a reload, then goes once', async () => {
    // New buyer sockets are held (opened but never answered) until block is lifted.
    let block = true;
    await buyer.routeWebSocket(/\/ws\/buyer/, (ws) => { if (!block) ws.connectToServer(); });
    await buyer.reload();
    await buyer.locator('#login').click();
    await buyer.locator('#who', { hasText: '张三' }).waitFor();
    await buyer.locator('#ask-product').click();
    await buyer.locator('[data-testid=kefu-send-product]').click();
    const pending = buyer.locator(`${mine}[data-seq=""] ${card}[data-kind=product]`);
    await pending.waitFor();
    const kept = await buyer.evaluate(() => JSON.parse(localStorage.getItem('kefu:demo:outbox') || '[]'));
    check(kept.length === 1 && kept[0].card && kept[0].card.kind === 'product', `the outbox holds ${JSON.stringify(kept)}`);
    block = false;
    await buyer.reload();
    await buyer.locator('#login').click();
    await buyer.locator('#who', { hasText: '张三' }).waitFor();
    await openWidget(buyer);
    const stored = buyer.locator(`${mine}[data-seq]:not([data-seq=""]) ${card}[data-kind=product]`);
    await stored.nth(1).waitFor();
    await buyer.waitForFunction(() => (localStorage.getItem('kefu:demo:outbox') || '[]') === '[]');
    check(await stored.count() === 2, `${await stored.count()} product cards stored, want 2 (the first and the one from the outbox)`);
    check(await buyer.locator(`${mine}[data-seq=""]`).count() === 0, 'a pending row is left');
  });

  const wang = await newPage(browser, pages, 'xiaowang');
  await step('xiaowang sees the product cards and the order card in the chat as cards', async () => {
    const convId = await conversationOf(buyer, PRODUCT_TEXT);
    await login(wang, 'xiaowang');
    const row = wang.locator(`${C.convItem}[data-conversation-id="${convId}"]`);
    await row.waitFor();
    await row.click();
    const products = wang.locator('[data-testid=chat-card][data-kind=product]');
    await products.nth(1).waitFor();
    check(await products.count() === 2, `the chat shows ${await products.count()} product cards, want 2`);
    const product = products.first();
    check((await product.textContent()).includes('冬季加厚羽绒服') && (await product.textContent()).includes('¥299.00'), `the console's product card says ${JSON.stringify(await product.textContent())}`);
    check(await product.getAttribute('rel') === 'noopener noreferrer', 'the console card link keeps the referrer');
    const order = wang.locator('[data-testid=chat-card][data-kind=order]');
    await order.waitFor();
    const text = await order.textContent();
    check(text.includes(ORDER) && text.includes('已发货'), `the console's order card says ${JSON.stringify(text)}`);
    await shot(wang, 'cards-console.png');
  });
}

run('product and order cards in the widget and the console', scenario);
