// Satisfaction ratings (CSAT, docs/protocol.md): inviting the buyer to rate an open
// conversation, and the rating frame that tells the console the stars landed. Who may invite
// is access.js (canInviteRating).
import { state, scheduleRender, isMine } from './state.js';
import { t } from './strings.js';
import { toast } from './dom.js';
import { api, report } from './api.js';
import { upsertConv } from './convs.js';

// inviteRating asks the buyer to rate the conversation now: the widget shows its stars.
export async function inviteRating(id) {
  const rev = state.rev;
  try {
    const r = await api('POST', '/api/v1/conversations/' + encodeURIComponent(id) + '/rating-invite');
    if (r.conversation) upsertConv(r.conversation, false, rev);
    toast(t('ratingInviteDone'));
  } catch (err) {
    report(err);
  }
}

// onRatingFrame: the buyer rated a conversation; its header shows the stars, and the agent
// who served it hears of it.
export function onRatingFrame(f) {
  const conv = state.convs.get(f.conversation_id);
  if (!conv || typeof f.stars !== 'number') return;
  conv.rating = f.stars;
  conv.rating_comment = f.comment || '';
  conv.rated_at = f.rated_at || null;
  if (isMine(conv)) toast(t('ratedToast', { stars: starsText(f.stars) }));
  scheduleRender();
}

// starsText draws 1 to 5 stars out of five: ★★★★☆.
export function starsText(n) {
  const k = Math.max(0, Math.min(5, Math.round(n) || 0));
  return '★'.repeat(k) + '☆'.repeat(5 - k);
}
