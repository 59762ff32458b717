/** The access log search and the subject access report (page, printable page). */
import { html, type Html } from '../html.ts';
import type { Translate } from '../i18n.ts';
import type { AccessLogSearch, AccessRecordRow } from '../gateway-client.ts';
import { page, type PageContext } from './layout.ts';

export const OUTCOMES = ['ANSWERED', 'PARTIAL', 'REJECTED', 'FAILED'] as const;

function recordsTable(t: Translate, records: AccessRecordRow[]): Html {
  if (records.length === 0) return html`<p data-records="0">${t('no_records')}</p>`;
  return html`<table class="list" data-records="${records.length}">
  <thead><tr><th scope="col">${t('at')}</th><th scope="col">${t('consumer')}</th><th scope="col">${t('purpose')}</th><th scope="col">${t('outcome')}</th><th scope="col">${t('request_id')}</th><th scope="col">${t('fields')}</th></tr></thead>
  <tbody>${records.map(
    (record) => html`<tr data-request-id="${record.requestId}" data-consumer="${record.consumer}">
    <td>${record.at}</td><td>${record.consumer}</td><td>${record.purpose}</td><td>${record.outcome}</td><td><code>${record.requestId}</code></td>
    <td>${record.fields.map((group) => `${group.type}: ${group.fields.join(', ')}`).join('; ')}</td></tr>`,
  )}</tbody>
</table>`;
}

function input(name: keyof AccessLogSearch, label: string, filter: AccessLogSearch, type = 'text'): Html {
  return html`<label>${label} <input name="${name}" type="${type}" value="${filter[name] ?? ''}"></label>`;
}

export function logPage(
  ctx: PageContext,
  filter: AccessLogSearch,
  result: { records: AccessRecordRow[]; endCursor: string | null; hasNextPage: boolean } | { error: string } | null,
  params: URLSearchParams,
): string {
  const { t } = ctx;
  const next = new URLSearchParams(params);
  if (result && 'records' in result && result.endCursor) next.set('after', result.endCursor);
  const first = new URLSearchParams(params);
  first.delete('after');
  return page(
    ctx,
    t('log_title'),
    html`
<form method="get" action="/log" class="filters">
  ${input('requestId', t('request_id'), filter)}
  ${input('consumer', t('consumer'), filter)}
  ${input('purpose', t('purpose'), filter)}
  ${input('subject', t('subject'), filter)}
  ${input('field', t('field'), filter)}
  <label>${t('outcome')} <select name="outcome"><option value="">${t('any')}</option>${OUTCOMES.map((outcome) => html`<option${filter.outcome === outcome ? html` selected` : ''}>${outcome}</option>`)}</select></label>
  ${input('from', t('from'), filter)}
  ${input('to', t('to'), filter)}
  <button type="submit">${t('search')}</button>
</form>
${
  result === null
    ? ''
    : 'error' in result
      ? html`<p class="refusal" role="alert">${result.error}</p>`
      : html`${recordsTable(t, result.records)}
<nav class="pager" aria-label="${t('page')}">${params.has('after') ? html`<a href="/log?${first.toString()}">${t('first_page')}</a>` : ''}
${result.hasNextPage ? html`<a href="/log?${next.toString()}" rel="next">${t('next')}</a>` : ''}</nav>`
}`,
  );
}

export function reportPage(
  ctx: PageContext,
  uscc: string,
  report: { consumers: string[]; truncated: boolean; accesses: AccessRecordRow[] } | { error: string } | null,
  options: { print?: boolean } = {},
): string {
  const { t } = ctx;
  const query = `uscc=${encodeURIComponent(uscc)}`;
  return page(
    ctx,
    `${t('report_title')}${uscc ? ` ${uscc}` : ''}`,
    html`
${
  options.print
    ? html`<p class="no-print"><button type="button" data-print>${t('print')}</button></p>`
    : html`<form method="get" action="/report" class="filters">
  <label>${t('subject')} <input name="uscc" value="${uscc}" required pattern="[0-9A-Z]{18}"></label>
  <button type="submit">${t('show_report')}</button>
</form>`
}
${
  report === null
    ? ''
    : 'error' in report
      ? html`<p class="refusal" role="alert">${report.error}</p>`
      : html`
${options.print ? '' : html`<p><a href="/report.csv?${query}" download>${t('download_csv')}</a> · <a href="/report/print?${query}">${t('printable')}</a></p>`}
<p>${t('consumers_who_looked')}: <span data-consumers="${report.consumers.join(',')}">${report.consumers.join(', ')}</span></p>
${report.truncated ? html`<p>${t('truncated')}</p>` : ''}
${recordsTable(t, report.accesses)}`
}`,
    options,
  );
}

/** CSV of a report; cells that a spreadsheet would run as formulas are quoted as text. */
export function reportCsv(accesses: AccessRecordRow[]): string {
  const cell = (value: string): string => {
    const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
    return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  const lines = [['at', 'consumer', 'purpose', 'outcome', 'requestId', 'fields'].join(',')];
  for (const record of accesses) {
    lines.push(
      [
        record.at,
        record.consumer,
        record.purpose,
        record.outcome,
        record.requestId,
        record.fields.map((group) => `${group.type}.${group.fields.join(`|${group.type}.`)}`).join('|'),
      ]
        .map(cell)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}
