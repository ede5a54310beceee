/**
 * The note as a technician sees it: each output format's HTML rendered in
 * real headless Chromium (Debian's package, installed by
 * tools/dev/ensure-tools.sh) inside a page that shows a note description
 * the way SDP does (as HTML), checking the visible text: the English note
 * in each format, a German one, and one opened by a possible-outage banner.
 * With WRITE_SCREENSHOTS=1 it refreshes docs/screenshots/note-<format>.png,
 * note-de-markdown.png and note-outage-markdown.png.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Enhancement, TicketContext } from '@tep/contracts';
import { renderNote, type NoteInput } from './render-note';

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
  language: 'en',
  model: 'openai/gpt-4o-mini',
  fallback_reason: null,
  usage: null,
};

const context: TicketContext = {
  similar_tickets: ['TKT-10203', 'TKT-11405'].map((id) => ({
    ticket_id: id,
    display_id: id,
    subject: `Subject of ${id}`,
    resolution: 'Raised the pool size.',
    score: 0.7,
    match: 'full_text' as const,
    confident: true,
  })),
  kb_articles: [],
  systems: [],
  degraded: [],
  language: 'en',
  possible_outage: null,
  update_of: null,
};

const note = (overrides: Partial<NoteInput>): NoteInput => ({
  enhancement,
  context,
  format: 'markdown',
  visibility: 'technicians',
  jobId: 'job-1',
  at: new Date('2026-12-01T10:35:00Z'),
  ...overrides,
});

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

  /** The note's visible text as SDP would show it; with WRITE_SCREENSHOTS=1 also a screenshot. */
  async function show(
    html: string,
    screenshot: string,
    check: (page: Page, text: string) => Promise<void>,
  ) {
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
      expect(text).not.toMatch(
        /\*\*|`|(^|\n)\s*#|&lt;|&gt;|&amp;|&nbsp;|<\/?(b|strong|p|li|ul|ol)>/,
      );
      expect(await page.locator('#note script, #note a, #note img').count()).toBe(0);
      expect(text.trim().split('\n').at(-1)).toBe('Enhancement ref: job-1');
      await check(page, text);
      if (process.env.WRITE_SCREENSHOTS === '1') {
        await page.screenshot({ path: join(SCREENSHOTS, screenshot), fullPage: true });
      }
    } finally {
      await page.close();
    }
  }

  it.each(['markdown', 'html', 'plain'] as const)(
    '%s: reads as text a person expects, with no markup artefacts',
    async (format) => {
      await show(renderNote(note({ format })), `note-${format}.png`, async (page, text) => {
        expect(text).toContain('Likely Cause: Connection pool exhaustion on the billing app');
        expect(text).toContain('SELECT count(*) FROM pg_stat_activity;');
        expect(text).toContain('Raise the pool to <max> (50) in app.yaml');
        expect(text).toContain('Related Tickets: TKT-10203, TKT-11405');
        expect(text).toContain('Confidence: 85%');
        // One line per item, as written.
        expect(text.split('\n').filter((l) => /Act now|Restart the billing/.test(l))).toHaveLength(
          2,
        );
        if (format !== 'plain') {
          expect(await page.locator('#note ol > li').count()).toBe(3);
          expect(
            await page
              .locator('#note b, #note strong')
              .filter({ hasText: 'Likely Cause:' })
              .count(),
          ).toBe(1);
        }
      });
    },
    30_000,
  );

  it('a German note: German labels, no English ones, the marker unchanged', async () => {
    const german: Enhancement = {
      ...enhancement,
      language: 'de',
      likely_cause:
        '**Erschöpfter Verbindungspool** der Abrechnungs-App nach dem Deployment, wie in TKT-10203.',
      suggested_actions: [
        'Aktive Verbindungen prüfen: SELECT count(*) FROM pg_stat_activity;',
        '## Pool in `app.yaml` auf <max> (50) erhöhen',
        'Abrechnungsdienst neu starten und mit dem Anforderer bestätigen',
      ],
      related_tickets: ['TKT-10203', 'TKT-11405', 'TKT-9001'],
    };
    await show(
      renderNote(note({ enhancement: german })),
      'note-de-markdown.png',
      async (page, text) => {
        expect(text).toContain('KI-generierte Ergänzung (2026-12-01 10:35:00 UTC)');
        expect(text).toContain('Wahrscheinliche Ursache: Erschöpfter Verbindungspool');
        expect(text).toContain('Empfohlene Maßnahmen:');
        expect(text).toContain('Pool in app.yaml auf <max> (50) erhöhen');
        expect(text).toContain(
          'Verwandte Tickets: TKT-10203, TKT-11405 — möglicherweise verwandt: TKT-9001',
        );
        expect(text).toMatch(/Konfidenz: 85\s%/);
        expect(text).not.toMatch(/Likely Cause|Suggested Actions|Related Tickets|Confidence/);
        expect(await page.locator('#note ol > li').count()).toBe(3);
      },
    );
  }, 30_000);

  it('a possible outage opens the note, with the open tickets', async () => {
    const outage: TicketContext['possible_outage'] = {
      window_minutes: 60,
      count: 3,
      tickets: [
        { ticket_id: '9101', display_id: 'TKT-12001', subject: 'Billing app times out' },
        { ticket_id: '9102', display_id: 'TKT-12004', subject: 'Cannot save **invoices**' },
        { ticket_id: '9103', display_id: null, subject: 'Billing <b>very</b> slow since 10:20' },
      ],
    };
    await show(
      renderNote(note({ context: { ...context, possible_outage: outage } })),
      'note-outage-markdown.png',
      async (page, text) => {
        const lines = text.split('\n').filter((l) => l.trim());
        expect(lines[1]).toBe('⚠️ Possible outage: 3 similar open tickets in the last hour');
        expect(lines.slice(2, 5)).toEqual([
          'TKT-12001 — Billing app times out',
          'TKT-12004 — Cannot save invoices',
          '9103 — Billing very slow since 10:20',
        ]);
        expect(lines[5]).toBe('Based on ticket history and knowledge base:');
        expect(await page.locator('#note ul > li').count()).toBe(3);
      },
    );
  }, 30_000);
});
