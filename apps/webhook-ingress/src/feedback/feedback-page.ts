/**
 * The small pages a technician sees after clicking a note's feedback link.
 * Plain HTML, no script, no outside resource; every value escaped.
 */
import type { FeedbackRating } from '@tep/contracts';

const escape = (text: string) =>
  text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escape(title)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;color:#222}
fieldset{border:1px solid #ccc;border-radius:6px;margin:0 0 1rem;padding:.5rem 1rem}
label{margin-right:1rem;white-space:nowrap}textarea{width:100%;min-height:5rem}
button{font-size:1rem;padding:.5rem 1.5rem}
</style>
</head>
<body>
${body}
</body>
</html>
`;
}

const radios = (name: string, options: [string, string][], checked?: string) =>
  options
    .map(
      ([value, label]) =>
        `<label><input type="radio" name="${name}" value="${value}"${value === checked ? ' checked' : ''}> ${escape(label)}</label>`,
    )
    .join('\n');

const scale = (name: string) =>
  radios(
    name,
    ['1', '2', '3', '4', '5'].map((v) => [v, v]),
  );

/**
 * GET: the rating the link carried, chosen; the runbook's questions
 * (step 6.3); one button. Opening it records nothing (link scanners and
 * previews open links too): only the POST does.
 */
export function feedbackForm(action: string, rating: FeedbackRating): string {
  return page(
    'Feedback on the AI note',
    `<h1>Was the AI note helpful?</h1>
<form method="post" action="${escape(action)}">
<fieldset><legend>Your rating</legend>
${radios(
  'rating',
  [
    ['helpful', 'Helpful'],
    ['not_helpful', 'Not helpful'],
  ],
  rating,
)}
</fieldset>
<fieldset><legend>Was the suggestion relevant to the ticket?</legend>
${radios('relevant', [
  ['yes', 'Yes'],
  ['no', 'No'],
])}
</fieldset>
<fieldset><legend>Did it help resolve the ticket?</legend>
${radios('helped', [
  ['yes', 'Yes'],
  ['partially', 'Partially'],
  ['no', 'No'],
])}
</fieldset>
<fieldset><legend>Quality (1 = poor, 5 = excellent)</legend>
${scale('quality')}
</fieldset>
<fieldset><legend>Accuracy (1 = wrong, 5 = exactly right)</legend>
${scale('accuracy')}
</fieldset>
<p><label for="reason">Anything we should know? (optional)</label><br>
<textarea id="reason" name="reason" maxlength="2000"></textarea></p>
<p><button type="submit">Send feedback</button></p>
<p><small>You can change your answer later from the same link; the latest one counts.</small></p>
</form>`,
  );
}

export function thankYou(rating: FeedbackRating): string {
  return page(
    'Thank you',
    `<h1>Thank you</h1>
<p>Your feedback (${rating === 'helpful' ? 'helpful' : 'not helpful'}) was recorded. It improves the next suggestions for your team.</p>`,
  );
}

/** 400/403/410/413/415/429: what went wrong, in words, and nothing recorded. */
export function problemPage(title: string, message: string): string {
  return page(title, `<h1>${escape(title)}</h1>\n<p>${escape(message)}</p>`);
}
