import type { TicketEnhancement } from '@tep/data';
import { CHANGED_TEXT_BELOW, planEnhancement, textOverlap } from './enhancement-plan';

const TEXT = 'Outlook disconnected\nOutlook shows Disconnected for the finance team since 9 AM.';
const earlier: TicketEnhancement = {
  job_id: 'job-1',
  status: 'posted',
  enhanced_text: TEXT,
  note_id: 'note-1',
};

describe('planEnhancement', () => {
  it('enhances a ticket seen for the first time, created or updated', () => {
    expect(
      planEnhancement({ status: 'Open', text: TEXT, earlier: undefined, onUpdate: 'none' }),
    ).toEqual({ kind: 'enhance', updateOf: null });
  });

  it.each(['Resolved', 'closed', ' Completed ', 'Cancelled'])(
    'never enhances a %s ticket',
    (status) => {
      const plan = planEnhancement({ status, text: TEXT, earlier: undefined, onUpdate: 'refresh' });
      expect(plan).toMatchObject({ kind: 'skip' });
      expect(plan.kind === 'skip' && plan.reason).toContain('kept as history');
    },
  );

  it('posts nothing more by default (on_update none), however much the text changed', () => {
    const plan = planEnhancement({
      status: 'In Progress',
      text: 'Completely different: the printer on floor 3 is jammed',
      earlier,
      onUpdate: 'none',
    });
    expect(plan).toEqual({
      kind: 'skip',
      reason: 'the ticket already has its enhancement (job job-1); on_update is none',
    });
  });

  it('ignores updates that leave the text nearly as it was', () => {
    const plan = planEnhancement({
      status: 'In Progress',
      text: `${TEXT} `.replace('9 AM', '9:00 AM'),
      earlier,
      onUpdate: 'refresh',
    });
    expect(plan).toMatchObject({ kind: 'skip' });
  });

  it.each(['refresh', 'new_note'] as const)(
    'updates the enhancement (%s) when the text changed enough',
    (onUpdate) => {
      const text = `${TEXT}\nUpdate: the error is 0x8004010F "Outlook data file cannot be accessed" after the profile was rebuilt; OWA works.`;
      expect(textOverlap(TEXT, text)).toBeLessThan(CHANGED_TEXT_BELOW);
      expect(planEnhancement({ status: 'Open', text, earlier, onUpdate })).toEqual({
        kind: 'enhance',
        updateOf: { mode: onUpdate, job_id: 'job-1', note_id: 'note-1' },
      });
    },
  );

  it('treats an earlier job without recorded text as unchanged', () => {
    const plan = planEnhancement({
      status: 'Open',
      text: 'anything at all',
      earlier: { ...earlier, enhanced_text: null },
      onUpdate: 'refresh',
    });
    expect(plan).toMatchObject({ kind: 'skip' });
  });
});

describe('textOverlap', () => {
  it('is 1 for the same words and 0 for none shared', () => {
    expect(textOverlap('VPN drops', 'vpn DROPS')).toBe(1);
    expect(textOverlap('VPN drops', 'printer jam')).toBe(0);
    expect(textOverlap('', '')).toBe(1);
    // Punctuation is not a word: a changed full stop changes nothing.
    expect(
      textOverlap('Outlook prompts for credentials.', 'Outlook prompts for credentials!'),
    ).toBe(1);
    expect(textOverlap('ping db01.acme.local', 'ping db01')).toBeCloseTo(1 / 3);
  });
});
