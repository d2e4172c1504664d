// The message box of the open conversation: what is typed there is that conversation's draft
// (kept per conversation while the agent switches), sending (Enter; Shift+Enter is a new line),
// the length limit, typing notices, and putting a refused message back to edit it. The `/`
// quick-phrase picker is views/picker.js; a phrase's variable left unfilled stops the send.
import { state, isMine } from '../state.js';
import { t } from '../strings.js';
import { byId, charCount } from '../dom.js';
import { sendText, sendTyping, removeOutbox } from '../messages.js';
import { unfilledVariables } from '../phrases.js';
import * as picker from './picker.js';

const MAX_TEXT = 2000;
// Control characters the server refuses (all but tab and line breaks, protocol.md "Which
// characters are refused") cannot be seen in the composer; they are dropped, not sent.
const CONTROL_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;

let el = {};

export function init() {
  el = {
    composer: byId('composer'),
    input: byId('chat-input'),
    error: byId('composer-error'),
    charCount: byId('char-count'),
    send: byId('chat-send'),
  };
  el.composer.addEventListener('submit', (e) => {
    e.preventDefault();
    send();
  });
  el.input.addEventListener('keydown', onKeydown);
  el.input.addEventListener('input', onInput);
  picker.init(el.input, onInput);
}

export function render() {
  const conv = state.selectedId != null ? state.convs.get(state.selectedId) : null;
  if (!conv) return; // the chat area is hidden; leave the box as it was
  const mine = isMine(conv);
  el.input.disabled = !mine;
  el.send.disabled = !mine;
  if (!mine) picker.close();
}

export function reset() {
  el.input.value = '';
  el.error.textContent = '';
  picker.reset();
}

// composerText is what the box holds now: the open conversation's draft.
export function composerText() {
  return el.input.value;
}

// keepDraft keeps the box's text as the draft of conversation id (leaving it).
export function keepDraft(id) {
  if (el.input.value) state.drafts.set(id, el.input.value);
  else state.drafts.delete(id);
}

// showDraft fills the box with conversation id's draft (opening it).
export function showDraft(id) {
  el.input.value = state.drafts.get(id) || '';
  el.error.textContent = '';
  picker.close();
  updateCharCount();
}

export function clearComposer() {
  el.input.value = '';
  picker.close();
}

export function focusComposer() {
  if (!el.input.disabled) el.input.focus();
}

function send() {
  const id = state.selectedId;
  if (!isMine(state.convs.get(id))) return;
  const text = el.input.value.replace(CONTROL_CHARS, '').trim();
  if (!text) return;
  const n = charCount(text);
  if (n > MAX_TEXT) {
    el.error.textContent = t('textTooLong', { max: MAX_TEXT, n });
    return;
  }
  // A phrase's {order.no} that nobody filled in must not reach the buyer as written.
  const unfilled = unfilledVariables(text);
  if (unfilled.length) {
    el.error.textContent = t('fillVariablesFirst', { vars: unfilled.join(' ') });
    el.input.focus();
    return;
  }
  picker.close();
  el.error.textContent = '';
  el.input.value = '';
  state.drafts.delete(id);
  updateCharCount();
  state.scrollToBottom = true;
  sendText(id, text);
  el.input.focus();
}

// editOutbox puts a refused message back into the message box of its conversation.
export function editOutbox(cmid) {
  const item = removeOutbox(cmid);
  if (!item) return;
  if (item.conversation_id === state.selectedId && !el.input.disabled) {
    const cur = el.input.value.trim();
    el.input.value = cur ? item.text + '\n' + cur : item.text;
    updateCharCount();
    el.input.focus();
  }
}

function onKeydown(e) {
  if (picker.onKeydown(e)) return;
  // Not while an input method is composing (Chinese input confirms with Enter).
  if (e.key === 'Enter' && !e.shiftKey && !e.altKey && !e.isComposing && e.keyCode !== 229) {
    e.preventDefault();
    send();
  }
}

function onInput() {
  updateCharCount();
  picker.update();
  const conv = state.convs.get(state.selectedId);
  if (!isMine(conv) || !el.input.value.trim()) return;
  sendTyping(conv.id);
}

function updateCharCount() {
  const n = charCount(el.input.value);
  el.charCount.textContent = n > MAX_TEXT * 0.9 ? n + ' / ' + MAX_TEXT : '';
  el.charCount.classList.toggle('over', n > MAX_TEXT);
  if (n <= MAX_TEXT && el.error.textContent) el.error.textContent = '';
}
