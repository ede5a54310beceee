/**
 * Tokens must interoperate with Python's `cryptography.fernet` both ways:
 * the runbook's troubleshooting decrypts our tokens with it. Skipped, visibly,
 * where python3 or the module is missing (e.g. a slim CI image).
 */
import { execFileSync } from 'node:child_process';
import { Fernet, MultiFernet } from './index';

const PYTHON_TIMEOUT_MS = 20_000;

function pythonCryptographyVersion(): string | undefined {
  try {
    return execFileSync(
      'python3',
      ['-c', 'import cryptography, cryptography.fernet; print(cryptography.__version__)'],
      { stdio: ['ignore', 'pipe', 'ignore'], timeout: PYTHON_TIMEOUT_MS },
    )
      .toString()
      .trim();
  } catch {
    return undefined;
  }
}

const cryptographyVersion = pythonCryptographyVersion();
if (cryptographyVersion === undefined) {
  console.warn(
    'SKIPPED fernet python interop: python3 with the cryptography module is not available',
  );
}
const describeInterop = cryptographyVersion === undefined ? describe.skip : describe;

/** Runs a Python snippet with `input` as JSON on stdin (keys never go on the command line). */
function python(script: string, input: object): string {
  const prelude = 'import json, sys\nfrom cryptography.fernet import Fernet, MultiFernet\n';
  return execFileSync('python3', ['-c', prelude + script], {
    input: JSON.stringify(input),
    timeout: PYTHON_TIMEOUT_MS,
  })
    .toString()
    .trim();
}

describeInterop(`Fernet interop with Python cryptography ${cryptographyVersion ?? ''}`, () => {
  const key = Fernet.generateKey();

  it('Python decrypts a token we made, with the timestamp we recorded', () => {
    const token = new Fernet(key).encrypt('SDPAPI_ABC123XYZ456', {
      now: new Date('2025-03-01T12:00:00Z'),
    });
    const out = JSON.parse(
      python(
        'a = json.load(sys.stdin)\n' +
          'f = Fernet(a["key"].encode())\n' +
          'print(json.dumps({"plaintext": f.decrypt(a["token"].encode()).decode(),' +
          ' "timestamp": f.extract_timestamp(a["token"].encode())}))',
        { key, token },
      ),
    ) as { plaintext: string; timestamp: number };
    expect(out).toEqual({
      plaintext: 'SDPAPI_ABC123XYZ456',
      timestamp: Date.parse('2025-03-01T12:00:00Z') / 1000,
    });
  });

  it('we decrypt a token Python made, with a key Python generated', () => {
    const made = JSON.parse(
      python(
        'k = Fernet.generate_key()\n' +
          'print(json.dumps({"key": k.decode(),' +
          ' "token": Fernet(k).encrypt("7f3e9a2b webhook secret ✓".encode()).decode()}))',
        {},
      ),
    ) as { key: string; token: string };
    expect(made.key).toMatch(/^[A-Za-z0-9_-]{43}=$/);
    expect(new Fernet(made.key).decryptString(made.token, { ttlSeconds: 60 })).toBe(
      '7f3e9a2b webhook secret ✓',
    );
  });

  it('Python decrypts, with the new key alone, a token we rotated, keeping its timestamp', () => {
    const newKey = Fernet.generateKey();
    const madeAt = new Date('2024-06-30T08:00:00Z');
    const rotated = new MultiFernet([newKey, key]).rotate(
      new Fernet(key).encrypt('rotated secret', { now: madeAt }),
    );
    const out = JSON.parse(
      python(
        'a = json.load(sys.stdin)\n' +
          'f = Fernet(a["key"].encode())\n' +
          'print(json.dumps({"plaintext": f.decrypt(a["token"].encode()).decode(),' +
          ' "timestamp": f.extract_timestamp(a["token"].encode())}))',
        { key: newKey, token: rotated },
      ),
    ) as { plaintext: string; timestamp: number };
    expect(out).toEqual({ plaintext: 'rotated secret', timestamp: madeAt.getTime() / 1000 });
  });

  it("we decrypt a token rotated by Python's MultiFernet with the new key", () => {
    const newKey = Fernet.generateKey();
    const token = new Fernet(key).encrypt('rotated by python');
    const rotated = python(
      'a = json.load(sys.stdin)\n' +
        'm = MultiFernet([Fernet(a["new"].encode()), Fernet(a["old"].encode())])\n' +
        'print(m.rotate(a["token"].encode()).decode())',
      { new: newKey, old: key, token },
    );
    expect(new Fernet(newKey).decryptString(rotated)).toBe('rotated by python');
    expect(new Fernet(newKey).extractTimestamp(rotated)).toBe(
      new Fernet(key).extractTimestamp(token),
    );
  });
});
