/** Pages of four-eyes changes: the list with releases (rollback), the editor, its live check, and one proposal. */
import { html, type Html } from '../html.ts';
import type { Translate } from '../i18n.ts';
import type { PolicyDiff } from '../../lib/policy/officers/diff.ts';
import type { PolicyProblem } from '../../lib/policy/loading/problems.ts';
import type { PolicyTestResult } from '../../lib/policy/officers/policy-tests.ts';
import type { PolicyRelease } from '../../lib/policy/releases/signed-release.ts';
import type { Proposal } from '../proposals.ts';
import { page, pager, refusal, type PageContext } from './layout.ts';

export interface CheckResult {
  problems: readonly PolicyProblem[];
  diff?: PolicyDiff;
  tests?: readonly PolicyTestResult[];
}

function csrfField(ctx: PageContext): Html {
  return html`<input type="hidden" name="csrf" value="${ctx.officer?.csrf ?? ''}">`;
}

export function proposalsPage(
  ctx: PageContext,
  proposals: Proposal[],
  releases: PolicyRelease[],
  pageNumber: number,
  refused?: string,
): string {
  const { t } = ctx;
  const size = 20;
  const pages = Math.max(1, Math.ceil(proposals.length / size));
  const shown = proposals.slice((pageNumber - 1) * size, pageNumber * size);
  return page(
    ctx,
    t('proposals_title'),
    html`
${refused ? refusal(t, refused) : ''}
<p><a class="button" href="/proposals/new">${t('new_proposal')}</a></p>
<table class="list">
  <thead><tr><th scope="col">${t('proposal')}</th><th scope="col">${t('author')}</th><th scope="col">${t('when')}</th><th scope="col">${t('why')}</th><th scope="col">${t('based_on')}</th><th scope="col">${t('status')}</th></tr></thead>
  <tbody>${shown.map((proposal) => html`<tr data-proposal="${proposal.id}"><td><a href="/proposals/${proposal.id}">${proposal.id}</a> (${proposal.kind})</td><td>${proposal.author}</td><td>${proposal.createdAt}</td><td>${proposal.why}</td><td>${proposal.base.number}</td><td class="status-${proposal.status}">${proposal.status}${proposal.release ? ` → ${proposal.release}` : ''}</td></tr>`)}</tbody>
</table>
${pager(t, '/proposals', new URLSearchParams(), pageNumber, pages)}
<h2>${t('releases')}</h2>
<table class="list">
  <thead><tr><th scope="col">${t('number')}</th><th scope="col">${t('signed_at')}</th><th scope="col">${t('note')}</th><th scope="col"></th></tr></thead>
  <tbody>${releases.slice(0, 30).map(
    (
      release,
    ) => html`<tr data-release-row="${release.number}"><td>${release.number}</td><td>${release.signedAt}</td><td>${release.note}</td>
    <td>${
      release.number === ctx.inForce
        ? t('release_in_force')
        : html`<form method="post" action="/proposals/rollback" class="inline">${csrfField(ctx)}<input type="hidden" name="release" value="${release.number}">
      <label class="visually-hidden" for="why-${release.number}">${t('why')}</label><input id="why-${release.number}" name="why" required placeholder="${t('why')}">
      <button type="submit">${t('rollback')}</button></form>`
    }</td></tr>`,
  )}</tbody>
</table>`,
  );
}

export function checkFragment(t: Translate, check: CheckResult): Html {
  const problems = check.problems.filter((problem) => problem.severity === 'error');
  return html`<section aria-labelledby="problems-h"><h2 id="problems-h">${t('problems')}</h2>
  ${
    problems.length === 0
      ? html`<p class="ok" data-valid="true">${t('no_problems')}</p>`
      : html`<ul class="problems">${problems.map(
          (problem) => html`
    <li data-file="${problem.file}" data-line="${problem.line}" data-column="${problem.column}" data-code="${problem.code}">
      <button type="button" class="goto" data-line="${problem.line}" data-column="${problem.column}">${problem.file}:${problem.line}:${problem.column}</button>
      ${t('line')} ${problem.line}, ${t('column')} ${problem.column}: ${problem.message}${problem.hint ? html` <em class="hint">(${problem.hint})</em>` : ''}
    </li>`,
        )}</ul>`
  }
  </section>
  ${check.diff ? diffSection(t, check.diff) : ''}
  ${check.tests ? testsSection(t, check.tests) : ''}`;
}

function diffSection(t: Translate, diff: PolicyDiff): Html {
  const empty = diff.consumers.length === 0 && diff.views.length === 0;
  return html`<section aria-labelledby="diff-h" class="diff"><h2 id="diff-h">${t('access_diff')}</h2>
  ${
    empty
      ? html`<p>${t('no_diff')}</p>`
      : html`<table class="list">
    <thead><tr><th scope="col">${t('consumer')}</th><th scope="col">${t('gains')}</th><th scope="col">${t('loses')}</th><th scope="col">${t('mask_changes')}</th><th scope="col">${t('record_changes')}</th></tr></thead>
    <tbody>
    ${diff.consumers.map(({ consumer, changes }) => html`<tr data-diff-consumer="${consumer}"><th scope="row">${consumer} (${t('settings')})</th><td colspan="4">${changes.join('; ')}</td></tr>`)}
    ${diff.views.map(
      (
        view,
      ) => html`<tr data-diff-view="${view.consumer}/${view.purpose}"><th scope="row">${view.consumer} / ${view.purpose}${view.status === 'changed' ? '' : ` (${view.status})`}</th>
      <td class="gained">${view.gained.map((gain) => html`<span data-gained="${gain.coordinate}">+ ${gain.coordinate}${gain.mask ? ` (${gain.mask})` : ''}</span> `)}</td>
      <td class="lost">${view.lost.map((lost) => html`<span data-lost="${lost}">− ${lost}</span> `)}</td>
      <td>${view.masks.map((mask) => `${mask.coordinate}: ${mask.from ?? '—'} → ${mask.to ?? '—'}`).join('; ')}</td>
      <td>${view.records.map((record) => `${record.typeName}: ${record.from.history ? 'history' : 'current'} → ${record.to.history ? 'history' : 'current'}${record.to.disclosureWindow ? ' (window)' : ''}`).join('; ')}</td></tr>`,
    )}
    </tbody></table>`
  }
  </section>`;
}

function testsSection(t: Translate, results: readonly PolicyTestResult[]): Html {
  const failed = results.filter((result) => !result.passed);
  return html`<section aria-labelledby="tests-h"><h2 id="tests-h">${t('policy_tests')}</h2>
  <p data-tests-passed="${results.length - failed.length}" data-tests-failed="${failed.length}">${results.length - failed.length} ${t('passed')}, ${failed.length} ${t('failed')}</p>
  ${failed.length > 0 ? html`<ul class="problems">${failed.map((result) => html`<li>${result.testCase.file}:${result.testCase.line} ${result.testCase.name}: ${result.failures.join('; ')}</li>`)}</ul>` : ''}
  </section>`;
}

export function editorPage(
  ctx: PageContext,
  input: { files: string[]; file: string; text: string; why: string; check: CheckResult; refused?: string },
): string {
  const { t } = ctx;
  return page(
    ctx,
    t('new_proposal'),
    html`
${input.refused ? refusal(t, input.refused) : ''}
<form method="get" action="/proposals/new" class="filters">
  <label>${t('file')} <select name="file">${input.files.map((name) => html`<option${name === input.file ? html` selected` : ''}>${name}</option>`)}</select></label>
  <button type="submit">${t('open_file')}</button>
</form>
<div class="editor-layout">
<form method="post" action="/proposals" class="stack editor" id="proposal-form">
  ${csrfField(ctx)}
  <input type="hidden" name="file" value="${input.file}">
  <label for="policy-text">${input.file}</label>
  <textarea id="policy-text" name="text" rows="26" spellcheck="false" data-check-url="/proposals/check" data-file="${input.file}">${input.text}</textarea>
  <label for="why">${t('why')}</label>
  <textarea id="why" name="why" rows="2" required>${input.why}</textarea>
  <button type="submit">${t('submit_proposal')}</button>
</form>
<div id="check" class="check" aria-live="polite">${checkFragment(t, input.check)}</div>
</div>`,
  );
}

export function proposalPage(ctx: PageContext, proposal: Proposal, check: CheckResult, refused?: string): string {
  const { t } = ctx;
  const own = ctx.officer?.id === proposal.author;
  return page(
    ctx,
    `${t('proposal')} ${proposal.id}`,
    html`
${refused ? refusal(t, refused) : ''}
<dl class="facts">
  <dt>${t('author')}</dt><dd data-author="${proposal.author}">${proposal.author}</dd>
  <dt>${t('why')}</dt><dd>${proposal.why}</dd>
  <dt>${t('based_on')}</dt><dd>${proposal.base.number}</dd>
  <dt>${t('changed_files')}</dt><dd>${proposal.changedFiles.join(', ')}${proposal.rollbackTo ? ` (rollback → ${proposal.rollbackTo})` : ''}</dd>
  <dt>${t('status')}</dt><dd class="status-${proposal.status}" data-status="${proposal.status}">${proposal.status}${proposal.release ? html` → ${t('release')} <span data-made-release="${proposal.release}">${proposal.release}</span>` : ''}</dd>
</dl>
${checkFragment(t, check)}
<h2>${t('history')}</h2>
<table class="list history">
  <thead><tr><th scope="col">${t('step')}</th><th scope="col">${t('who')}</th><th scope="col">${t('when')}</th><th scope="col">${t('reason')}</th></tr></thead>
  <tbody>${proposal.history.map((event) => html`<tr data-step="${event.step}"><td>${event.step}</td><td>${event.who}</td><td>${event.at}</td><td>${event.why}</td></tr>`)}</tbody>
</table>
${
  proposal.status === 'open'
    ? html`
${own ? html`<p class="note" role="note">${t('own_proposal')}</p>` : ''}
<div class="decisions">
<form method="post" action="/proposals/${proposal.id}/approve" class="stack">
  ${csrfField(ctx)}<input type="hidden" name="digest" value="${proposal.digest}">
  <label for="approve-reason">${t('reason')}</label><textarea id="approve-reason" name="reason" rows="2" required></textarea>
  <button type="submit" id="approve">${t('approve')}</button>
</form>
<form method="post" action="/proposals/${proposal.id}/reject" class="stack">
  ${csrfField(ctx)}
  <label for="reject-reason">${t('reason')}</label><textarea id="reject-reason" name="reason" rows="2" required></textarea>
  <button type="submit" id="reject">${t('reject')}</button>
</form>
</div>`
    : ''
}`,
  );
}
