// The live order page. Everything on it comes from the notifications service over Server-Sent Events: a
// catch-up first (a snapshot, or what was missed since the last event id), then one message per stored
// notification. Each notification is shown once (by its id), whatever is sent twice. Every text is set
// with textContent: customer text is data, never markup. Customers' names are personal data: the stream
// masks them until the person signs in with an approver's token (an HttpOnly cookie, which the stream sends).

const MAX_LINES = 1000;
const MAX_ORDERS = 300;
const STATE_LABELS = {
  received: 'received',
  waiting_for_approval: 'waiting for approval',
  approved: 'approved',
  paid: 'paid',
  shipped: 'shipped',
  failed: 'failed',
  cancelled: 'cancelled',
};

const FLAG_LABELS = { stalled: 'stalled', approval_deadline_near: 'deadline near' };
const FLAG_TITLES = {
  stalled: 'The watchdog found this order running for too long: see its notifications.',
  approval_deadline_near: 'Its approval deadline is near: approve or reject it soon.',
};

const byId = (id) => document.getElementById(id);
const ui = {
  connection: byId('connection'),
  controls: byId('controls'),
  token: byId('approver-token'),
  filter: byId('filter'),
  orders: byId('orders'),
  orderCount: byId('order-count'),
  noOrders: byId('no-orders'),
  feed: byId('feed'),
  noLines: byId('no-lines'),
  access: byId('access'),
};

/** orderId → the latest summary (state, customer, deadline, version). */
const orders = new Map();
/** orderId → its card. */
const cards = new Map();
/** notification id → its row. */
const lines = new Map();
/** orderId → what became of the last Approve / Reject click. */
const notes = new Map();
/** Orders whose Approve / Reject request is under way. */
const sending = new Set();
/** Cards to build again although their summary did not change. */
const stale = new Set();
/** The newest event id seen: where a new connection picks up. */
let cursor;
let renderScheduled = false;
/** The live connection. */
let source;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const timeFormat = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

function formatTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : timeFormat.format(date);
}

function untilText(deadline) {
  const ms = new Date(deadline).getTime() - Date.now();
  if (!(ms > 0)) return 'deadline passed';
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 60) return `in ${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `in ${minutes} min`;
  return `in ${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

// ---- filter ----------------------------------------------------------------------------------------

function filterText() {
  return ui.filter.value.trim().toLowerCase();
}

function matches(orderId, query = filterText()) {
  if (!query) return true;
  const customer = orders.get(orderId)?.customer ?? '';
  return orderId.toLowerCase().includes(query) || customer.toLowerCase().includes(query);
}

function applyFilter() {
  const query = filterText();
  for (const row of lines.values()) row.hidden = !matches(row.dataset.orderId, query);
  for (const [orderId, card] of cards) card.hidden = !matches(orderId, query);
  const value = ui.filter.value.trim();
  history.replaceState(null, '', value ? `#${encodeURIComponent(value)}` : location.pathname);
}

function setFilter(value) {
  ui.filter.value = value;
  applyFilter();
}

// ---- notification lines ----------------------------------------------------------------------------

/** True when `row` is older than the event (rows are newest first). */
function olderThan(row, event) {
  const time = row.dataset.time;
  return time < event.time || (time === event.time && Number(row.dataset.at) < event.at);
}

function addLine(event) {
  if (lines.has(event.id)) return;
  const row = el('tr');
  row.dataset.id = event.id;
  row.dataset.orderId = event.orderId;
  row.dataset.kind = event.kind;
  row.dataset.time = event.time;
  row.dataset.at = String(event.at);
  const time = el('td', 'time', formatTime(event.time));
  time.title = event.time;
  const order = el('td', 'order-id');
  const link = el('button', 'order-link', event.orderId);
  link.type = 'button';
  link.dataset.filter = event.orderId;
  link.title = 'show only this order';
  order.append(link);
  row.append(time, order, el('td', 'text', event.text));
  row.hidden = !matches(event.orderId);

  let before = ui.feed.firstElementChild;
  while (before && !olderThan(before, event)) before = before.nextElementSibling;
  ui.feed.insertBefore(row, before);
  lines.set(event.id, row);

  while (lines.size > MAX_LINES) {
    const oldest = ui.feed.lastElementChild;
    if (!oldest) break;
    oldest.remove();
    lines.delete(oldest.dataset.id);
  }
  ui.noLines.hidden = lines.size > 0;
}

// ---- orders ----------------------------------------------------------------------------------------

function upsertOrder(summary) {
  const known = orders.get(summary.orderId);
  if (known && known.version > summary.version) return;
  orders.set(summary.orderId, summary);
  scheduleRender();
}

/** Orders that wait for a person first (soonest deadline first), then the most recently updated. */
function compareOrders(a, b) {
  const aWaits = a.state === 'waiting_for_approval';
  const bWaits = b.state === 'waiting_for_approval';
  if (aWaits !== bWaits) return aWaits ? -1 : 1;
  if (aWaits) return String(a.deadline ?? '').localeCompare(String(b.deadline ?? ''));
  return b.updatedAt - a.updatedAt;
}

function buildCard(summary) {
  const { orderId, state } = summary;
  const card = el('li', 'order');
  card.dataset.orderId = orderId;
  card.dataset.state = state;
  card.dataset.version = String(summary.version);

  const head = el('div', 'order-head');
  const link = el('button', 'order-link', orderId);
  link.type = 'button';
  link.dataset.filter = orderId;
  link.title = 'show only this order';
  const badge = el('span', 'state', STATE_LABELS[state] ?? state);
  badge.dataset.state = state;
  const badges = el('span', 'badges');
  // What the stuck-order watchdog raised, while it still applies: a mark before the state.
  for (const flag of summary.flags ?? []) {
    const mark = el('span', 'flag', `⚠ ${FLAG_LABELS[flag] ?? flag}`);
    mark.dataset.flag = flag;
    mark.title = FLAG_TITLES[flag] ?? '';
    badges.append(mark);
  }
  badges.append(badge);
  head.append(link, badges);

  const meta = el('div', 'order-meta');
  meta.append(
    el('span', 'customer', summary.customer ?? ''),
    el('span', 'since', `placed ${formatTime(summary.createdAt)}`),
  );
  card.append(head, meta);

  if (summary.reason) card.append(el('div', 'reason', summary.reason));
  if (state === 'waiting_for_approval') {
    if (summary.deadline) {
      const deadline = el('div', 'deadline', `deadline ${formatTime(summary.deadline)} `);
      deadline.title = summary.deadline;
      const until = el('span', 'until', `(${untilText(summary.deadline)})`);
      until.dataset.deadline = summary.deadline;
      deadline.append(until);
      card.append(deadline);
    }
    const actions = el('div', 'actions');
    for (const [action, label] of [
      ['approve', 'Approve'],
      ['reject', 'Reject'],
    ]) {
      const button = el('button', `action ${action}`, label);
      button.type = 'button';
      button.dataset.action = action;
      button.dataset.orderId = orderId;
      button.disabled = sending.has(orderId);
      actions.append(button);
    }
    card.append(actions);
  }
  const note = notes.get(orderId);
  if (note) card.append(el('p', `note ${note.ok ? 'ok' : 'problem'}`, note.text));
  card.hidden = !matches(orderId);
  return card;
}

function scheduleRender() {
  if (renderScheduled) return;
  renderScheduled = true;
  requestAnimationFrame(render);
}

function render() {
  renderScheduled = false;
  const sorted = [...orders.values()].sort(compareOrders);
  for (const dropped of sorted.splice(MAX_ORDERS)) {
    orders.delete(dropped.orderId);
    cards.get(dropped.orderId)?.remove();
    cards.delete(dropped.orderId);
  }
  let previous = null;
  for (const summary of sorted) {
    let card = cards.get(summary.orderId);
    if (!card || card.dataset.version !== String(summary.version) || stale.has(summary.orderId)) {
      const fresh = buildCard(summary);
      card?.replaceWith(fresh);
      card = fresh;
      cards.set(summary.orderId, card);
    }
    const expected = previous ? previous.nextElementSibling : ui.orders.firstElementChild;
    if (card !== expected) ui.orders.insertBefore(card, expected);
    previous = card;
  }
  stale.clear();
  ui.noOrders.hidden = orders.size > 0;
  ui.orderCount.textContent = orders.size > 0 ? `(${orders.size})` : '';
}

function tick() {
  for (const until of ui.orders.querySelectorAll('.until[data-deadline]')) {
    until.textContent = `(${untilText(until.dataset.deadline)})`;
  }
}

// ---- approve / reject ------------------------------------------------------------------------------

function note(orderId, ok, text) {
  notes.set(orderId, { ok, text });
  stale.add(orderId);
  scheduleRender();
}

const capitalised = (text) => text.charAt(0).toUpperCase() + text.slice(1);

async function decide(orderId, approved) {
  const token = ui.token.value.trim();
  if (!token) {
    note(orderId, false, 'Enter your approver token first.');
    ui.token.focus();
    return;
  }
  sending.add(orderId);
  note(orderId, true, approved ? 'Sending the approval…' : 'Sending the rejection…');
  try {
    // The approver is whoever the token belongs to: orderprocessing checks it (this page only passes it on).
    const response = await fetch(`/api/orders/${encodeURIComponent(orderId)}/approve`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ approved }),
    });
    const body = await response.json().catch(() => ({}));
    if (response.ok)
      note(orderId, true, `${capitalised(body.message ?? (approved ? 'approval sent' : 'rejection sent'))}.`);
    else note(orderId, false, `Not sent (${response.status}): ${body.message ?? response.statusText}`);
  } catch (error) {
    note(orderId, false, `Not sent: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    sending.delete(orderId);
    stale.add(orderId);
    scheduleRender();
  }
}

// ---- the live connection ---------------------------------------------------------------------------

function setConnection(state) {
  ui.connection.dataset.state = state;
  ui.connection.textContent = { live: 'live', reconnecting: 'reconnecting…', connecting: 'connecting…' }[state];
}

function advance(id) {
  const value = Number(id);
  if (Number.isSafeInteger(value) && (cursor === undefined || value > cursor)) cursor = value;
}

let retryTimer;

function connect() {
  // EventSource reconnects by itself and sends Last-Event-ID; `after` covers a connection made anew.
  source = new EventSource(cursor === undefined ? '/events' : `/events?after=${cursor}`);
  source.addEventListener('open', () => setConnection('live'));
  source.addEventListener('error', () => {
    setConnection('reconnecting');
    if (source.readyState === EventSource.CLOSED) {
      // The server refused (e.g. its store was down): EventSource gives up on that, so try again here.
      clearTimeout(retryTimer);
      retryTimer = setTimeout(connect, 3000);
    }
  });
  source.addEventListener('catchup', (message) => {
    const catchup = JSON.parse(message.data);
    showAccess(catchup.masked === true);
    for (const summary of catchup.orders) upsertOrder(summary);
    for (const event of catchup.events) addLine(event);
    advance(message.lastEventId);
    setConnection('live');
  });
  source.addEventListener('notification', (message) => {
    const { event, order } = JSON.parse(message.data);
    upsertOrder(order);
    addLine(event);
    advance(message.lastEventId);
  });
}

// ---- signing in to see names -------------------------------------------------------------------------

/** The stream masks names: nobody has signed in in this browser yet. */
let masked = false;
function showAccess(isMasked) {
  masked = isMasked;
  ui.access.hidden = !isMasked;
}

/** Everything shown so far, forgotten: the next connection starts from a snapshot (now with names). */
function startOver() {
  source?.close();
  clearTimeout(retryTimer);
  cursor = undefined;
  orders.clear();
  cards.clear();
  lines.clear();
  ui.orders.replaceChildren();
  ui.feed.replaceChildren();
  scheduleRender();
  connect();
}

let signInTimer;
/** Signs in with the token typed (the server keeps it in an HttpOnly cookie), then shows the names. */
function signInSoon() {
  clearTimeout(signInTimer);
  signInTimer = setTimeout(async () => {
    const token = ui.token.value.trim();
    if (!token) return;
    const response = await fetch('/api/session', { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    // Already signed in: the cookie now holds this token, and what is shown stays.
    if (response.ok && masked) startOver();
  }, 300);
}

// ---- start -----------------------------------------------------------------------------------------

ui.controls.addEventListener('submit', (event) => event.preventDefault());
ui.filter.addEventListener('input', applyFilter);
ui.token.addEventListener('input', signInSoon);
// The token stays for this tab's session only (sessionStorage), never in localStorage.
try {
  ui.token.value = sessionStorage.getItem('approverToken') ?? '';
  ui.token.addEventListener('input', () => sessionStorage.setItem('approverToken', ui.token.value.trim()));
} catch {
  // no storage: the token is asked for after each reload
}
document.addEventListener('click', (event) => {
  const target = event.target instanceof Element ? event.target : null;
  const action = target?.closest('button[data-action]');
  if (action) {
    void decide(action.dataset.orderId, action.dataset.action === 'approve');
    return;
  }
  const filter = target?.closest('[data-filter]');
  if (filter) setFilter(filter.dataset.filter === ui.filter.value ? '' : filter.dataset.filter);
});
try {
  if (location.hash.length > 1) ui.filter.value = decodeURIComponent(location.hash.slice(1));
} catch {
  // a malformed hash: no filter
}
setInterval(tick, 1000);
connect();
