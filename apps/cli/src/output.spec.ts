import { Reporter, memoryIo, renderTable } from './output';

describe('output', () => {
  it('human mode: results and progress on stdout, no JSON document', () => {
    const io = memoryIo();
    const out = new Reporter(io, false);
    out.progress('[1/6] Prerequisites');
    out.check('passed', 'PostgreSQL reachable', '15.2');
    out.print('result');
    out.document({ ignored: true });
    expect(io.out()).toBe('[1/6] Prerequisites\n  ✅ PostgreSQL reachable — 15.2\nresult\n');
    expect(io.err()).toBe('');
  });

  it('--json: stdout holds exactly the document; progress and errors go to stderr', () => {
    const io = memoryIo();
    const out = new Reporter(io, true);
    out.progress('working');
    out.check('failed', 'NATS reachable', 'ECONNREFUSED');
    out.print('human-only text');
    out.error('boom');
    out.document({ command: 'status', exit_code: 3 });
    expect(JSON.parse(io.out())).toEqual({ command: 'status', exit_code: 3 });
    expect(io.err()).toBe('working\n  ❌ NATS reachable — ECONNREFUSED\n❌ boom\n');
  });

  it('asks only when a human can answer', async () => {
    expect(await new Reporter(memoryIo(), false).confirm('Roll back?')).toBe(false);
    const asked: string[] = [];
    const io = memoryIo({
      confirm: (q) => {
        asked.push(q);
        return Promise.resolve(true);
      },
    });
    expect(await new Reporter(io, true).confirm('Roll back?')).toBe(true);
    expect(asked).toEqual(['Roll back?']);
  });

  it('aligns table columns', () => {
    expect(renderTable(['A', 'Long header'], [['value', 'x']])).toBe(
      ['| A     | Long header |', '|-------|-------------|', '| value | x           |'].join('\n'),
    );
  });
});
