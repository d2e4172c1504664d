// Browser end-to-end test of Settings › Quick phrases (快捷短语), driven by
// cmd/kefu/browser_settings_test.go (TestBrowserPhraseSettings) against `kefu serve --demo`
// (KEFU_STORE_URL, KEFU_CONSOLE_URL, KEFU_ARTIFACTS, CHROMIUM_PATH: see e2e/harness.mjs).
//
// A plain agent (xiaowang) opens Settings, which shows the quick phrases alone; adds a personal
// phrase with a shortcut and finds it listed and stored; adding another with the same shortcut is
// refused beside the shortcut input, with what was typed kept; the CSV export downloads a file
// holding the phrase; an import with a clashing row names that row and stores nothing. The owner
// then finds the shop scope offered, and the auto-reply and assistant pages drawn without an
// uncaught error whether or not the server offers them yet.
import { readFileSync } from 'node:fs';
import { RUN, check, step, newPage, shot, run, login, restOK, openSettings } from './harness.mjs';

const SHORTCUT = `bye-${RUN}`;
const TEXT = `亲，感谢光临，再见～ ${RUN}`;

const P = {
  page: '[data-testid=phrases-page]',
  form: '[data-testid=phrase-form]',
  row: (shortcut) => `[data-testid=phrases-personal] [data-testid=phrase-row][data-shortcut="${shortcut}"]`,
};

async function personalPhrases(page) {
  const { phrases } = await restOK(page, 'GET', '/api/v1/phrases');
  return phrases.filter((p) => p.scope === 'personal');
}

async function scenario(browser, pages) {
  const wang = await newPage(browser, pages, 'xiaowang');

  await step('xiaowang, a plain agent, opens Settings and finds the quick phrases alone', async () => {
    await login(wang, 'xiaowang');
    await openSettings(wang, 'phrases');
    const tabs = await wang.locator('[data-testid^=settings-tab-]').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')));
    check(tabs.join() === 'settings-tab-phrases', `a plain agent's tabs are ${tabs.join(', ')}`);
    await wang.locator('[data-testid=phrases-shop] [data-testid=phrase-row]').first().waitFor();
    check(await wang.locator('[data-testid=phrases-shop] [data-testid=phrase-edit]').count() === 0, 'a plain agent is offered to edit the shop\'s phrases');
    const scopes = await wang.locator('#phrase-scope option').evaluateAll((os) => os.map((o) => o.value));
    check(scopes.join() === 'personal', `a plain agent may choose the scopes ${scopes.join(', ')}`);
  });

  await step('xiaowang adds a personal phrase with a shortcut; it is listed and stored', async () => {
    const form = wang.locator(P.form);
    await form.getByLabel('分类').fill('结束语');
    await form.getByLabel('快捷码').fill(SHORTCUT);
    await form.getByLabel('短语内容').fill(TEXT);
    await form.locator('[data-testid=phrase-submit]').click();
    const row = wang.locator(P.row(SHORTCUT));
    await row.locator('[data-testid=phrase-text]', { hasText: TEXT }).waitFor();
    check((await row.locator('[data-testid=phrase-uses]').textContent()) === '0', 'a new phrase shows uses other than 0');
    const mine = await personalPhrases(wang);
    const p = mine.find((x) => x.shortcut === SHORTCUT);
    check(p && p.text === TEXT && p.category === '结束语', `the phrase is not stored as typed: ${JSON.stringify(mine)}`);
    check(await form.getByLabel('快捷码').inputValue() === '', 'the form was not emptied after adding');
  });

  await step('the same shortcut again is refused beside the shortcut input, the typing kept', async () => {
    const form = wang.locator(P.form);
    const other = `另一句 ${RUN}`;
    await form.getByLabel('快捷码').fill(SHORTCUT);
    await form.getByLabel('短语内容').fill(other);
    await form.locator('[data-testid=phrase-submit]').click();
    const err = wang.locator('[data-testid=phrase-shortcut-error]');
    await err.filter({ hasText: '快捷码已被使用' }).waitFor();
    check(await form.getByLabel('快捷码').getAttribute('aria-invalid') === 'true', 'the shortcut input is not marked invalid');
    check(await form.getByLabel('短语内容').inputValue() === other, 'the refused text was not kept');
    check((await personalPhrases(wang)).filter((x) => x.shortcut === SHORTCUT).length === 1, 'a second phrase with the shortcut was stored');
    await shot(wang, 'phrase-settings-duplicate.png');
  });

  await step('exporting my phrases downloads a CSV that holds the new one', async () => {
    const [download] = await Promise.all([wang.waitForEvent('download'), wang.locator('[data-testid=phrase-export-personal]').click()]);
    check(download.suggestedFilename() === 'kefu-phrases-personal.csv', `the download is called ${download.suggestedFilename()}`);
    const csv = readFileSync(await download.path(), 'utf8');
    check(csv.startsWith('\ufeffcategory,shortcut,text,uses'), `the CSV starts ${JSON.stringify(csv.slice(0, 40))}`);
    check(csv.includes(`结束语,${SHORTCUT},${TEXT},0`), `the CSV does not hold the phrase: ${JSON.stringify(csv)}`);
  });

  await step('an import with a clashing row names the row and stores nothing', async () => {
    const before = (await personalPhrases(wang)).length;
    const csv = `category,shortcut,text\r\n结束语,ok-${RUN},新的一句 ${RUN}\r\n结束语,${SHORTCUT},重复的快捷码\r\n`;
    await wang.locator('[data-testid=phrase-import-file]').setInputFiles({ name: 'phrases.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await wang.locator('[data-testid=phrase-import-submit]').click();
    const row = wang.locator('[data-testid=phrase-import-row][data-line="3"]');
    await row.waitFor();
    check((await row.textContent()).includes('第 3 行'), `the refused row says ${JSON.stringify(await row.textContent())}`);
    check(await wang.locator('[data-testid=phrase-import-row]').count() === 1, 'rows that were fine are reported as refused');
    check((await personalPhrases(wang)).length === before, 'a refused import stored phrases');
  });

  const owner = await newPage(browser, pages, 'owner');
  await step('the owner may choose the shop scope, and the auto-reply and assistant pages draw', async () => {
    await login(owner, 'owner');
    await openSettings(owner, 'phrases');
    await owner.locator('[data-testid=phrases-shop] [data-testid=phrase-edit]').first().waitFor();
    const scopes = await owner.locator('#phrase-scope option').evaluateAll((os) => os.map((o) => o.value));
    check(scopes.join() === 'personal,shop', `the owner may choose the scopes ${scopes.join(', ')}`);
    check(await owner.locator(P.row(SHORTCUT)).count() === 0, 'the owner sees xiaowang\'s own phrase');
    // Until the server offers them these answer 404: the page must say so, not break.
    await openSettings(owner, 'autoreplies');
    await owner.locator('[data-testid=rules-page] :is([data-testid=rules-table], [data-testid=rules-empty], [data-testid=rules-load-error])').first().waitFor();
    await openSettings(owner, 'assistant');
    await owner.locator('[data-testid=assistant-page] :is([data-testid=assistant-form], [data-testid=assistant-load-error])').first().waitFor();
  });
}

run('quick phrase settings end to end', scenario, { failurePrefix: 'failure-phrase-settings-' });
