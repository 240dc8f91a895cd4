/**
 * The dashboard's one page: plain HTML, CSS and JavaScript, no framework and nothing fetched from elsewhere (the
 * machine may have no network, and the page must not leak the namespace's data). It polls `/api/rollouts` and
 * draws each rollout as a card; text from the cluster is set with `textContent`, never as HTML.
 */

/** The page's style sheet. */
const STYLE = `body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #111; background: #fafafa; }
h1 { font-size: 1.3em; } .muted { color: #666; }
.card { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 1em; margin-bottom: 1em; max-width: 900px; }
.card h2 { font-size: 1.1em; margin: 0 0 .4em; } .phase { font-weight: 600; padding: 0 .4em; border-radius: 4px; }
.phase-progressing { background: #dbeafe; } .phase-paused { background: #fef3c7; } .phase-aborted { background: #fee2e2; }
.phase-promoted, .phase-completed { background: #dcfce7; }
table { border-collapse: collapse; margin: .4em 0; } td, th { padding: 2px 8px; text-align: left; border-bottom: 1px solid #eee; }
button { margin-right: .4em; } .queued { color: #92400e; } .failing { color: #b91c1c; font-weight: 600; }
svg { background: #fff; border: 1px solid #eee; }
`;

/** The page's script: polls the API, draws each rollout as a card, sends confirmed commands (after `CONFIG`). */
const SCRIPT = `document.getElementById('namespace').textContent = CONFIG.namespace;
const COMMANDS = [['pause', 'Hold the weights where they are until resume'], ['resume', 'Go on from a pause'],
  ['promote', 'Release the current pause step'], ['promote-full', 'Skip every remaining step and gate: all traffic to the canary'],
  ['cancel', 'Roll back: every canary to 0 % at the next tick'], ['retry', 'Restart an aborted rollout from its first step']];

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const c of children.flat()) if (c !== undefined && c !== null) e.append(c instanceof Node ? c : String(c));
  return e;
}
const weightsText = (w) => Object.entries(w || {}).map(([v, x]) => v + ' ' + x + '%').join(', ');

/** Canary weight over time: the plan (dashed) against the weights the controller recorded (solid). */
function chart(r, now) {
  const NS = 'http://www.w3.org/2000/svg';
  const W = 600, H = 140, P = 24;
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('width', W); svg.setAttribute('height', H); svg.setAttribute('data-chart', r.name);
  if (!r.plan || r.plan.length === 0) return svg;
  const start = r.planStartedAt;
  const canary = (w) => (r.canaries || []).reduce((s, v) => s + ((w || {})[v] || 0), 0);
  const actual = start === undefined ? [] : r.history.map((h) => [(h.at - start) / 1000, canary(h.weights)]);
  if (start !== undefined && r.weights) actual.push([(now - start) / 1000, canary(r.weights)]);
  const end = Math.max(r.plan[r.plan.length - 1][0], ...actual.map((p) => p[0]), 60);
  const x = (t) => P + (Math.max(0, t) / end) * (W - 2 * P);
  const y = (w) => H - P - (w / 100) * (H - 2 * P);
  const stepPath = (pts) => pts.map((p, i) => (i === 0 ? 'M' + x(p[0]) + ',' + y(p[1]) : 'H' + x(p[0]) + 'V' + y(p[1]))).join('') + 'H' + x(end);
  const path = (d, attrs) => { const e = document.createElementNS(NS, 'path'); e.setAttribute('d', d); e.setAttribute('fill', 'none'); for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v); svg.append(e); };
  path('M' + P + ',' + y(0) + 'H' + (W - P) + 'M' + P + ',' + y(100) + 'H' + (W - P), { stroke: '#eee' });
  path(stepPath(r.plan), { stroke: '#9ca3af', 'stroke-dasharray': '4 3', 'data-line': 'plan' });
  if (actual.length > 0) path(stepPath(actual).replace(/H[\\d.]+$/, ''), { stroke: '#dc2626', 'stroke-width': '2', 'data-line': 'actual' });
  const label = document.createElementNS(NS, 'text');
  label.setAttribute('x', P); label.setAttribute('y', 14); label.setAttribute('font-size', '11');
  label.textContent = 'canary weight: plan (dashed) and recorded (red), 0 to ' + Math.round(end / 60) + ' min';
  svg.append(label);
  return svg;
}

async function send(name, command, help) {
  if (!confirm('Send "' + command + '" to ' + name + '?\\n\\n' + help + '.')) return;
  const res = await fetch('/api/rollouts/' + encodeURIComponent(name) + '/commands', {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-model-rollout-token': CONFIG.token }, body: JSON.stringify({ command }),
  });
  const body = await res.json();
  const note = document.querySelector('[data-rollout="' + name + '"] .note');
  note.textContent = res.ok ? command + ': stored as #' + body.stored.seq + '; the controller handles it at its next tick' : 'not stored: ' + body.error;
  refresh();
}

function card(r, now) {
  const c = el('div', { class: 'card', 'data-rollout': r.name, 'data-phase': r.phase });
  c.append(el('h2', {}, r.name, ' ', el('span', { class: 'phase phase-' + r.phase.replace(/ /g, '-'), 'data-field': 'phase' }, r.phase + (r.pauseReason ? ' (' + r.pauseReason + ')' : ''))));
  if (r.error) { c.append(el('p', { class: 'failing' }, r.error)); return c; }
  if (r.reason) c.append(el('p', { class: 'muted' }, r.reason));
  const rows = [['weights', el('span', { 'data-field': 'weights' }, weightsText(r.weights) || '-')],
    ['step', (Math.min(r.step.index + 1, r.step.of)) + '/' + r.step.of + (r.step.kind ? ' (' + r.step.kind + ')' : '')]];
  if (r.replicas) rows.push(['replicas', Object.entries(r.replicas).map(([v, x]) => v + ' ' + (x.error ? 'unknown (' + x.error + ')' : x.ready + '/' + x.desired + ' ready')).join(', ')]);
  if (r.checks && r.checks.names.length > 0) rows.push(['checks', el('span', { class: r.checks.failing ? 'failing' : '' }, r.checks.names.join(', ') + ': ' + (r.checks.failing ? 'failing, ' : 'passing, ') + r.checks.failures + ' failed (limit ' + r.checks.limit + ')')]);
  else rows.push(['checks', 'none']);
  if (r.gate) rows.push(['gate', '"' + r.gate.name + '" ' + r.gate.measurements + '/' + r.gate.count + ', ' + r.gate.failures + ' failed, ' + r.gate.inconclusive + ' inconclusive']);
  rows.push(['queued', el('span', { class: 'queued', 'data-field': 'queued' }, r.queued.length ? r.queued.map((q) => q.kind + (q.seq ? ' #' + q.seq : '')).join(', ') + ' (waiting for the next tick)' : 'none')]);
  c.append(el('table', {}, rows.map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', {}, v)))));
  c.append(chart(r, now));
  c.append(el('div', {}, COMMANDS.map(([cmd, help]) => {
    const b = el('button', { 'data-command': cmd, title: help }, cmd);
    b.addEventListener('click', () => send(r.name, cmd, help));
    return b;
  }), el('span', { class: 'note muted' })));
  const hist = r.history.slice(-8).reverse();
  if (hist.length > 0) {
    c.append(el('details', {}, el('summary', {}, 'history (last ' + hist.length + ')'),
      el('table', {}, hist.map((h) => el('tr', {}, el('td', {}, new Date(h.at).toISOString().slice(11, 19)), el('td', {}, h.phase), el('td', {}, weightsText(h.weights)), el('td', {}, h.reason))))));
  }
  return c;
}

async function refresh() {
  try {
    const res = await fetch('/api/rollouts');
    const data = await res.json();
    const root = document.getElementById('rollouts');
    const notes = Object.fromEntries([...root.querySelectorAll('[data-rollout]')].map((n) => [n.getAttribute('data-rollout'), n.querySelector('.note').textContent]));
    root.replaceChildren(...(data.rollouts.length ? data.rollouts.map((r) => card(r, data.now)) : [el('p', {}, 'No rollouts in this namespace.')]));
    for (const [name, text] of Object.entries(notes)) { const n = root.querySelector('[data-rollout="' + name + '"] .note'); if (n) n.textContent = text; }
    document.getElementById('updated').textContent = 'Updated ' + new Date().toLocaleTimeString() + '.';
    document.body.setAttribute('data-refreshed', String(Number(document.body.getAttribute('data-refreshed') || 0) + 1));
  } catch (e) {
    document.getElementById('updated').textContent = 'Not updated: ' + e;
  }
}
refresh();
setInterval(refresh, CONFIG.pollMs);
`;

/** The page, with the server's command token and poll interval in it. */
export function dashboardPage(options: { readonly namespace: string; readonly token: string; readonly pollMs: number }): string {
  const config = JSON.stringify(options).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>model-rollout: ${escapeHtml(options.namespace)}</title>
<style>
${STYLE}</style></head>
<body>
<h1>Rollouts in <code id="namespace"></code></h1>
<p class="muted">Read with your kubeconfig. Commands are stored for the controller, which handles them at its next tick (within a minute). <span id="updated"></span></p>
<div id="rollouts"></div>
<script>
const CONFIG = ${config};
${SCRIPT}</script>
</body></html>
`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
