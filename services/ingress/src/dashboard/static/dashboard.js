// tradehook dashboard: the little client script the server-rendered pages need (no build step).
// Confirmation of dangerous forms, copy buttons, and live signal updates over Server-Sent Events.
'use strict';
/* global window, document, navigator, EventSource, HTMLFormElement, Element */

document.addEventListener('submit', (event) => {
  const form = event.target;
  const question = form instanceof HTMLFormElement ? form.dataset.confirm : undefined;
  if (question && !window.confirm(question)) event.preventDefault();
});

document.addEventListener('click', (event) => {
  const button = event.target instanceof Element ? event.target.closest('[data-copy]') : null;
  const source = button ? document.querySelector(button.dataset.copy) : null;
  if (!source) return;
  source.select();
  navigator.clipboard?.writeText(source.value).catch(() => document.execCommand('copy'));
  button.textContent = '✓';
});

function matchesFilters(table, signal) {
  const f = table.dataset;
  return (
    (!f.filterExchange || f.filterExchange === signal.exchange) &&
    (!f.filterAccount || f.filterAccount === signal.account_id) &&
    (!f.filterStatus || f.filterStatus === signal.status)
  );
}

function onSignal(signal) {
  const table = document.querySelector('table[data-live="on"]');
  if (table) {
    const existing = document.getElementById(`signal-${signal.id}`);
    const tbody = table.querySelector('tbody');
    const holder = document.createElement('tbody');
    holder.innerHTML = signal.row; // server-rendered and escaped (dashboard/pages/signal-views.ts)
    const row = holder.firstElementChild;
    if (!row) return;
    row.classList.add('fresh');
    if (existing && matchesFilters(table, signal)) existing.replaceWith(row);
    else if (existing) existing.remove();
    else if (matchesFilters(table, signal)) tbody.prepend(row);
    document.querySelector('.empty')?.remove();
  }
  const detail = document.getElementById('signal-detail');
  if (detail && detail.dataset.signalId === signal.id && detail.dataset.status !== signal.status) {
    window.location.reload();
  }
}

function connectLive() {
  if (!document.querySelector('table[data-live="on"], #signal-detail')) return;
  const indicator = document.querySelector('[data-testid="live-state"]');
  const source = new EventSource('/app/events');
  source.addEventListener('ready', () => indicator?.setAttribute('data-state', 'on'));
  source.addEventListener('error', () => indicator?.setAttribute('data-state', 'off'));
  source.addEventListener('signal', (event) => onSignal(JSON.parse(event.data)));
}

connectLive();
