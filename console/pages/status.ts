/** Live status: every process's release and readiness, and the access log's chains with their last verification. */
import { html } from '../html.ts';
import type { FleetEntry } from '../../lib/policy/releases/release-store.ts';
import type { VerificationRecord } from '../status.ts';
import { page, refusal, type PageContext } from './layout.ts';

export interface ProcessRow extends FleetEntry {
  /** The process's own /readyz checks, when it could be asked. */
  readiness?: Record<string, string> | 'unreachable';
}

export function statusPage(
  ctx: PageContext,
  input: {
    newest: number;
    processes: ProcessRow[];
    verification: VerificationRecord | null;
    accessLogStore: string;
    refused?: string;
  },
): string {
  const { t } = ctx;
  const state = (entry: ProcessRow): string =>
    entry.stale === 'older release' ? t('stale_older') : entry.stale === 'not reporting' ? t('stale_silent') : t('ok');
  return page(
    ctx,
    t('status_title'),
    html`
${input.refused ? refusal(t, input.refused) : ''}
<h2>${t('processes')}</h2>
<table class="list">
  <thead><tr><th scope="col">${t('role')}</th><th scope="col">${t('instance')}</th><th scope="col">${t('release')}</th><th scope="col">${t('since')}</th><th scope="col">${t('reported')}</th><th scope="col">${t('state')}</th><th scope="col">${t('readiness')}</th></tr></thead>
  <tbody>${input.processes.map(
    (
      entry,
    ) => html`<tr data-instance="${entry.instance}" data-state="${entry.stale || 'ok'}" class="${entry.stale ? 'stale' : ''}">
    <td>${entry.role}</td><td>${entry.instance}</td><td>${entry.release.number} <small>${entry.release.version}</small></td><td>${entry.release.since}</td><td>${entry.reportedAt}</td>
    <td class="state">${state(entry)}</td>
    <td>${
      entry.readiness === undefined
        ? '—'
        : entry.readiness === 'unreachable'
          ? 'unreachable'
          : Object.entries(entry.readiness)
              .map(([name, value]) => `${name}: ${value}`)
              .join(', ')
    }</td></tr>`,
  )}</tbody>
</table>
<h2>${t('chains')}</h2>
<p>${input.accessLogStore}</p>
${
  input.verification
    ? html`<p data-verification="${input.verification.ok ? 'ok' : 'failed'}">${t('last_verification')}: <strong>${input.verification.ok ? t('verified_ok') : t('verified_failed')}</strong> ${input.verification.at} (${input.verification.by})</p>
<table class="list">
  <thead><tr><th scope="col">Chain</th><th scope="col">${t('instance')}</th><th scope="col">${t('records')}</th><th scope="col">signed through</th><th scope="col">unsigned tail</th></tr></thead>
  <tbody>${input.verification.chains.map((chain) => html`<tr data-chain="${chain.chain}"><td>${chain.chain}</td><td>${chain.instance}</td><td>${chain.records}</td><td>${chain.signedThrough ?? '—'}</td><td>${chain.unsignedTail}</td></tr>`)}</tbody>
</table>
${input.verification.problems.length > 0 ? html`<ul class="problems">${input.verification.problems.map((problem) => html`<li>${problem}</li>`)}</ul>` : ''}`
    : html`<p>${t('never_verified')}</p>`
}
<form method="post" action="/status/verify"><input type="hidden" name="csrf" value="${ctx.officer?.csrf ?? ''}"><button type="submit" id="verify">${t('verify_now')}</button></form>`,
  );
}
