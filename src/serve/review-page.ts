/**
 * The review page: plain HTML, CSS and one small script, nothing from the network. Every text
 * from a rollout, a judge or a run is set with textContent, never parsed as HTML.
 */
export function reviewPage(nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Arbiter: human review</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<header>
  <h1>Human review</h1>
  <p>An AI judge scored these responses during a training run. Read each one, give your own verdict, and submit it.
  Your verdicts are compared with the judge's, so the people running the training can see how far to trust it.</p>
</header>
<main>
  <section id="auth" hidden aria-labelledby="auth-title">
    <h2 id="auth-title">Access token</h2>
    <p id="auth-message" class="error" role="alert"></p>
    <form id="token-form">
      <label for="token">Access token (ask the person who runs Arbiter for it)</label>
      <input id="token" name="token" type="password" autocomplete="off" spellcheck="false">
      <button type="submit">Continue</button>
    </form>
  </section>
  <section id="queue" hidden aria-labelledby="queue-title">
    <h2 id="queue-title" class="visually-hidden">Items to review</h2>
    <div class="bar">
      <p id="summary" role="status"></p>
      <label for="reviewer">Your name (kept with your answers)</label>
      <input id="reviewer" name="reviewer" autocomplete="name" maxlength="200">
      <button id="refresh" type="button">Refresh the list</button>
      <button id="forget" type="button">Forget the token</button>
    </div>
    <p id="load-error" class="error" role="alert"></p>
    <div id="items"></div>
  </section>
</main>
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>
`;
}

const STYLE = `
:root { color-scheme: light; --ink: #1b1f24; --muted: #555d66; --line: #c9ced4; --pass: #0b6b2e; --fail: #a3161b; --focus: #1a56db; }
* { box-sizing: border-box; }
body { margin: 0; font: 17px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f6f7f9; }
header, main { max-width: 60rem; margin: 0 auto; padding: 0 1rem; }
header { padding-top: 1rem; }
h1 { font-size: 1.6rem; margin: 0.5rem 0; }
h2 { font-size: 1.25rem; margin: 0 0 0.5rem; }
h3 { font-size: 1.05rem; margin: 1rem 0 0.25rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.bar { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: center; margin: 1rem 0; }
.bar p { flex-basis: 100%; margin: 0; font-weight: 600; }
article { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 1rem 1.25rem; margin: 0 0 1.5rem; }
.meta { color: var(--muted); margin: 0; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; background: #fbfbfc; border-left: 4px solid var(--line); padding: 0.5rem 0.75rem; margin: 0; }
.turns { list-style: none; margin: 0; padding: 0; }
.turns li { margin: 0 0 0.5rem; }
.turns .who { font-weight: 600; font-size: 0.95rem; margin: 0 0 0.15rem; }
.turns li.assistant .text { border-left-color: #6b8fd6; }
.turns li.tool .text, .calls { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9rem; }
.calls { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0.25rem 0 0; padding: 0.25rem 0.75rem; background: #eef1f6; }
.judge { background: #f3f5f8; border-radius: 4px; padding: 0.5rem 0.75rem; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0; }
th, td { text-align: left; vertical-align: top; border-bottom: 1px solid var(--line); padding: 0.4rem 0.5rem; }
.pass { color: var(--pass); font-weight: 600; }
.fail { color: var(--fail); font-weight: 600; }
fieldset { border: 1px solid var(--line); border-radius: 4px; margin: 0.75rem 0; padding: 0.5rem 0.75rem; }
td fieldset { border: 0; margin: 0; padding: 0; }
legend { font-weight: 600; }
label { margin-right: 1rem; }
input[type=radio] { width: 1.1rem; height: 1.1rem; vertical-align: -0.15rem; }
input[type=number], input[type=password], input:not([type]), textarea { font: inherit; padding: 0.3rem 0.4rem; border: 1px solid #8a939c; border-radius: 4px; }
textarea { width: 100%; min-height: 4rem; }
button { font: inherit; padding: 0.4rem 0.9rem; border-radius: 4px; border: 1px solid #1d3f8a; background: #1d4ed8; color: #fff; cursor: pointer; }
button[type=button] { background: #fff; color: #1d3f8a; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.error { color: var(--fail); font-weight: 600; }
.error:empty, .done:empty { display: none; }
.done { color: var(--pass); font-weight: 600; }
`;

// Runs in the browser. No innerHTML anywhere: every value goes in with textContent.
const SCRIPT = `
'use strict';
const TOKEN_KEY = 'arbiter-review-token';
const NAME_KEY = 'arbiter-reviewer';
const WHY = {
  sampled: 'drawn at random from the step',
  inconsistent: 'the judge contradicted itself',
  'low-confidence': 'the judge score was close to the pass/fail line',
};
const $ = (id) => document.getElementById(id);
let counter = 0;

function el(tag, props, children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === 'text') node.textContent = v;
    else if (k === 'class') node.className = v;
    else if (k === 'hidden') node.hidden = v;
    else node.setAttribute(k, v);
  }
  for (const child of children || []) if (child) node.append(child);
  return node;
}

// A token in the address is taken once, kept for this tab only, and removed from the address.
(function takeTokenFromAddress() {
  const url = new URL(location.href);
  const given = url.searchParams.get('token');
  if (given) {
    sessionStorage.setItem(TOKEN_KEY, given);
    url.searchParams.delete('token');
    history.replaceState(null, '', url.pathname + url.search + url.hash);
  }
})();

function headers() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const h = { 'content-type': 'application/json' };
  if (token) h.authorization = 'Bearer ' + token;
  return h;
}

function askForToken(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  $('queue').hidden = true;
  $('auth').hidden = false;
  $('auth-message').textContent = message;
  $('token').value = '';
  $('token').focus();
}

async function load() {
  $('load-error').textContent = '';
  let response;
  try {
    response = await fetch('/review/api/items', { headers: headers() });
  } catch (err) {
    $('queue').hidden = false;
    $('load-error').textContent = 'Could not reach the review service: ' + err.message;
    return;
  }
  if (response.status === 401) {
    const hadToken = sessionStorage.getItem(TOKEN_KEY) !== null;
    askForToken(hadToken ? 'That token was not accepted (401). Check it and enter it again.' : 'This page needs an access token.');
    return;
  }
  const body = await response.json().catch(() => ({}));
  $('auth').hidden = true;
  $('queue').hidden = false;
  if (!response.ok) {
    $('load-error').textContent = 'The list could not be loaded (' + response.status + '): ' + (body.message || 'no reason given');
    return;
  }
  render(body.items || [], body.unreadable || []);
}

function render(items, unreadable) {
  const list = $('items');
  list.replaceChildren();
  setSummary(items.length);
  if (unreadable.length > 0) {
    $('load-error').textContent = unreadable.map((u) => u.reviewWorkflowId + ' could not be read: ' + u.message).join('; ');
  }
  for (const item of items) list.append(itemCard(item));
}

function setSummary(n) {
  $('summary').textContent = n === 0 ? 'Nothing to review right now.' : n + (n === 1 ? ' item' : ' items') + ' to review.';
}

function textBlock(title, text, missing) {
  return [el('h3', { text: title }), el('p', { class: 'text', text: text === null ? missing : text })];
}

// A multi-turn trajectory reads as the conversation it was: each turn with who spoke (which tool,
// for a tool's result) and the tool calls an assistant turn made, set apart in a fixed font.
function conversation(turns) {
  const list = el('ol', { class: 'turns' }, turns.map((t) => el('li', { class: t.role }, [
    el('p', { class: 'who', text: t.label }),
    t.text === '' ? null : el('p', { class: 'text', text: t.text }),
    ...(t.toolCalls || []).map((c) => el('p', { class: 'calls', text: c })),
  ])));
  return [el('h3', { text: 'Conversation before the answer (' + turns.length + (turns.length === 1 ? ' turn' : ' turns') + ')' }), list];
}

function verdictWord(pass) {
  return el('span', { class: pass ? 'pass' : 'fail', text: pass ? 'Pass' : 'Fail' });
}

function radio(name, value, labelText, id) {
  const input = el('input', { type: 'radio', name: name, value: value, id: id });
  return [input, el('label', { for: id, text: labelText })];
}

function itemCard(item) {
  const n = ++counter;
  const id = (s) => 'i' + n + '-' + s;
  const heading = el('h2', { id: id('title'), text: 'Run ' + item.runId + ', step ' + item.step + ', item ' + item.itemId });
  const article = el('article', { 'aria-labelledby': id('title'), 'data-item': item.itemId, 'data-review': item.reviewWorkflowId });
  const noText = item.textsMissing ? 'Not available here: ' + item.textsMissing : 'Not available.';
  article.append(
    heading,
    el('p', { class: 'meta', text: 'Why it was picked: ' + (WHY[item.why] || item.why) + '. Answer by ' + new Date(item.deadline).toLocaleString() + '.' }),
    ...(item.turns ? conversation(item.turns) : textBlock('Prompt', item.prompt, noText)),
    ...textBlock(item.turns ? 'Final answer being judged' : 'Response being judged', item.response, noText),
    ...textBlock('Reference answer', item.reference, item.textsMissing ? noText : 'No reference answer was given.'),
  );

  const judge = el('div', { class: 'judge' }, [
    el('h3', { text: "The AI judge's verdict" }),
    el('p', {}, [
      'Overall: ', verdictWord(item.judgePass),
      item.judgeScore === null ? ' (the judge failed; a fallback reward was used)' : ' (score ' + item.judgeScore.toFixed(2) + ')',
      ', reward ' + item.reward.toFixed(3) + '.',
    ]),
    el('p', { text: 'Rationale: ' + (item.rationale === null ? noText : item.rationale || 'none given') }),
  ]);
  article.append(judge);

  const form = el('form', { novalidate: '' });
  const criterionInputs = [];
  if (item.criteria.length > 0) {
    const rows = item.criteria.map((c, i) => {
      const name = id('c' + i);
      const group = el('fieldset', {}, [
        el('legend', { class: 'visually-hidden', text: 'Your verdict on ' + c.id }),
        ...radio(name, 'pass', 'Pass', name + '-pass'),
        ...radio(name, 'fail', 'Fail', name + '-fail'),
      ]);
      criterionInputs.push({ id: c.id, name: name });
      return el('tr', {}, [
        el('th', { scope: 'row', text: c.id }),
        el('td', {}, [verdictWord(c.pass)]),
        el('td', { text: c.evidence === null ? '' : c.evidence }),
        el('td', {}, [group]),
      ]);
    });
    form.append(
      el('table', {}, [
        el('caption', { class: 'visually-hidden', text: 'Criteria: the judge\\'s verdict and yours' }),
        el('thead', {}, [el('tr', {}, [el('th', { scope: 'col', text: 'Criterion' }), el('th', { scope: 'col', text: 'Judge' }), el('th', { scope: 'col', text: "Judge's evidence" }), el('th', { scope: 'col', text: 'Your verdict' })])]),
        el('tbody', {}, rows),
      ]),
    );
  }

  const overallName = id('overall');
  const score = el('input', { type: 'number', id: id('score'), min: '0', max: '1', step: '0.05', inputmode: 'decimal', 'aria-describedby': id('score-help') });
  const overall = el('fieldset', {}, [
    el('legend', { text: 'Your overall verdict on the response' }),
    ...radio(overallName, 'pass', 'Pass', id('overall-pass')),
    ...radio(overallName, 'fail', 'Fail', id('overall-fail')),
    ...radio(overallName, 'score', 'Give a score instead', id('overall-score')),
    el('div', {}, [
      el('label', { for: id('score'), text: 'Score' }),
      score,
      el('span', { id: id('score-help'), class: 'meta', text: ' from 0 (fails) to 1 (passes); 0.5 and above counts as a pass' }),
    ]),
  ]);
  const note = el('textarea', { id: id('note'), maxlength: '2000' });
  const error = el('p', { class: 'error', role: 'alert', id: id('error') });
  const done = el('p', { class: 'done', role: 'status', id: id('done'), tabindex: '-1' });
  const submit = el('button', { type: 'submit', text: 'Submit review' });
  form.append(overall, el('label', { for: id('note'), text: 'Note (optional): why, for the record' }), note, error, submit);
  article.append(form, done);

  // Until the reviewer picks an overall verdict, it follows the criteria: any fail fails.
  let overallTouched = false;
  const pick = (value) => { const r = form.querySelector('input[name="' + overallName + '"][value="' + value + '"]'); if (r) r.checked = true; };
  form.addEventListener('change', (event) => {
    const target = event.target;
    if (target.name === overallName) { overallTouched = true; return; }
    if (target === score) { overallTouched = true; pick('score'); return; }
    if (overallTouched) return;
    const given = criterionInputs.map((c) => (form.querySelector('input[name="' + c.name + '"]:checked') || {}).value);
    if (given.includes('fail')) pick('fail');
    else if (given.every((v) => v === 'pass')) pick('pass');
  });
  score.addEventListener('input', () => { overallTouched = true; pick('score'); });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    const answer = { reviewWorkflowId: item.reviewWorkflowId, itemId: item.itemId };
    const chosen = (form.querySelector('input[name="' + overallName + '"]:checked') || {}).value;
    if (chosen === 'pass' || chosen === 'fail') answer.verdict = chosen;
    if (chosen === 'score') {
      const value = score.value.trim() === '' ? NaN : Number(score.value);
      if (!Number.isFinite(value)) { error.textContent = 'Score: enter a number from 0 to 1.'; score.focus(); return; }
      answer.score = value;
    }
    const criteria = [];
    for (const c of criterionInputs) {
      const v = (form.querySelector('input[name="' + c.name + '"]:checked') || {}).value;
      if (v) criteria.push({ id: c.id, pass: v === 'pass' });
    }
    if (criteria.length > 0) answer.criteria = criteria;
    if (note.value.trim() !== '') answer.note = note.value.trim();
    const reviewer = $('reviewer').value.trim();
    if (reviewer !== '') answer.reviewer = reviewer;
    submit.disabled = true;
    try {
      const response = await fetch('/review/api/answers', { method: 'POST', headers: headers(), body: JSON.stringify(answer) });
      const body = await response.json().catch(() => ({}));
      if (response.status === 401) { askForToken('That token was not accepted (401). Enter it again; your answer was not sent.'); return; }
      if (!response.ok) { error.textContent = 'Not recorded: ' + (body.message || 'error ' + response.status); return; }
      form.remove();
      done.textContent = 'Recorded. You ' + (body.agreesWithJudge ? 'agree' : 'disagree') + ' with the judge. ' +
        body.open + (body.open === 1 ? ' item is' : ' items are') + ' still open in this run\\'s review.';
      done.focus();
      setSummary(document.querySelectorAll('#items form').length);
    } catch (err) {
      error.textContent = 'Not recorded: the review service could not be reached (' + err.message + ').';
    } finally {
      submit.disabled = false;
    }
  });
  return article;
}

$('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const token = $('token').value.trim();
  if (token === '') { $('auth-message').textContent = 'Enter the access token.'; return; }
  sessionStorage.setItem(TOKEN_KEY, token);
  load();
});
$('refresh').addEventListener('click', load);
$('forget').addEventListener('click', () => askForToken('Token forgotten. Enter it again to continue.'));
$('reviewer').value = sessionStorage.getItem(NAME_KEY) || '';
$('reviewer').addEventListener('change', () => sessionStorage.setItem(NAME_KEY, $('reviewer').value.trim()));
load();
`;
