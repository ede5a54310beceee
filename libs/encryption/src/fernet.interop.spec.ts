/**
 * Tokens must interoperate with Python's `cryptography.fernet` both ways:
 * the runbook's troubleshooting decrypts our tokens with it.
 */
import { execFileSync } from 'node:child_process';
import { Fernet, MultiFernet } from './index';

function pythonHasCryptography(): boolean {
  try {
    execFileSync('python3', ['-c', 'import cryptography.fernet'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const available = pythonHasCryptography();
if (!available) {
  console.warn(
    'SKIPPED fernet python interop: python3 with the cryptography module is not available',
  );
}
const describeInterop = available ? describe : describe.skip;

const python = (script: string, input: object) =>
  execFileSync('python3', ['-c', script], { input: JSON.stringify(input) })
    .toString()
    .trim();

describeInterop('Fernet interop with Python cryptography', () => {
  const key = Fernet.generateKey();

  it('Python decrypts a token we made', () => {
    const token = new Fernet(key).encrypt('SDPAPI_ABC123XYZ456');
    const out = python(
      'import json,sys; from cryptography.fernet import Fernet; a=json.load(sys.stdin); print(Fernet(a["key"].encode()).decrypt(a["token"].encode()).decode())',
      { key, token },
    );
    expect(out).toBe('SDPAPI_ABC123XYZ456');
  });

  it('we decrypt a token Python made, with a key Python generated', () => {
    const made = JSON.parse(
      python(
        'import json,sys; from cryptography.fernet import Fernet; k=Fernet.generate_key(); print(json.dumps({"key": k.decode(), "token": Fernet(k).encrypt(b"7f3e9a2b webhook secret").decode()}))',
        {},
      ),
    ) as { key: string; token: string };
    expect(new Fernet(made.key).decryptString(made.token)).toBe('7f3e9a2b webhook secret');
  });

  it('Python decrypts a token we rotated with MultiFernet', () => {
    const newKey = Fernet.generateKey();
    const rotated = new MultiFernet([newKey, key]).rotate(
      new Fernet(key).encrypt('rotated secret'),
    );
    const out = python(
      'import json,sys; from cryptography.fernet import Fernet; a=json.load(sys.stdin); print(Fernet(a["key"].encode()).decrypt(a["token"].encode()).decode())',
      { key: newKey, token: rotated },
    );
    expect(out).toBe('rotated secret');
  });
});
