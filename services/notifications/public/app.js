// The live list: newest on top, each notification once (by id), over Server-Sent Events. The browser's
// EventSource reconnects by itself and sends Last-Event-ID, so nothing is missed across a dropped line.
const feed = document.getElementById('feed');
const empty = document.getElementById('empty');
const connection = document.getElementById('connection');
const shown = new Set();

function show(notification) {
  if (shown.has(notification.id)) return;
  shown.add(notification.id);
  const row = document.createElement('tr');
  row.dataset.orderId = notification.orderId;
  row.dataset.kind = notification.kind;
  for (const text of [new Date(notification.time).toLocaleTimeString(), notification.orderId, notification.text]) {
    const cell = document.createElement('td');
    cell.textContent = text; // data, never markup
    row.append(cell);
  }
  feed.prepend(row);
  empty.hidden = true;
}

function setConnection(state, label) {
  connection.dataset.state = state;
  connection.textContent = label;
}

const events = new EventSource('/events');
events.addEventListener('open', () => setConnection('live', 'live'));
events.addEventListener('error', () => setConnection('reconnecting', 'reconnecting…'));
events.addEventListener('notification', (event) => show(JSON.parse(event.data)));
