// REST calls (docs/openapi.yaml) with the session's token, a timeout, and answers of a session
// that has ended since dropped (Cancelled) rather than applied to the next one.
import { state } from './state.js';
import { t, hasString } from './strings.js';
import { toast } from './dom.js';
import { expireSession } from './session.js';

const API_TIMEOUT_MS = 20000; // a REST call that hangs longer counts as a network error

// ApiError is a refused or failed call: status 0 and code 'network' when there was no answer.
export class ApiError extends Error {
  constructor(status, code, message, extra) {
    super(message || code);
    this.status = status;
    this.code = code;
    // field: the input the server names (a JSON path such as "patterns[1]"); rows: the refused
    // rows of a CSV import. Both only when the answer has them.
    this.field = (extra && extra.field) || '';
    this.rows = (extra && extra.rows) || null;
  }
}

// Cancelled is thrown for an answer that came after the session it belonged to ended; callers
// drop it silently.
export class Cancelled extends Error {
  constructor() {
    super('cancelled');
    this.cancelled = true;
  }
}

// api calls the REST API and answers its JSON body ({} for 204). opts.noAuth: no token (login);
// opts.type: body is sent as it is (a string or a File) with this content type; opts.blob: the
// answer is a Blob (a file to download), not JSON.
export async function api(method, path, body, opts) {
  const gen = state.sessionGen;
  const noAuth = opts && opts.noAuth;
  const raw = opts && opts.type;
  const asBlob = opts && opts.blob;
  const headers = { Accept: asBlob ? '*/*' : 'application/json' };
  if (!noAuth && state.session) headers.Authorization = 'Bearer ' + state.session.token;
  if (body !== undefined) headers['Content-Type'] = raw || 'application/json';
  let res;
  // A request that hangs (a dead network) must not block what waits for it, e.g. refreshList.
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), API_TIMEOUT_MS);
  let data = null;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined || raw ? body : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      signal: abort.signal,
    });
    if (gen === state.sessionGen && res.ok && asBlob) {
      data = await res.blob();
    } else if (gen === state.sessionGen && res.status !== 204) {
      try {
        data = await res.json();
      } catch (e) {
        // A success whose body did not arrive whole is no answer (an error may be plain text).
        if (res.ok) throw e;
        data = null;
      }
    }
  } catch (e) {
    if (gen !== state.sessionGen) throw new Cancelled();
    throw new ApiError(0, 'network', String((e && e.message) || e));
  } finally {
    clearTimeout(timer);
  }
  if (gen !== state.sessionGen) throw new Cancelled();
  if (!res.ok) {
    const e = (data && data.error) || {};
    if (res.status === 401 && !noAuth && state.session) {
      expireSession();
      throw new Cancelled();
    }
    throw new ApiError(res.status, e.code || 'http_' + res.status, e.message || res.statusText,
      { field: typeof e.field === 'string' ? e.field : '', rows: data && Array.isArray(data.rows) ? data.rows : null });
  }
  return data || {};
}

// errText words an error ({code, message}) for the agent: our string for its code, else the
// server's message.
export function errText(err) {
  if (!err) return '';
  if (err.code && hasString('err_' + err.code)) return t('err_' + err.code);
  return t('errGeneric', { msg: err.message || err.code || '?' });
}

// report shows a failed call as a toast (a cancelled one is nobody's business any more).
export function report(err) {
  if (!err || err.cancelled) return;
  toast(errText(err), 'error');
}
