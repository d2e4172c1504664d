// Settings › 我的: what belongs to the viewer alone, drawn at the foot of the quick phrases page,
// the page every agent reaches. Today the away reply: what a buyer who writes to the viewer while
// they are away is told (PATCH /api/v1/agents/{id} away_reply, at most 500 characters; an agent
// sets their own).
import { t } from '../../strings.js';
import { h, toast } from '../../dom.js';
import { api } from '../../api.js';
import { checkedField, errorLine, fieldErrors, submitting } from './forms.js';

const MAX_AWAY_REPLY = 500;

// awaySection is the form for the viewer's away reply.
export function awaySection(ctx) {
  const me = (ctx.data.agents || []).find((a) => a.id === ctx.viewer.id) || ctx.viewer;
  const input = h('textarea', { rows: '2', class: 'set-textarea', maxlength: String(MAX_AWAY_REPLY), 'data-testid': 'away-reply-input', placeholder: t('set_awayReplyPlaceholder') });
  input.value = me.away_reply || '';
  const status = h('p', { class: 'set-status', role: 'status', 'data-testid': 'away-reply-status' });
  input.addEventListener('input', () => { status.textContent = ''; });
  const err = errorLine('away-reply-form-error');
  const errors = fieldErrors(err, (path, e) => (path === 'away_reply' || e.code === 'invalid_away_reply' || e.code === 'text_too_long' ? { control: input } : null));
  const form = h('form', { class: 'set-form', 'data-testid': 'away-reply-form', novalidate: true }, [
    checkedField('away-reply', t('set_awayReply'), input, t('set_awayReplyHint', { max: MAX_AWAY_REPLY })),
    err,
    h('div', { class: 'set-actions' }, [h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'away-reply-save', text: t('set_save') }), status]),
  ]);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if ([...text].length > MAX_AWAY_REPLY) {
      errors.at(input, t('set_awayReplyTooLong', { max: MAX_AWAY_REPLY }));
      return;
    }
    let agent;
    const ok = await submitting(form, errors, async () => {
      agent = (await api('PATCH', '/api/v1/agents/' + encodeURIComponent(ctx.viewer.id), { away_reply: text })).agent;
    });
    if (!ok) return;
    if (agent) ctx.putAgent(agent);
    input.value = (agent && agent.away_reply != null) ? agent.away_reply : text;
    status.textContent = t('set_saved');
    toast(t('set_awayReplySaved'));
  });
  return h('section', { class: 'set-card', 'aria-labelledby': 'mine-heading', 'data-testid': 'mine-section' }, [
    h('h3', { class: 'set-subheading', id: 'mine-heading', text: t('set_mineHeading') }),
    form,
  ]);
}
