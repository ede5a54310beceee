// Preloaded by the README's one-off commands (`npm run tep`, `backfill`,
// `db:reindex`): after `npm start`, they read the development encryption key
// it generated (.dev/state.json, git-ignored), so nothing needs setting by
// hand. Only fills a variable that is unset; production sets its own and has
// no .dev/ directory.
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const file = join(__dirname, '..', '..', '.dev', 'state.json');
if (
  !process.env.TENANT_ENCRYPTION_KEY &&
  process.env.NODE_ENV !== 'production' &&
  existsSync(file)
) {
  try {
    const { encryptionKey } = JSON.parse(readFileSync(file, 'utf8'));
    if (typeof encryptionKey === 'string' && encryptionKey)
      process.env.TENANT_ENCRYPTION_KEY = encryptionKey;
  } catch {
    // An unreadable state file: the command reports the missing key itself.
  }
}
