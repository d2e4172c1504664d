// Pure rules of the order panel (views/buyer.js) and the chat's linked-orders bar: which
// orders show in what order, and how an order's status history reads. No DOM, no state, so
// node:test covers them (agent/jstest/orders.test.js).

// arrangeOrders lists the orders the panel shows: those linked to the conversation first (in
// the order the server gives them: newest link first), then the buyer's other orders, each
// once, with linked set. A linked order missing from the buyer's list (beyond its page) still
// shows, from the linked list.
export function arrangeOrders(buyerOrders, linkedOrders) {
  const linked = Array.isArray(linkedOrders) ? linkedOrders : [];
  const all = Array.isArray(buyerOrders) ? buyerOrders : [];
  const linkedNos = new Set(linked.map((o) => o && o.order_no).filter(Boolean));
  const byNo = new Map(all.filter((o) => o && o.order_no).map((o) => [o.order_no, o]));
  const out = [];
  const seen = new Set();
  for (const l of linked) {
    if (!l || !l.order_no || seen.has(l.order_no)) continue;
    seen.add(l.order_no);
    out.push({ order: byNo.get(l.order_no) || l, linked: true });
  }
  for (const o of all) {
    if (!o) continue;
    const no = o.order_no;
    if (no && seen.has(no)) continue;
    if (no) seen.add(no);
    out.push({ order: o, linked: !!no && linkedNos.has(no) });
  }
  return out;
}

// historyLines words an order's status history, oldest first, one line per change:
// "<status word> · <time>". statusWord and fmt (a time in the agent's local zone) are given,
// so the words follow the console's language. Entries without a status are skipped.
export function historyLines(history, statusWord, fmt) {
  if (!Array.isArray(history)) return [];
  return history
    .filter((e) => e && e.status)
    .sort((a, b) => String(a.at || '').localeCompare(String(b.at || '')))
    .map((e) => {
      const when = e.at ? fmt(e.at) : '';
      return when ? statusWord(e.status) + ' · ' + when : statusWord(e.status);
    });
}
