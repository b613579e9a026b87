// The console page's script: keeps the board live from one server-sent event stream (the server
// renders every panel; this only swaps them in), and signs in with the admin token for actions.
// The token stays in this tab (sessionStorage) and travels only in an Authorization header, which
// no other site's page can make this browser send: that, not a cookie, is what makes actions
// CSRF-proof.
'use strict';

const tokenKey = 'tps-console-admin-token';
const $ = (selector) => document.querySelector(selector);

function say(text, mark) {
  const message = $('[data-testid="message"]');
  message.textContent = text;
  message.className = `message mark-${mark ?? 'none'}`;
}

function setMode(admin) {
  document.body.classList.toggle('admin', admin);
  $('[data-testid="mode"]').textContent = admin ? 'admin: actions on' : 'read-only';
}

async function call(method, url, body) {
  const token = sessionStorage.getItem(tokenKey);
  const headers = { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) };
  const res = await fetch(url, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const answer = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(answer.message ?? `HTTP ${res.status}`);
  return answer;
}

async function signIn(token) {
  sessionStorage.setItem(tokenKey, token);
  try {
    await call('GET', '/api/session');
    setMode(true);
    say('Signed in: actions are on; each asks you to confirm and is recorded as an audit event.', 'ok');
  } catch (err) {
    sessionStorage.removeItem(tokenKey);
    setMode(false);
    say(`Not signed in: ${err.message}`, 'bad');
  }
}

/** Values typed into the board's fields, kept across its live updates until used. */
const edited = new Map();
document.addEventListener('input', (event) => {
  if (event.target.closest('[data-panel]') && event.target.name) edited.set(event.target.name, event.target.value);
});

const actions = {
  'breaker-open': (name) => ({ confirm: `Force breaker ${name} open? Its calls fail fast until you set it back to automatic.`, run: () => call('POST', '/api/breakers/open', { name }) }),
  'breaker-auto': (name) => ({ confirm: `Give breaker ${name} back to automatic control?`, run: () => call('POST', '/api/breakers/auto', { name }) }),
  scale: (pool) => {
    const slots = Number(document.querySelector(`input[name="slots-${pool}"]`).value);
    return { confirm: `Set the ${pool} pool to ${slots} slots per worker?`, run: () => call('POST', '/api/scale', { pool, slots }).then((answer) => { edited.delete(`slots-${pool}`); return answer; }) };
  },
  'autoscaler-off': () => ({ confirm: 'Turn the autoscaler off? The slots then stay where they are until you change them.', run: () => call('POST', '/api/autoscaler', { enabled: false }) }),
  'autoscaler-on': () => ({ confirm: 'Turn the autoscaler on? It may change the slots of every pool.', run: () => call('POST', '/api/autoscaler', { enabled: true }) }),
  'chaos-set': () => {
    const field = (name) => document.querySelector(`[name="chaos-${name}"]`).value.trim();
    const [target, fault, params, durationMs] = [field('target'), field('fault'), field('params'), Number(field('duration'))];
    return {
      confirm: `Start ${fault}${params ? ` (${params})` : ''} on ${target} for ${Math.round(durationMs / 1000)} s? It ends by itself then, or when you clear it.`,
      run: () => call('POST', '/api/chaos', { target, fault, params, durationMs }).then((answer) => { for (const n of ['target', 'fault', 'params', 'duration']) edited.delete(`chaos-${n}`); return answer; }),
    };
  },
  'chaos-clear': (key) => {
    const [target, fault] = [key.slice(0, key.lastIndexOf('.')), key.slice(key.lastIndexOf('.') + 1)];
    return { confirm: `Clear ${fault} on ${target} now?`, run: () => call('POST', '/api/chaos/clear', { target, fault }) };
  },
  // Acknowledging an alert: a silence on exactly its labels, with who and why.
  ack: (fingerprint) => {
    const field = (name) => document.querySelector(`input[name="${name}-${fingerprint}"]`).value.trim();
    const [who, why] = [field('who'), field('why')];
    const alertname = document.querySelector(`[data-alert="${fingerprint}"]`)?.dataset.alertname ?? 'this alert';
    return {
      confirm: `Acknowledge ${alertname} as ${who || '(nobody)'}? It is silenced for 2 hours: "${why}".`,
      run: () => call('POST', '/api/alerts/ack', { fingerprint, who, why }).then((answer) => { edited.delete(`who-${fingerprint}`); edited.delete(`why-${fingerprint}`); return answer; }),
    };
  },
};

document.addEventListener('click', async (event) => {
  const button = event.target.closest('button[data-action]');
  if (!button) return;
  const action = actions[button.dataset.action]?.(button.dataset.name);
  if (!action || !window.confirm(action.confirm)) return;
  try {
    const answer = await action.run();
    say(answer.message ?? 'Done.', 'ok');
  } catch (err) {
    say(`Refused: ${err.message}`, 'bad');
  }
});

// The dead-letter page: the chosen entries, by id, so exactly those are replayed or purged.
function chosen() {
  return [...document.querySelectorAll('#dlq-selection input[name="seq"]:checked')].map((box) => Number(box.value));
}

function showOutcomes(title, outcomes) {
  const result = $('[data-testid="dlq-result"]');
  const list = document.createElement('ul');
  for (const o of outcomes) {
    const item = document.createElement('li');
    item.textContent = `${o.seq}: ${o.type} (${o.code}), ${o.outcome.replace('_', ' ')}${o.newJobId ? ` as job ${o.newJobId}` : ''}${o.why ? `: ${o.why}` : ''}`;
    list.append(item);
  }
  const heading = document.createElement('h3');
  heading.textContent = title;
  result.replaceChildren(heading, list);
}

function dropRows(outcomes, done) {
  for (const o of outcomes) if (o.outcome === done) document.querySelector(`tr[data-seq="${o.seq}"]`)?.remove();
}

const dlqActions = {
  async preview(ids, rate) {
    const answer = await call('POST', '/api/dlq/replay', { ids, rate, dryRun: true });
    showOutcomes(`A replay would send ${answer.outcomes.filter((o) => o.outcome === 'would_replay').length} of ${ids.length} again, at ${rate} jobs/s:`, answer.outcomes);
  },
  async replay(ids, rate) {
    if (!window.confirm(`Replay ${ids.length} dead-letter entr${ids.length === 1 ? 'y' : 'ies'} at ${rate} jobs/s? Each is sent again as a new job and leaves the DLQ.`)) return;
    const answer = await call('POST', '/api/dlq/replay', { ids, rate });
    const sent = answer.outcomes.filter((o) => o.outcome === 'replayed').length;
    showOutcomes(`Replayed ${sent} of ${ids.length}:`, answer.outcomes);
    dropRows(answer.outcomes, 'replayed');
    say(`Replayed ${sent} of ${ids.length}.`, sent === ids.length ? 'ok' : 'watch');
  },
  async purge(ids) {
    const preview = await call('POST', '/api/dlq/purge', { ids, dryRun: true });
    const count = preview.outcomes.filter((o) => o.outcome === 'would_purge').length;
    if (!window.confirm(`Purge ${count} dead-letter entr${count === 1 ? 'y' : 'ies'}? They are deleted for good.`)) return;
    const answer = await call('POST', '/api/dlq/purge', { ids, confirm: true });
    const purged = answer.outcomes.filter((o) => o.outcome === 'purged').length;
    showOutcomes(`Purged ${purged} of ${ids.length}:`, answer.outcomes);
    dropRows(answer.outcomes, 'purged');
    say(`Purged ${purged} of ${ids.length}.`, purged === ids.length ? 'ok' : 'watch');
  },
};

document.addEventListener('click', async (event) => {
  const button = event.target.closest('button[data-dlq]');
  if (!button) return;
  const ids = chosen();
  if (ids.length === 0) return say('Choose entries first (the boxes on the left).', 'watch');
  const rate = Number(document.querySelector('#dlq-selection input[name="rate"]').value) || 10;
  try {
    await dlqActions[button.dataset.dlq](ids, rate);
  } catch (err) {
    say(`Refused: ${err.message}`, 'bad');
  }
});

function live() {
  const connection = $('[data-testid="connection"]');
  const events = new EventSource(document.body.dataset.live);
  events.addEventListener('board', (event) => {
    const board = JSON.parse(event.data);
    for (const [id, markup] of Object.entries(board.panels)) {
      const panel = document.querySelector(`[data-panel="${id}"]`);
      // A panel someone is typing into waits for the next update; a value typed stays.
      if (!panel || (['INPUT', 'SELECT'].includes(document.activeElement?.tagName) && panel.contains(document.activeElement))) continue;
      panel.innerHTML = markup;
      for (const [name, typed] of edited) {
        const input = panel.querySelector(`[name="${name}"]`);
        if (input) input.value = typed;
      }
    }
    $('[data-testid="updated"]').textContent = `updated ${new Date(board.at).toLocaleTimeString()}`;
    connection.textContent = 'live';
    connection.className = 'mark-ok';
  });
  events.onerror = () => {
    connection.textContent = 'reconnecting…';
    connection.className = 'mark-watch';
  };
}

document.addEventListener('DOMContentLoaded', () => {
  $('#signin').addEventListener('submit', (event) => {
    event.preventDefault();
    const field = event.target.elements.token;
    const token = field.value.trim();
    field.value = '';
    if (token) signIn(token);
  });
  $('#signout').addEventListener('click', () => {
    sessionStorage.removeItem(tokenKey);
    setMode(false);
    say('Signed out: read-only.', 'none');
  });
  $('#select-all')?.addEventListener('change', (event) => {
    for (const box of document.querySelectorAll('#dlq-selection input[name="seq"]')) box.checked = event.target.checked;
  });
  const kept = sessionStorage.getItem(tokenKey);
  if (kept) signIn(kept);
  if (document.body.dataset.live) live();
});
