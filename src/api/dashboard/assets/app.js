// Baygate broker dashboard: plain modern JS, no build step, no third-party code.
// Everything shown comes from the broker API with the key kept in sessionStorage; text from the server is
// always set with textContent (never parsed as HTML).

const KEY_STORAGE = 'baygate.apiKey';
const STATUS_ORDER = [
  'accepted',
  'signed',
  'queued',
  'delivered',
  '1',
  '2',
  '3',
  '4',
  '120',
  '300',
  '500',
  '501',
  '502',
  '503',
  '599',
  '399',
  '800',
  '899',
  '700',
  '100',
  'failed',
];
const OK_FINAL = new Set(['899', '800']);
const FILED_ONLY = new Set(['CEB311', 'CEB411', 'CEB511', 'CEB303', 'CEB505']);

const $ = (selector) => document.querySelector(selector);

const state = {
  key: sessionStorage.getItem(KEY_STORAGE) || '',
  filters: {},
  nextCursor: undefined,
  rows: new Map(),
  centers: [],
  stream: undefined,
  statsTimer: undefined,
  refreshTimer: undefined,
  openTimeline: undefined,
  lastEventId: undefined,
};

/** Builds an element; children are nodes or strings (set as text, never HTML). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'className') node.className = value;
    else if (name.startsWith('on') && typeof value === 'function') node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function statusClass(status, messageType) {
  if (OK_FINAL.has(status) || (FILED_ONLY.has(messageType) && (status === '120' || status === '399')))
    return 'status ok';
  if (status === '100' || status === 'failed' || status === '700' || /^-\d+$/.test(status)) return 'status bad';
  return 'status';
}

class AuthError extends Error {}

async function api(path, params = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') url.searchParams.set(k, v);
  const res = await fetch(url, { headers: { authorization: `Bearer ${state.key}`, accept: 'application/json' } });
  if (res.status === 401) throw new AuthError('The API key was not accepted.');
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.detail || body.title || `HTTP ${res.status}`);
  return body;
}

function handleError(err) {
  if (err instanceof AuthError) return logout(err.message);
  console.error(err);
}

// ---------------------------------------------------------------------------------------------------------
// Session

async function login(key) {
  state.key = key.trim();
  try {
    await api('/v1/declarations', { limit: '1' });
  } catch (err) {
    state.key = '';
    $('#login-error').textContent =
      err instanceof AuthError ? 'This API key is unknown, revoked or expired.' : `Cannot log in: ${err.message}`;
    return;
  }
  sessionStorage.setItem(KEY_STORAGE, state.key);
  $('#login-error').textContent = '';
  $('#api-key').value = '';
  await showApp();
}

function logout(message = '') {
  sessionStorage.removeItem(KEY_STORAGE);
  state.key = '';
  state.stream?.abort();
  state.stream = undefined;
  clearInterval(state.statsTimer);
  $('#app-view').hidden = true;
  $('#session').hidden = true;
  $('#login-view').hidden = false;
  $('#login-error').textContent = message;
}

async function showApp() {
  $('#login-view').hidden = true;
  $('#app-view').hidden = false;
  $('#session').hidden = false;
  $('#who').textContent = `key ${state.key.split('.')[0]}`;
  connectStream();
  await Promise.all([refreshStats(), loadDeclarations(false)]).catch(handleError);
  await refreshCounts().catch(handleError);
  clearInterval(state.statsTimer);
  state.statsTimer = setInterval(() => refreshStats().then(refreshCounts).catch(handleError), 10000);
}

// ---------------------------------------------------------------------------------------------------------
// Counts, centers, stuck and rejected lists

async function refreshCounts() {
  const all = await api('/v1/declarations', { limit: '1' });
  const box = $('#status-counts');
  const statuses = Object.keys(all.counts).sort((a, b) => rank(a) - rank(b));
  box.replaceChildren(
    el(
      'div',
      { className: 'chip', 'data-testid': 'count-total', onclick: () => applyFilter({}) },
      el('b', {}, String(all.total)),
      el('span', {}, 'total'),
    ),
    ...statuses.map((s) =>
      el(
        'div',
        {
          className: `chip ${OK_FINAL.has(s) ? 'final-ok' : s === '100' || s === 'failed' || /^-/.test(s) ? 'final-bad' : ''}`,
          'data-testid': `count-${s}`,
          'data-status': s,
          title: `show status ${s}`,
          onclick: () => applyFilter({ status: s }),
        },
        el('b', {}, String(all.counts[s])),
        el('span', {}, s),
      ),
    ),
  );
  const perCenter = await Promise.all(
    state.centers.map((c) =>
      api('/v1/declarations', { limit: '1', center: c.center })
        .then((r) => [c.center, r.total])
        .catch(() => [c.center, undefined]),
    ),
  );
  for (const [center, total] of perCenter) {
    const cell = document.querySelector(`[data-center-total="${CSS.escape(center)}"]`);
    if (cell) cell.textContent = total === undefined ? '—' : String(total);
  }
}

function rank(status) {
  const i = STATUS_ORDER.indexOf(status);
  return i === -1 ? (/^-/.test(status) ? 1000 : 500) : i;
}

async function refreshStats() {
  const stats = await api('/v1/stats');
  state.centers = stats.centers;
  const select = document.querySelector('#filters select[name="center"]');
  if (select.options.length <= 1)
    for (const c of stats.centers) select.append(el('option', { value: c.center }, c.center));
  $('#center-table tbody').replaceChildren(
    ...stats.centers.map((c) =>
      el(
        'tr',
        { 'data-testid': `center-${c.center}`, onclick: () => applyFilter({ center: c.center }) },
        el('td', {}, c.center, ' ', el('small', {}, c.name ? c.name.zh : '')),
        el(
          'td',
          {
            className:
              c.state.status === 'interrupted' ? 'status bad' : c.state.status === 'available' ? 'status ok' : 'status',
            title: c.state.reason || '',
          },
          c.state.status,
        ),
        el('td', { 'data-center-total': c.center }, '…'),
        el(
          'td',
          {},
          'error' in c.backlog
            ? `unknown (${c.backlog.error})`
            : `${c.backlog.messages} queued${c.backlog.consumers !== undefined ? `, ${c.backlog.consumers} consumer(s)` : ''}`,
        ),
        el('td', {}, `${c.capacity.remaining} of ${c.capacity.daily}`),
      ),
    ),
  );
  $('#stuck-threshold').textContent =
    `(no change for ${Math.round(stats.stuck.thresholdSeconds / 60)} min or more: ${stats.stuck.total})`;
  $('#stuck').replaceChildren(
    ...(stats.stuck.items.length === 0
      ? [el('li', { className: 'hint' }, 'nothing stuck')]
      : stats.stuck.items.map((d) =>
          el(
            'li',
            { 'data-id': d.id, onclick: () => openTimeline(d.id) },
            `${d.orderNo} ${d.messageType} @${d.center}: `,
            el('span', { className: statusClass(d.status, d.messageType) }, `${d.status} ${d.label.zh}`),
            ` for ${Math.round(d.ageSeconds / 60)} min`,
          ),
        )),
  );
  $('#rejection-reasons').replaceChildren(
    ...stats.rejections.reasons.map((r) =>
      el(
        'li',
        { 'data-code': r.code },
        el('b', {}, `${r.count}×`),
        ` ${r.code} ${r.label.zh}: `,
        r.text || '(no text)',
      ),
    ),
  );
  const codes = new Set(['100', 'failed', ...stats.rejections.reasons.map((r) => r.code)]);
  const rejected = await api('/v1/declarations', { status: [...codes].join(','), limit: '50' });
  $('#rejected').replaceChildren(
    ...(rejected.items.length === 0
      ? [el('li', { className: 'hint' }, 'no rejected declarations')]
      : rejected.items.map((d) =>
          el(
            'li',
            { 'data-id': d.id, onclick: () => openTimeline(d.id) },
            `${d.orderNo} ${d.messageType}: `,
            el('span', { className: 'status bad' }, `${d.status} ${d.label.zh}`),
            d.lastError ? ` — ${d.lastError}` : '',
          ),
        )),
  );
}

/** Counts and lists follow the stream, at most about once a second. */
function scheduleRefresh() {
  if (state.refreshTimer) return;
  state.refreshTimer = setTimeout(() => {
    state.refreshTimer = undefined;
    refreshCounts().catch(handleError);
  }, 2000);
}

// ---------------------------------------------------------------------------------------------------------
// Declarations table

function filterParams() {
  const f = state.filters;
  const iso = (v) => (v ? new Date(v).toISOString() : undefined);
  return {
    orderNo: f.orderNo,
    status: f.status,
    center: f.center,
    messageType: f.messageType,
    seller: f.seller,
    from: iso(f.from),
    to: iso(f.to),
  };
}

function applyFilter(filters) {
  for (const input of $('#filters').elements) if (input.name) input.value = filters[input.name] ?? '';
  state.filters = filters;
  loadDeclarations(false).catch(handleError);
}

function row(d) {
  return el(
    'tr',
    {
      'data-id': d.id,
      'data-status': d.status,
      'data-order': d.orderNo,
      'data-updated': d.updatedAt,
      onclick: () => openTimeline(d.id),
    },
    el('td', { 'data-cell': 'updated' }, new Date(d.updatedAt).toLocaleString()),
    el('td', {}, d.orderNo),
    el('td', {}, d.messageType),
    el('td', {}, d.center),
    el('td', {}, d.sellerId),
    el('td', {}, d.buyerIdMasked || ''),
    el(
      'td',
      { 'data-cell': 'status', className: statusClass(d.status, d.messageType), title: d.label.en },
      `${d.status} ${d.label.zh}`,
    ),
  );
}

async function loadDeclarations(append) {
  const page = await api('/v1/declarations', {
    ...filterParams(),
    limit: '50',
    cursor: append ? state.nextCursor : undefined,
  });
  const body = $('#declarations tbody');
  if (!append) {
    body.replaceChildren();
    state.rows.clear();
  }
  for (const d of page.items) {
    const tr = row(d);
    state.rows.set(d.id, tr);
    body.append(tr);
  }
  state.nextCursor = page.nextCursor;
  $('#more').hidden = !page.nextCursor;
  $('#list-summary').textContent =
    `${page.total} declaration(s) match${Object.values(filterParams()).some(Boolean) ? ' the filter' : ''}; showing ${state.rows.size}.`;
}

// New declarations are fetched in small rounds, so a burst of events stays within the key's rate limit.
const newRows = new Set();
let newRowsTimer;
function queueNewRow(id) {
  newRows.add(id);
  if (newRowsTimer) return;
  newRowsTimer = setTimeout(async function flush() {
    const round = [...newRows].slice(0, 6);
    for (const id of round) newRows.delete(id);
    const fetched = await Promise.all(round.map((id) => declaration(id)));
    for (const d of fetched) if (d) upsertRow(d);
    newRowsTimer = newRows.size > 0 ? setTimeout(flush, 700) : undefined;
  }, 200);
}

function upsertRow(d) {
  const current = state.rows.get(d.id);
  if (current && current.dataset.updated > d.updatedAt) return;
  const fresh = row(d);
  fresh.classList.add('flash');
  if (current) current.replaceWith(fresh);
  else $('#declarations tbody').prepend(fresh);
  state.rows.set(d.id, fresh);
  if (!current) $('#list-summary').textContent = `showing ${state.rows.size} declaration(s), new ones arriving live.`;
}

function filtersEmpty() {
  return !Object.values(filterParams()).some(Boolean);
}

/** The broker view of one declaration (the timeline carries it with its labels). */
async function declaration(id) {
  const t = await api(`/v1/declarations/${encodeURIComponent(id)}/timeline`).catch(() => undefined);
  return t && t.declaration;
}

async function onStatusEvent(id, event) {
  const feed = $('#feed');
  feed.prepend(
    el(
      'li',
      { 'data-event-id': id, 'data-declaration': event.declarationId, 'data-status': event.status },
      `${new Date(event.at).toLocaleTimeString()} ${event.orderNo} ${event.messageType} @${event.center} → `,
      el('span', { className: statusClass(event.status, event.messageType) }, `${event.status} ${event.label.zh}`),
    ),
  );
  while (feed.children.length > 200) feed.lastElementChild.remove();

  const tr = state.rows.get(event.declarationId);
  if (tr) {
    // The event carries everything the row shows: no request. Status only moves forward, so an event that
    // ranks below what the row shows arrived late and changes nothing.
    if (rank(event.status) >= rank(tr.dataset.status)) {
      const cell = tr.querySelector('[data-cell="status"]');
      cell.className = statusClass(event.status, event.messageType);
      cell.title = event.label.en;
      cell.textContent = `${event.status} ${event.label.zh}`;
      tr.dataset.status = event.status;
      tr.querySelector('[data-cell="updated"]').textContent = new Date(event.at).toLocaleString();
      tr.classList.remove('flash');
      void tr.offsetWidth; // restart the highlight animation
      tr.classList.add('flash');
    }
  } else if (filtersEmpty()) {
    queueNewRow(event.declarationId);
  }
  if (state.openTimeline === event.declarationId) openTimeline(event.declarationId).catch(handleError);
  scheduleRefresh();
}

// ---------------------------------------------------------------------------------------------------------
// Timeline

async function openTimeline(id) {
  const t = await api(`/v1/declarations/${encodeURIComponent(id)}/timeline`);
  state.openTimeline = id;
  const d = t.declaration;
  $('#timeline-view').hidden = false;
  $('#timeline-head').replaceChildren(
    el('b', {}, `${d.messageType} ${d.orderNo}`),
    ` · seller ${d.sellerId} · center ${d.center} · buyer ${d.buyerIdMasked || '—'} · `,
    el(
      'span',
      { className: statusClass(d.status, d.messageType), 'data-testid': 'timeline-status' },
      `${d.status} ${d.label.zh} (${d.label.en})`,
    ),
  );
  $('#timeline').replaceChildren(
    ...t.steps.map((s) =>
      el(
        'li',
        { 'data-status': s.status },
        el('span', { className: statusClass(s.status, d.messageType) }, `${s.status} ${s.label.zh}`),
        ` ${new Date(s.at).toLocaleString()} · ${s.source}`,
        s.info ? ` — ${s.info}` : '',
        s.receipt
          ? el(
              'div',
              { className: 'receipt', 'data-receipt': s.receipt.id },
              `receipt ${s.receipt.type} ${s.receipt.id}`,
              s.receipt.signer ? ` · signed by ${s.receipt.signer.subject} (serial ${s.receipt.signer.serialHex})` : '',
              s.receipt.returnInfo ? ` · ${s.receipt.returnInfo}` : '',
            )
          : '',
      ),
    ),
  );
  $('#timeline-view').scrollIntoView({ block: 'nearest' });
}

// ---------------------------------------------------------------------------------------------------------
// Live stream: fetch + ReadableStream (EventSource cannot send an Authorization header)

function setLive(s) {
  const pill = $('#live-state');
  pill.dataset.state = s;
  pill.textContent = s;
}

function connectStream() {
  state.stream?.abort();
  const controller = new AbortController();
  state.stream = controller;
  (async () => {
    let retryMs = 2000;
    while (!controller.signal.aborted) {
      try {
        setLive('connecting');
        const headers = { authorization: `Bearer ${state.key}`, accept: 'text/event-stream' };
        if (state.lastEventId) headers['last-event-id'] = state.lastEventId;
        const res = await fetch('/v1/stream', { headers, signal: controller.signal });
        if (res.status === 401) return logout('The API key was not accepted.');
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        setLive('live');
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.search(/\r?\n\r?\n/)) !== -1) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + (buffer[end] === '\r' ? 4 : 2));
            let id,
              event = 'message';
            const data = [];
            for (const line of block.split(/\r?\n/)) {
              if (line.startsWith(':')) continue;
              const colon = line.indexOf(':');
              const field = colon === -1 ? line : line.slice(0, colon);
              const val = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
              if (field === 'id') id = val;
              else if (field === 'event') event = val;
              else if (field === 'data') data.push(val);
              else if (field === 'retry' && /^\d+$/.test(val)) retryMs = Number(val);
            }
            if (id) state.lastEventId = id;
            if (event === 'status' && data.length) onStatusEvent(id, JSON.parse(data.join('\n'))).catch(handleError);
          }
        }
      } catch (err) {
        if (controller.signal.aborted) return;
        console.warn('stream interrupted', err);
      }
      if (controller.signal.aborted) return;
      setLive('reconnecting');
      await new Promise((r) => setTimeout(r, retryMs));
    }
  })();
}

// ---------------------------------------------------------------------------------------------------------

function init() {
  $('#login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    login($('#api-key').value);
  });
  $('#logout').addEventListener('click', () => logout());
  $('#filters').addEventListener('submit', (e) => {
    e.preventDefault();
    state.filters = Object.fromEntries(
      [...new FormData(e.target)].map(([k, v]) => [k, String(v).trim()]).filter(([, v]) => v),
    );
    loadDeclarations(false).catch((err) => {
      handleError(err);
      $('#list-summary').textContent = `Search failed: ${err.message}`;
    });
  });
  $('#filters').addEventListener('reset', () => {
    state.filters = {};
    setTimeout(() => loadDeclarations(false).catch(handleError), 0);
  });
  $('#more').addEventListener('click', () => loadDeclarations(true).catch(handleError));
  $('#timeline-close').addEventListener('click', () => {
    $('#timeline-view').hidden = true;
    state.openTimeline = undefined;
  });
  if (state.key) showApp().catch(handleError);
}

init();
