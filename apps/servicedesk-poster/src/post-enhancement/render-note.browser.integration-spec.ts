/**
 * The note as a technician sees it: each output format's HTML rendered in
 * real headless Chromium (Debian's package, installed by
 * tools/dev/ensure-tools.sh) inside a page that shows a note description
 * the way SDP does (as HTML), checking the visible text. With
 * WRITE_SCREENSHOTS=1 it refreshes docs/screenshots/note-<format>.png.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import type { Enhancement } from '@tep/contracts';
import { renderNote } from './render-note';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = join(__dirname, '..', '..', '..', '..', 'docs', 'screenshots');

/** What a small local model really answers: markdown of its own and the odd tag. */
const enhancement: Enhancement = {
  likely_cause:
    '**Connection pool exhaustion** on the billing app after the deploy, as in TKT-10203 — see `max_pool_size`. <b>Act now</b>',
  suggested_actions: [
    'Check active connections: SELECT count(*) FROM pg_stat_activity;',
    '## Raise the pool to <max> (50) in `app.yaml`',
    'Restart the billing service and confirm with the requester',
  ],
  related_tickets: ['TKT-10203', 'TKT-11405'],
  confidence: 0.85,
  synthesizer: 'llm',
  model: 'openai/gpt-4o-mini',
  fallback_reason: null,
  usage: null,
};

const describeIfChromium = existsSync(CHROMIUM) ? describe : describe.skip;
if (!existsSync(CHROMIUM)) console.warn(`SKIPPED: no Chromium at ${CHROMIUM}`);

describeIfChromium('the note in a real browser', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it.each(['markdown', 'html', 'plain'] as const)(
    '%s: reads as text a person expects, with no markup artefacts',
    async (format) => {
      const html = renderNote(enhancement, format, 'job-1', new Date('2026-12-01T10:35:00Z'));
      const page = await browser.newPage({ viewport: { width: 760, height: 520 } });
      try {
        // SDP puts the note description into its page as HTML.
        await page.setContent(
          `<html><body style="font-family: Arial, sans-serif; font-size: 13px; margin: 16px">
             <div style="border:1px solid #ccc; padding:12px; background:#fffdf4">
               <div style="color:#666; margin-bottom:8px">Private note · API Technician</div>
               <div id="note">${html}</div>
             </div></body></html>`,
        );
        const text = await page.locator('#note').innerText();
        expect(text).toContain('Likely Cause: Connection pool exhaustion on the billing app');
        expect(text).toContain('SELECT count(*) FROM pg_stat_activity;');
        expect(text).toContain('Raise the pool to <max> (50) in app.yaml');
        expect(text).toContain('Related Tickets: TKT-10203, TKT-11405');
        expect(text).toContain('Confidence: 85%');
        expect(text).not.toMatch(/\*\*|`|(^|\n)\s*#|&lt;|&gt;|&amp;|<\/?(b|strong|p|li)>/);
        // One line per item, as written.
        expect(text.split('\n').filter((l) => /Act now|Restart the billing/.test(l))).toHaveLength(
          2,
        );
        expect(await page.locator('#note script, #note a, #note img').count()).toBe(0);
        if (format !== 'plain') {
          expect(await page.locator('#note ol > li').count()).toBe(3);
          expect(
            await page
              .locator('#note b, #note strong')
              .filter({ hasText: 'Likely Cause:' })
              .count(),
          ).toBe(1);
        }
        if (process.env.WRITE_SCREENSHOTS === '1') {
          await page.screenshot({ path: join(SCREENSHOTS, `note-${format}.png`), fullPage: true });
        }
      } finally {
        await page.close();
      }
    },
    30_000,
  );
});
