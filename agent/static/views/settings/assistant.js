// Settings › Assistant (智能助手), for owners and supervisors: the shop's bot (GET/PUT
// /api/v1/assistant, the whole object each time): whether it answers and as whom, its greeting
// and quick questions, whether it answers before a human (bot first) and what it says when it
// cannot or hands over, what a waiting buyer is told, how often it may answer, business hours
// (per weekday open spans typed as "09:00-18:00, 19:00-22:00", holidays one date a line) and
// what happens outside them. An error that names its input (`field`, e.g. "hours.weekly[2][0]")
// is shown beside that input, with what was typed kept. The settings are loaded by the page
// itself when first drawn.
import { t } from '../../strings.js';
import { h, toast } from '../../dom.js';
import { api } from '../../api.js';
import {
  checkedField, select, checkbox, errorLine, fieldErrors, submitting, parseWhole, parsePath, splitLines, lineOf,
  unwrap, pageData, parseSpans, formatSpans,
} from './forms.js';

const DEFAULT_TIME_ZONE = 'Asia/Shanghai';
const MAX_HOLDING_SECONDS = 3600;
const MAX_REPLIES_PER_MINUTE = 60;

let settings = null; // as the server answered
let saved = false; // the page shows the answer to a save just made

const data = pageData('/api/v1/assistant', (r) => { settings = unwrap(r, 'assistant') || {}; });

export function reset() {
  settings = null;
  data.reset();
  saved = false;
}

export function draw(ctx) {
  if (settings == null && !data.error) data.load(ctx);
  const parts = [
    h('div', { class: 'set-page-head' }, [
      h('h2', { class: 'set-heading', text: t('set_assistantHeading') }),
      h('button', { type: 'button', class: 'btn btn-ghost btn-sm', text: t('set_refresh'), onclick: () => { settings = null; data.load(ctx); ctx.redraw(); } }),
    ]),
    h('p', { class: 'set-intro', text: t('set_assistantIntro') }),
  ];
  if (settings == null) {
    parts.push(data.waiting(ctx, 'assistant-load-error'));
  } else {
    parts.push(assistantForm(ctx));
  }
  return h('div', { class: 'set-page', 'data-testid': 'assistant-page' }, parts);
}

function textInput(value, max) {
  const i = h('input', { type: 'text', autocomplete: 'off', maxlength: max ? String(max) : null });
  i.value = value == null ? '' : String(value);
  return i;
}

function textArea(value, rows) {
  const a = h('textarea', { rows: String(rows || 2), class: 'set-textarea' });
  a.value = value == null ? '' : String(value);
  return a;
}

function numberInput(value, max) {
  const i = h('input', { type: 'number', min: '0', max: String(max), step: '1', class: 'set-number' });
  i.value = String(value ?? 0);
  return i;
}

function assistantForm(ctx) {
  const s = settings;
  const hours = s.hours || {};
  const weekly = Array.isArray(hours.weekly) ? hours.weekly : [];
  const status = h('p', { class: 'set-status', role: 'status', 'data-testid': 'assistant-status', text: saved ? t('set_saved') : '' });
  saved = false;

  const enabled = checkbox('as-enabled', t('set_asEnabled'), s.enabled, t('set_asEnabledHint'));
  const name = textInput(s.name, 32);
  const avatar = textInput(s.avatar, 200);
  const greeting = textArea(s.greeting, 3);
  const quick = textArea((s.quick_questions || []).join('\n'), 4);
  const botFirst = checkbox('as-bot-first', t('set_asBotFirst'), s.bot_first, t('set_asBotFirstHint'));
  const fallback = textArea(s.fallback_reply);
  const handover = textArea(s.handover_reply);
  const busy = textArea(s.busy_reply);
  const holdingSeconds = numberInput(s.holding_seconds, MAX_HOLDING_SECONDS);
  const holdingReply = textArea(s.holding_reply);
  const perMinute = numberInput(s.replies_per_minute, MAX_REPLIES_PER_MINUTE);
  const hoursOn = checkbox('as-hours-enabled', t('set_asHoursEnabled'), hours.enabled, t('set_asHoursEnabledHint'));
  const tz = textInput(hours.time_zone || DEFAULT_TIME_ZONE, 64);
  tz.spellcheck = false;
  const days = [0, 1, 2, 3, 4, 5, 6].map((d) => {
    const i = textInput(formatSpans(weekly[d]), 200);
    i.placeholder = t('set_asClosed');
    i.setAttribute('data-testid', 'as-weekly-' + d);
    return i;
  });
  const holidays = textArea((hours.holidays || []).join('\n'), 3);
  holidays.spellcheck = false;
  const offReply = textArea(s.off_hours_reply);
  const offMode = select([['queue', t('set_asOffQueue')], ['leave_message', t('set_asOffLeaveMessage')]], s.off_hours_mode || 'queue');

  // controls maps the API's field paths to the inputs: hours.* one level down, weekly by day.
  const controls = {
    enabled: enabled.input, name, avatar, greeting, quick_questions: quick, bot_first: botFirst.input,
    fallback_reply: fallback, handover_reply: handover, busy_reply: busy, holding_seconds: holdingSeconds,
    holding_reply: holdingReply, replies_per_minute: perMinute, off_hours_reply: offReply, off_hours_mode: offMode,
    'hours.enabled': hoursOn.input, 'hours.time_zone': tz, 'hours.holidays': holidays,
  };
  const byCode = {
    invalid_name: 'name', invalid_avatar: 'avatar', invalid_quick_questions: 'quick_questions', invalid_replies_per_minute: 'replies_per_minute',
    invalid_holding_seconds: 'holding_seconds', invalid_off_hours_mode: 'off_hours_mode', invalid_time_zone: 'hours.time_zone',
    invalid_holiday: 'hours.holidays',
  };
  const err = errorLine('assistant-error');
  const errors = fieldErrors(err, (path, e) => {
    const p = parsePath(path);
    if (p[0] === 'hours' && p[1] === 'weekly' && typeof p[2] === 'number' && days[p[2]]) return { control: days[p[2]] };
    const key = p[0] === 'hours' ? 'hours.' + p[1] : p[0];
    const at = controls[key] ? key : byCode[e.code];
    if (!controls[at]) return null;
    const lines = at === 'quick_questions' ? quick : at === 'hours.holidays' ? holidays : null;
    const index = p[0] === 'hours' ? p[2] : p[1];
    return { control: controls[at], line: lines && typeof index === 'number' ? lineOf(lines.value, index) : 0 };
  });
  for (const c of [...Object.values(controls), ...days]) c.addEventListener('input', () => { status.textContent = ''; });

  const dayFields = days.map((input, d) => checkedField('as-weekly-' + d, t('set_weekday_' + d), input));
  const form = h('form', { class: 'set-form', 'data-testid': 'assistant-form', novalidate: true }, [
    enabled,
    checkedField('as-name', t('set_asName'), name, t('set_asNameHint')),
    checkedField('as-avatar', t('set_asAvatar'), avatar, t('set_asAvatarHint')),
    checkedField('as-greeting', t('set_asGreeting'), greeting),
    checkedField('as-quick-questions', t('set_asQuickQuestions'), quick, t('set_asQuickQuestionsHint')),
    h('fieldset', { class: 'set-fieldset' }, [
      h('legend', { text: t('set_asBotFirstLegend') }),
      botFirst,
      checkedField('as-fallback-reply', t('set_asFallbackReply'), fallback, t('set_asFallbackReplyHint')),
      checkedField('as-handover-reply', t('set_asHandoverReply'), handover, t('set_asHandoverReplyHint')),
    ]),
    h('fieldset', { class: 'set-fieldset' }, [
      h('legend', { text: t('set_asWaitingLegend') }),
      checkedField('as-busy-reply', t('set_asBusyReply'), busy, t('set_asBusyReplyHint')),
      checkedField('as-holding-seconds', t('set_asHoldingSeconds'), holdingSeconds, t('set_asHoldingSecondsHint', { max: MAX_HOLDING_SECONDS })),
      checkedField('as-holding-reply', t('set_asHoldingReply'), holdingReply),
      checkedField('as-replies-per-minute', t('set_asRepliesPerMinute'), perMinute, t('set_asRepliesPerMinuteHint', { max: MAX_REPLIES_PER_MINUTE })),
    ]),
    h('fieldset', { class: 'set-fieldset', 'data-testid': 'as-hours' }, [
      h('legend', { text: t('set_asHoursLegend') }),
      hoursOn,
      checkedField('as-time-zone', t('set_asTimeZone'), tz, t('set_asTimeZoneHint')),
      h('p', { class: 'set-hint', text: t('set_asSpansHint') }),
      ...dayFields,
      checkedField('as-holidays', t('set_asHolidays'), holidays, t('set_asHolidaysHint')),
      checkedField('as-off-hours-reply', t('set_asOffHoursReply'), offReply, t('set_asOffHoursReplyHint')),
      checkedField('as-off-hours-mode', t('set_asOffHoursMode'), offMode),
    ]),
    err,
    h('div', { class: 'set-actions' }, [h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'assistant-save', text: t('set_save') }), status]),
  ]);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const spans = [];
    for (let d = 0; d < 7; d++) {
      const v = parseSpans(days[d].value);
      if (v == null) {
        errors.at(days[d], t('set_err_invalid_hours'));
        return;
      }
      spans.push(v);
    }
    const hs = parseWhole(holdingSeconds.value, 0, MAX_HOLDING_SECONDS);
    if (hs == null) {
      errors.at(holdingSeconds, t('set_invalidNumber', { label: t('set_asHoldingSeconds'), min: 0, max: MAX_HOLDING_SECONDS }));
      return;
    }
    const rpm = parseWhole(perMinute.value, 0, MAX_REPLIES_PER_MINUTE);
    if (rpm == null) {
      errors.at(perMinute, t('set_invalidNumber', { label: t('set_asRepliesPerMinute'), min: 0, max: MAX_REPLIES_PER_MINUTE }));
      return;
    }
    // The whole object: fields this console does not know yet go back as they came.
    const out = {
      ...s,
      enabled: enabled.input.checked,
      name: name.value.trim(),
      avatar: avatar.value.trim(),
      greeting: greeting.value.trim(),
      quick_questions: splitLines(quick.value),
      bot_first: botFirst.input.checked,
      fallback_reply: fallback.value.trim(),
      handover_reply: handover.value.trim(),
      busy_reply: busy.value.trim(),
      holding_seconds: hs,
      holding_reply: holdingReply.value.trim(),
      replies_per_minute: rpm,
      hours: { ...hours, enabled: hoursOn.input.checked, time_zone: tz.value.trim() || DEFAULT_TIME_ZONE, weekly: spans, holidays: splitLines(holidays.value) },
      off_hours_reply: offReply.value.trim(),
      off_hours_mode: offMode.value,
    };
    let stored;
    const ok = await submitting(form, errors, async () => {
      stored = unwrap(await api('PUT', '/api/v1/assistant', out), 'assistant');
    });
    if (!ok) return;
    settings = stored || out;
    saved = true;
    toast(t('set_assistantSaved'));
    ctx.redraw();
    ctx.focus('[data-testid=assistant-save]');
  });
  return h('section', { class: 'set-card' }, [form]);
}
