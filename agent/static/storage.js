// What the console keeps in the browser: the session and preferences in localStorage (shared by
// the agent's tabs), the open conversation in sessionStorage (one per tab). Storage may be
// disabled (private mode, policy): then nothing is kept and nothing breaks.
export const SESSION_KEY = 'kefu:agent:session';
export const LANG_KEY = 'kefu:agent:lang';
export const SHOP_KEY = 'kefu:agent:shop';
export const SELECTED_KEY = 'kefu:agent:selected';

// store writes (or, with value null, removes) key in 'session' or 'local' storage.
export function store(kind, key, value) {
  try {
    const s = kind === 'session' ? sessionStorage : localStorage;
    if (value == null) s.removeItem(key);
    else s.setItem(key, value);
  } catch (_) { /* storage may be disabled */ }
}

export function load(kind, key) {
  try {
    return (kind === 'session' ? sessionStorage : localStorage).getItem(key);
  } catch (_) {
    return null;
  }
}
