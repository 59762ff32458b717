// The console's only script: live checking of the policy editor, going to a problem's line, and
// printing. Pages work without it (forms post and the server answers with the same checks).
'use strict';
(function () {
  const csrf = document.querySelector('meta[name="csrf"]')?.getAttribute('content') ?? '';
  const editor = document.getElementById('policy-text');
  const panel = document.getElementById('check');

  function goToLine(line, column) {
    if (!editor) return;
    const lines = editor.value.split('\n');
    let start = 0;
    for (let index = 0; index < line - 1 && index < lines.length; index++) start += lines[index].length + 1;
    const end = start + (lines[line - 1] ?? '').length;
    editor.focus();
    editor.setSelectionRange(start + Math.max(0, column - 1), end);
    const lineHeight = editor.scrollHeight / Math.max(1, lines.length);
    editor.scrollTop = Math.max(0, (line - 5) * lineHeight);
  }

  document.addEventListener('click', (event) => {
    const target = event.target instanceof Element ? event.target.closest('button.goto') : null;
    if (target) goToLine(Number(target.getAttribute('data-line')), Number(target.getAttribute('data-column')));
    if (event.target instanceof Element && event.target.closest('[data-print]')) window.print();
  });

  if (editor && panel) {
    let timer;
    let sequence = 0;
    const check = async () => {
      const mine = ++sequence;
      panel.setAttribute('aria-busy', 'true');
      const response = await fetch(editor.getAttribute('data-check-url'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
        body: JSON.stringify({ file: editor.getAttribute('data-file'), text: editor.value }),
        credentials: 'same-origin',
      });
      if (mine !== sequence) return;
      panel.innerHTML = await response.text();
      panel.setAttribute('aria-busy', 'false');
      panel.setAttribute('data-checked', String(mine));
    };
    editor.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => void check(), 400);
    });
  }
})();
