/** The matrix page: filters, the paged field × view grid, and record rules per consumer. */
import { html, type Html } from '../html.ts';
import type { Translate } from '../i18n.ts';
import type { Matrix, MatrixCell, MatrixFilter, RuleRef } from '../matrix.ts';
import { page, pager, type PageContext } from './layout.ts';

function select(
  name: string,
  label: string,
  t: Translate,
  values: { value: string; label: string }[],
  chosen: string | undefined,
): Html {
  return html`<label>${label}
    <select name="${name}">
      <option value="">${t('any')}</option>
      ${values.map((option) => html`<option value="${option.value}"${option.value === chosen ? html` selected` : ''}>${option.label}</option>`)}
    </select></label>`;
}

function ruleText(
  t: Translate,
  rule: RuleRef | null,
  fallback: 'default_deny' | 'default_records' = 'default_deny',
): Html {
  return rule
    ? html`<span class="rule" title="${rule.id}: ${rule.description}"><span class="place">${rule.file}:${rule.line}</span> ${rule.id}</span>`
    : html`<span class="rule">${t(fallback)}</span>`;
}

function cell(
  t: Translate,
  column: { consumer: string; purpose: string },
  coordinate: string,
  decision: MatrixCell,
): Html {
  const label = decision.effect === 'mask' ? `${t('mask')} ${decision.mask ?? ''}` : t(decision.effect);
  return html`<td class="cell ${decision.effect}" data-consumer="${column.consumer}" data-purpose="${column.purpose}" data-field="${coordinate}"
    data-effect="${decision.effect}" data-mask="${decision.mask ?? ''}" data-rule="${decision.ruleId ?? ''}"
    data-place="${decision.rule ? `${decision.rule.file}:${decision.rule.line}` : ''}"><span class="effect">${label}</span> ${ruleText(t, decision.rule)}</td>`;
}

export function matrixPage(ctx: PageContext, matrix: Matrix, filter: MatrixFilter, params: URLSearchParams): string {
  const { t } = ctx;
  return page(
    ctx,
    t('matrix_title'),
    html`
<form method="get" action="/matrix" class="filters" aria-label="${t('filter')}">
  ${select(
    'consumer',
    t('consumer'),
    t,
    matrix.choices.consumers.map((value) => ({ value, label: value })),
    filter.consumer,
  )}
  <label>${t('field')} <input name="field" value="${filter.field ?? ''}"></label>
  ${select(
    'department',
    t('department'),
    t,
    matrix.choices.departments.map((value) => ({ value, label: value })),
    filter.department,
  )}
  ${select(
    'item',
    t('catalog_item'),
    t,
    matrix.choices.items.map((item) => ({ value: item.code, label: `${item.code} ${item.name}` })),
    filter.item,
  )}
  ${select(
    'dataClass',
    t('data_class'),
    t,
    matrix.choices.dataClasses.map((value) => ({ value, label: value })),
    filter.dataClass,
  )}
  <button type="submit">${t('filter')}</button>
</form>
<p>${matrix.totalRows} ${t('fields')}</p>
<div class="scroll">
<table class="matrix">
  <thead><tr><th scope="col">${t('field')}</th>${matrix.columns.map((column) => html`<th scope="col">${column.consumer}<br><small>${column.purpose}</small></th>`)}</tr></thead>
  <tbody>
  ${matrix.rows.map(
    (
      row,
    ) => html`<tr><th scope="row" data-field="${row.coordinate}">${row.coordinate}<br><small>${row.department} ${row.item} ${row.dataClass}</small></th>
    ${row.cells.map((decision, index) => cell(t, matrix.columns[index]!, row.coordinate, decision))}</tr>`,
  )}
  </tbody>
</table>
</div>
${pager(t, '/matrix', params, matrix.page, matrix.pages)}
<h2>${t('records_title')}</h2>
<div class="scroll">
<table class="records">
  <thead><tr><th scope="col">${t('record_type')}</th>${matrix.records.map(({ column }) => html`<th scope="col">${column.consumer}<br><small>${column.purpose}</small></th>`)}</tr></thead>
  <tbody>
  ${(matrix.records[0]?.rules ?? []).map(
    (first, row) => html`<tr><th scope="row">${first.typeName}</th>
    ${matrix.records.map(({ column, rules }) => {
      const rule = rules[row]!;
      return html`<td data-consumer="${column.consumer}" data-record="${rule.typeName}">${rule.description} ${ruleText(t, rule.rule, 'default_records')}</td>`;
    })}</tr>`,
  )}
  </tbody>
</table>
</div>`,
  );
}
