// SignalStream live dashboard: plain JavaScript, no build step, no dependencies.
//
// Token: ?access_token= in the page URL (moved to sessionStorage and removed from the address
// bar) or the token form. Data: GET /v1/conversations?limit=100 once, then the tenant's
// WebSocket /v1/stream (reconnects with jittered exponential backoff, reloading the list after a
// reconnect so nothing missed while disconnected stays stale). Every piece of data is written
// with textContent: no innerHTML anywhere.
(function () {
  'use strict';

  var TOKEN_KEY = 'signalstream.access_token';
  var MAX_ROWS = 500;
  var BACKOFF_MIN_MS = 500;
  var BACKOFF_MAX_MS = 15000;

  var token = null;
  var socket = null;
  var backoffMs = BACKOFF_MIN_MS;
  var reconnectTimer = null;
  var everConnected = false;
  var stopped = false;
  var selectedId = null;
  var detailTimer = null;
  /** conversation_id -> {row: HTMLTableRowElement, data: aggregated record} */
  var rows = new Map();

  function $(id) { return document.getElementById(id); }

  function el(tag, className, text) {
    var e = document.createElement(tag);
    if (className) { e.className = className; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  function clear(node) {
    while (node.firstChild) { node.removeChild(node.firstChild); }
  }

  // ---- token ---------------------------------------------------------------------------------

  function takeTokenFromUrl() {
    var params = new URLSearchParams(window.location.search);
    var t = params.get('access_token');
    if (t) {
      sessionStorage.setItem(TOKEN_KEY, t);
      params.delete('access_token');
      var rest = params.toString();
      history.replaceState(null, '', window.location.pathname + (rest ? '?' + rest : '') + window.location.hash);
    }
    return sessionStorage.getItem(TOKEN_KEY);
  }

  /** The tenant_id claim, for display only (the server verifies the token). */
  function tenantOf(jwt) {
    try {
      var part = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      while (part.length % 4) { part += '='; }
      var bytes = Uint8Array.from(atob(part), function (c) { return c.charCodeAt(0); });
      var claims = JSON.parse(new TextDecoder().decode(bytes));
      return typeof claims.tenant_id === 'string' ? claims.tenant_id : null;
    } catch (e) {
      return null;
    }
  }

  function showLogin(message) {
    stopped = true;
    closeSocket();
    $('main').hidden = true;
    $('login').hidden = false;
    $('tenant').textContent = '—';
    setConnection('idle', 'not connected');
    var err = $('login-error');
    err.hidden = !message;
    err.textContent = message || '';
    $('token-input').focus();
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    token = null;
    showLogin(message);
  }

  // ---- HTTP ----------------------------------------------------------------------------------

  function api(path) {
    return fetch(path, { headers: { 'Authorization': 'Bearer ' + token, 'Accept': 'application/json' } })
      .then(function (res) {
        if (res.status === 401) {
          signOut('The token was refused (missing, invalid or expired). Enter a new one.');
          throw new Error('unauthorized');
        }
        return res.json().catch(function () { return {}; }).then(function (body) {
          return { status: res.status, body: body };
        });
      });
  }

  function loadConversations() {
    return api('/v1/conversations?limit=100').then(function (r) {
      var err = $('list-error');
      if (r.status !== 200) {
        err.hidden = false;
        err.textContent = 'Could not load conversations: ' + (r.body.reason || r.body.error || ('HTTP ' + r.status));
        return;
      }
      err.hidden = true;
      var list = Array.isArray(r.body.conversations) ? r.body.conversations : [];
      // Newest first from the server: insert oldest first so the newest ends on top.
      for (var i = list.length - 1; i >= 0; i--) { upsert(list[i], false); }
      document.body.setAttribute('data-loaded', 'true');
    }).catch(function (e) {
      if (e.message !== 'unauthorized') {
        var err = $('list-error');
        err.hidden = false;
        err.textContent = 'Could not load conversations: ' + e.message;
      }
    });
  }

  // ---- WebSocket -----------------------------------------------------------------------------

  function setConnection(state, text) {
    var c = $('connection');
    c.setAttribute('data-state', state);
    $('connection-text').textContent = text;
  }

  function closeSocket() {
    if (reconnectTimer) { clearTimeout(reconnectTimer); reconnectTimer = null; }
    if (socket) {
      var s = socket;
      socket = null;
      s.onopen = s.onclose = s.onmessage = s.onerror = null;
      try { s.close(); } catch (e) { /* already closed */ }
    }
  }

  function connect() {
    if (stopped || !token) { return; }
    var scheme = window.location.protocol === 'https:' ? 'wss://' : 'ws://';
    var url = scheme + window.location.host + '/v1/stream?access_token=' + encodeURIComponent(token);
    setConnection('connecting', everConnected ? 'reconnecting…' : 'connecting…');
    var s;
    try {
      s = new WebSocket(url);
    } catch (e) {
      scheduleReconnect();
      return;
    }
    socket = s;
    var opened = false;
    s.onopen = function () {
      opened = true;
      var reconnected = everConnected;
      everConnected = true;
      backoffMs = BACKOFF_MIN_MS;
      setConnection('open', 'live');
      if (reconnected) { loadConversations(); }
    };
    s.onmessage = function (ev) {
      var msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      if (msg && msg.type === 'intelligence_update' && msg.data && msg.data.conversation_id) {
        upsert(msg.data, true);
      }
    };
    s.onclose = function (ev) {
      if (socket !== s) { return; }
      socket = null;
      if (!opened || ev.code === 1008 || ev.code === 4401) {
        // Refused upgrade (a 401 shows as 1006 before open), policy violation or expired token:
        // check the token with a plain request (401 signs out).
        api('/v1/conversations?limit=1').catch(function () {});
      }
      scheduleReconnect();
    };
    s.onerror = function () { /* onclose follows */ };
  }

  function scheduleReconnect() {
    if (stopped) { return; }
    var delay = Math.round(backoffMs / 2 + Math.random() * backoffMs / 2);
    backoffMs = Math.min(BACKOFF_MAX_MS, backoffMs * 2);
    setConnection('closed', 'disconnected, retrying in ' + Math.max(1, Math.round(delay / 1000)) + ' s');
    reconnectTimer = setTimeout(function () { reconnectTimer = null; connect(); }, delay);
  }

  // ---- table ---------------------------------------------------------------------------------

  function badge(text, cls) {
    return el('span', 'badge ' + cls, text);
  }

  function fmtTime(iso) {
    if (!iso) { return '—'; }
    var d = new Date(iso);
    if (isNaN(d.getTime())) { return String(iso); }
    return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }

  function fmtScore(x) {
    return typeof x === 'number' ? (x >= 0 ? '+' : '−') + Math.abs(x).toFixed(2) : '';
  }

  function setCell(td, value, content) {
    td.setAttribute('data-value', value === null || value === undefined ? '' : String(value));
    clear(td);
    if (content instanceof Node) { td.appendChild(content); } else { td.textContent = content; }
  }

  function flag(v) {
    if (v === true) { return badge('yes', 'flag-yes'); }
    if (v === false) { return badge('no', 'flag-no'); }
    return badge('—', 'none');
  }

  function createRow(id) {
    var tr = document.createElement('tr');
    tr.setAttribute('data-conversation-id', id);
    var fields = ['conversation', 'sentiment', 'urgency', 'intent', 'pii', 'escalation', 'version', 'last_updated'];
    var classes = ['conv', '', '', '', '', '', 'num', 'time'];
    fields.forEach(function (f, i) {
      var td = el('td', classes[i]);
      td.setAttribute('data-field', f);
      tr.appendChild(td);
    });
    tr.addEventListener('click', function () { select(id); });
    return tr;
  }

  function cell(tr, field) {
    return tr.querySelector('td[data-field="' + field + '"]');
  }

  function fill(tr, d) {
    var s = d.sentiment || null;
    var ins = d.insights || null;
    var pii = d.pii || null;
    tr.setAttribute('data-version', String(d.version));

    var conv = el('span', 'id', d.conversation_id);
    var convWrap = document.createDocumentFragment();
    convWrap.appendChild(conv);
    if (d.complete === false) {
      var p = el('span', 'partial', 'partial');
      p.title = 'missing: ' + (d.missing_agents || []).join(', ');
      convWrap.appendChild(p);
    }
    var convTd = cell(tr, 'conversation');
    convTd.setAttribute('data-value', d.conversation_id);
    clear(convTd);
    convTd.appendChild(convWrap);

    var label = s && s.label ? String(s.label) : null;
    var sentTd = cell(tr, 'sentiment');
    setCell(sentTd, label, label ? badge(label + ' ' + fmtScore(s.score), 'sentiment-' + label) : badge('—', 'none'));

    var urgency = ins && ins.urgency ? String(ins.urgency) : null;
    setCell(cell(tr, 'urgency'), urgency, urgency ? badge(urgency, 'urgency-' + urgency) : badge('—', 'none'));

    var intent = ins && ins.intent ? String(ins.intent) : null;
    setCell(cell(tr, 'intent'), intent, intent ? intent.replace(/_/g, ' ') : '—');

    var hasPii = pii ? pii.has_pii === true : null;
    setCell(cell(tr, 'pii'), hasPii, flag(hasPii));

    var esc = ins && typeof ins.requires_escalation === 'boolean' ? ins.requires_escalation : null;
    setCell(cell(tr, 'escalation'), esc, flag(esc));

    setCell(cell(tr, 'version'), d.version, String(d.version));

    var lu = cell(tr, 'last_updated');
    setCell(lu, d.last_updated || '', fmtTime(d.last_updated));
    lu.title = d.last_updated || '';
  }

  function matchesFilters(d) {
    var fs = $('filter-sentiment').value;
    var fu = $('filter-urgency').value;
    if (fs && !(d.sentiment && d.sentiment.label === fs)) { return false; }
    if (fu && !(d.insights && d.insights.urgency === fu)) { return false; }
    return true;
  }

  function upsert(d, live) {
    var id = String(d.conversation_id);
    var entry = rows.get(id);
    if (entry && typeof entry.data.last_updated === 'string' && typeof d.last_updated === 'string'
        && Date.parse(d.last_updated) < Date.parse(entry.data.last_updated)) {
      // Older than what is shown (a list answer that crossed a live update). Compared by time,
      // not version: a conversation's version starts again at 1 after its state expired.
      return;
    }
    var tbody = $('rows');
    if (!entry) {
      entry = { row: createRow(id), data: d };
      rows.set(id, entry);
    }
    entry.data = d;
    fill(entry.row, d);
    entry.row.hidden = !matchesFilters(d);
    tbody.insertBefore(entry.row, tbody.firstChild);
    if (live) {
      entry.row.classList.add('flash');
      // Force a style flush so that removing the class animates back.
      void entry.row.offsetWidth;
      setTimeout(function () { entry.row.classList.remove('flash'); }, 50);
      if (id === selectedId) { scheduleDetail(id); }
    }
    while (rows.size > MAX_ROWS) {
      var last = tbody.lastElementChild;
      var lastId = last.getAttribute('data-conversation-id');
      if (lastId === selectedId) { break; }
      tbody.removeChild(last);
      rows.delete(lastId);
    }
    updateCount();
  }

  function updateCount() {
    var visible = 0;
    rows.forEach(function (e) { if (!e.row.hidden) { visible++; } });
    $('count').textContent = String(visible);
    $('empty').hidden = visible > 0;
  }

  function applyFilters() {
    rows.forEach(function (e) { e.row.hidden = !matchesFilters(e.data); });
    updateCount();
  }

  // ---- detail --------------------------------------------------------------------------------

  function select(id) {
    selectedId = id;
    rows.forEach(function (e, k) { e.row.classList.toggle('selected', k === id); });
    loadDetail(id);
  }

  function scheduleDetail(id) {
    if (detailTimer) { clearTimeout(detailTimer); }
    detailTimer = setTimeout(function () { detailTimer = null; loadDetail(id); }, 300);
  }

  function loadDetail(id) {
    var box = $('detail');
    api('/v1/conversations/' + encodeURIComponent(id) + '/insights').then(function (r) {
      if (id !== selectedId) { return; }
      clear(box);
      box.setAttribute('data-conversation-id', id);
      if (r.status === 404) {
        box.appendChild(el('p', 'placeholder', 'No intelligence for ' + id + ' yet.'));
        return;
      }
      if (r.status !== 200) {
        box.appendChild(el('p', 'error', 'Could not load the conversation: ' + (r.body.reason || r.body.error || ('HTTP ' + r.status))));
        return;
      }
      renderDetail(box, r.body);
    }).catch(function (e) {
      if (e.message !== 'unauthorized' && id === selectedId) {
        clear(box);
        box.appendChild(el('p', 'error', 'Could not load the conversation: ' + e.message));
      }
    });
  }

  function section(box, title) {
    box.appendChild(el('h3', null, title));
  }

  function renderDetail(box, d) {
    box.appendChild(el('h2', null, d.conversation_id));
    box.appendChild(el('div', 'meta', 'version ' + d.version + ' · updated ' + (d.last_updated || '—')
      + (d.complete === false ? ' · partial (missing ' + (d.missing_agents || []).join(', ') + ')' : '')));

    var s = d.sentiment, ins = d.insights, pii = d.pii, sum = d.summary;
    var badges = el('div', 'badges');
    if (s && s.label) { badges.appendChild(badge(s.label + ' ' + fmtScore(s.score), 'sentiment-' + s.label)); }
    if (s && s.emotion) { badges.appendChild(badge(s.emotion, '')); }
    if (ins && ins.urgency) { badges.appendChild(badge('urgency ' + ins.urgency, 'urgency-' + ins.urgency)); }
    if (ins && ins.intent) { badges.appendChild(badge(String(ins.intent).replace(/_/g, ' '), '')); }
    if (ins && ins.requires_escalation) { badges.appendChild(badge('escalate', 'flag-yes')); }
    if (pii && pii.has_pii) { badges.appendChild(badge('PII', 'flag-yes')); }
    box.appendChild(badges);

    section(box, 'Summary');
    box.appendChild(el('p', 'summary', sum && sum.summary ? sum.summary : '—'));
    if (sum && sum.resolution_status) {
      box.appendChild(el('div', 'meta', 'resolution: ' + sum.resolution_status));
    }

    section(box, 'Key points');
    var kp = el('ul', 'key-points');
    (sum && Array.isArray(sum.key_points) ? sum.key_points : []).forEach(function (p) { kp.appendChild(el('li', null, p)); });
    if (!kp.firstChild) { kp.appendChild(el('li', null, '—')); }
    box.appendChild(kp);

    if (ins && Array.isArray(ins.suggested_actions) && ins.suggested_actions.length) {
      section(box, 'Suggested actions');
      var sa = el('ul', 'actions');
      ins.suggested_actions.forEach(function (a) { sa.appendChild(el('li', null, a)); });
      box.appendChild(sa);
    }

    if (pii && pii.has_pii) {
      section(box, 'PII');
      var types = (pii.entities || []).map(function (e) { return e && e.type; }).filter(Boolean);
      box.appendChild(el('p', null, types.length ? types.join(', ') : 'found'));
    }

    section(box, 'Agents');
    var dl = el('dl', 'agents');
    var status = d.agent_status || {};
    Object.keys(status).sort().forEach(function (agent) {
      dl.appendChild(el('dt', null, agent));
      dl.appendChild(el('dd', 'status-' + String(status[agent]).replace(/[^a-z]/g, ''), status[agent]));
    });
    if (!dl.firstChild) { dl.appendChild(el('dt', null, '—')); }
    box.appendChild(dl);

    section(box, 'Latest messages');
    var ml = el('ul', 'messages');
    (Array.isArray(d.recent_messages) ? d.recent_messages : []).forEach(function (m) {
      var li = el('li', 'sender-' + String(m.sender).replace(/[^a-z]/g, ''));
      li.appendChild(el('span', 'who', m.sender));
      li.appendChild(el('span', 'when', fmtTime(m.timestamp)));
      li.appendChild(el('div', 'text', m.message));
      ml.appendChild(li);
    });
    if (!ml.firstChild) { ml.appendChild(el('li', null, 'No messages known.')); }
    box.appendChild(ml);
  }

  // ---- start ---------------------------------------------------------------------------------

  function start(t) {
    token = t;
    stopped = false;
    everConnected = false;
    backoffMs = BACKOFF_MIN_MS;
    rows.forEach(function (e) { e.row.remove(); });
    rows.clear();
    updateCount();
    document.body.removeAttribute('data-loaded');
    $('login').hidden = true;
    $('main').hidden = false;
    $('tenant').textContent = tenantOf(t) || 'unknown';
    loadConversations().then(function () { if (!stopped) { connect(); } });
  }

  document.addEventListener('DOMContentLoaded', function () {
    $('token-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      var t = $('token-input').value.trim();
      if (!t) { return; }
      sessionStorage.setItem(TOKEN_KEY, t);
      $('token-input').value = '';
      start(t);
    });
    $('logout').addEventListener('click', function () { signOut(null); });
    $('filter-sentiment').addEventListener('change', applyFilters);
    $('filter-urgency').addEventListener('change', applyFilters);
    var t = takeTokenFromUrl();
    if (t) { start(t); } else { showLogin(null); }
  });
})();
