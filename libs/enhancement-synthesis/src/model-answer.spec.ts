import { keepKnownTickets, normaliseConfidence, parseModelAnswer } from './model-answer';
import { context, goodAnswer } from './testing/fixtures';

describe('parseModelAnswer', () => {
  it('accepts a well-formed answer', () => {
    expect(parseModelAnswer(JSON.stringify(goodAnswer))).toEqual({ ok: true, answer: goodAnswer });
  });

  it.each([
    ['a fence', '```json\n' + JSON.stringify(goodAnswer) + '\n```'],
    [
      'a fence after a sentence',
      'Here you go:\n```\n' + JSON.stringify(goodAnswer) + '\n```\nBye.',
    ],
    ['a sentence', `Sure! The answer is ${JSON.stringify(goodAnswer)}. Anything else?`],
  ])('finds the JSON in %s', (_where, content) => {
    expect(parseModelAnswer(content)).toEqual({ ok: true, answer: goodAnswer });
  });

  it.each([
    [null, 'the reply was empty'],
    ['  ', 'the reply was empty'],
    ['{"likely_cause": "x"', 'the reply was not valid JSON'],
    [
      'Two answers: {"likely_cause": "x"} and {"likely_cause": "y"}',
      'the reply was not valid JSON',
    ],
    [
      '{"likely_cause": "", "suggested_actions": ["a"]}',
      'the JSON did not match the required shape (likely_cause: Too small: expected string to have >=1 characters)',
    ],
    [
      '{"likely_cause": "x"}',
      'the JSON did not match the required shape (suggested_actions: Invalid input: expected array, received undefined)',
    ],
  ])('explains what is wrong with %j', (content, problem) => {
    expect(parseModelAnswer(content)).toEqual({ ok: false, problem });
  });
});

describe('normaliseConfidence', () => {
  it.each([
    [0.42, 0.42],
    [85, 0.85],
    ['0.3', 0.3],
    ['70%', 0.7],
    [150, 1],
    [-2, 0],
    ['high', null],
    [null, null],
    [undefined, null],
  ])('%j → %j', (input, expected) => {
    expect(normaliseConfidence(input)).toBe(expected);
  });
});

describe('keepKnownTickets', () => {
  it('keeps ids from the context once each, as display ids, at most 10', () => {
    expect(
      keepKnownTickets(['9001', 'REQ-4521', ' 9002 ', 9003, 'REQ-1'], context.similar_tickets),
    ).toEqual(['REQ-4521', '9002', 'REQ-4390']);
  });

  it('lists them in the retrieval rank order, whatever order the model used', () => {
    // Scores in the fixture: REQ-4521 0.62, 9002 0.41, REQ-4390 lower.
    expect(keepKnownTickets(['REQ-4390', '9002', 'REQ-4521'], context.similar_tickets)).toEqual([
      'REQ-4521',
      '9002',
      'REQ-4390',
    ]);
  });
});
