// The console's words in zh-CN (the default) and en, and t() to look them up in the current
// language (state.lang). Each concern keeps its strings in a file of strings/; a new page adds
// its own file and one line to TABLES. A key defined in two files is an error at load time, so
// one concern cannot silently reword another's.
import { state } from './state.js';
import shell from './strings/shell.js';
import errors from './strings/errors.js';
import list from './strings/list.js';
import chat from './strings/chat.js';
import buyer from './strings/buyer.js';
import settings from './strings/settings.js';
import assistant from './strings/assistant.js';
import search from './strings/search.js';
import reports from './strings/reports.js';

export const LANGS = ['zh-CN', 'en'];

const TABLES = [shell, errors, list, chat, buyer, settings, assistant, search, reports];

// mergeStrings joins per-concern tables into one per language; it throws on a key defined twice.
export function mergeStrings(tables) {
  const out = {};
  for (const lang of LANGS) out[lang] = {};
  for (const table of tables) {
    for (const lang of LANGS) {
      for (const [k, v] of Object.entries(table[lang] || {})) {
        if (k in out[lang]) throw new Error('string ' + lang + '.' + k + ' is defined twice');
        out[lang][k] = v;
      }
    }
  }
  return out;
}

export const STRINGS = mergeStrings(TABLES);

// t is the string for key in the current language, falling back to zh-CN, then to the key;
// {name} placeholders take vars' values (as text: callers put it in the page as text nodes).
export function t(key, vars) {
  let s = (STRINGS[state.lang] || STRINGS['zh-CN'])[key];
  if (s == null) s = STRINGS['zh-CN'][key];
  if (s == null) s = key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

// hasString says whether key has words, for codes from the server that may be newer than us.
export function hasString(key) {
  return key in (STRINGS[state.lang] || {}) || key in STRINGS['zh-CN'];
}

// normLang maps a language tag (?lang=, a saved choice) to one we speak, or null.
export function normLang(v) {
  if (!v) return null;
  if (/^en/i.test(v)) return 'en';
  if (/^zh/i.test(v)) return 'zh-CN';
  return null;
}
