/** The sign-in page: an officer's API key or JWT, checked against the policy in force. */
import { html } from '../html.ts';
import { page, refusal, type PageContext } from './layout.ts';

export function loginPage(ctx: PageContext, refusedCode?: string): string {
  const { t } = ctx;
  return page(
    ctx,
    t('sign_in'),
    html`
${refusedCode ? refusal(t, refusedCode) : ''}
<p>${t('sign_in_intro')}</p>
<form method="post" action="/login" class="stack">
  <label for="credential">${t('credential')}</label>
  <input id="credential" name="credential" type="password" autocomplete="off" required autofocus size="60">
  <button type="submit">${t('sign_in')}</button>
</form>`,
  );
}
