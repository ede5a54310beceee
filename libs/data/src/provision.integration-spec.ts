import { randomBytes } from 'node:crypto';
import { Client, escapeIdentifier } from 'pg';
import { TEST_ADMIN_URL } from '@tep/testing';
import { provisionDatabase, withDatabase } from './provision';

/** Roles and a database of this spec's own, so the platform's roles are untouched. */
describe('provisionDatabase and role passwords', () => {
  const suffix = randomBytes(4).toString('hex');
  const database = `tep_pw_${suffix}`;
  const roles = {
    owner: `tep_pw_owner_${suffix}`,
    app: `tep_pw_app_${suffix}`,
    registry: `tep_pw_reg_${suffix}`,
    poster: `tep_pw_post_${suffix}`,
  };
  const urls = (password: string) => ({
    adminUrl: TEST_ADMIN_URL,
    ownerUrl: `postgres://${roles.owner}:${password}@127.0.0.1:5432/${database}`,
    applicationUrl: `postgres://${roles.app}:${password}@127.0.0.1:5432/${database}`,
    registryUrl: `postgres://${roles.registry}:${password}@127.0.0.1:5432/${database}`,
    posterUrl: `postgres://${roles.poster}:${password}@127.0.0.1:5432/${database}`,
  });
  const admin = new Client({ connectionString: TEST_ADMIN_URL });
  const passwordHash = async (role: string) =>
    (
      await admin.query<{ p: string }>(
        `SELECT rolpassword AS p FROM pg_authid WHERE rolname = $1`,
        [role],
      )
    ).rows[0]?.p;

  beforeAll(() => admin.connect());
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(database)} WITH (FORCE)`);
    for (const role of Object.values(roles)) {
      await admin.query(`DROP ROLE IF EXISTS ${escapeIdentifier(role)}`);
    }
    await admin.end();
  });

  it('sets passwords when it creates the roles, keeps them on a later run, resets them only when asked', async () => {
    await provisionDatabase(urls('first-password'));
    const created = await passwordHash(roles.app);
    expect(created).toMatch(/^SCRAM-SHA-256\$/);

    await provisionDatabase(urls('stale-default-password'));
    expect(await passwordHash(roles.app)).toBe(created);
    expect(await passwordHash(roles.owner)).toBeDefined();

    await provisionDatabase({ ...urls('rotated-password'), resetPasswords: true });
    const rotated = await passwordHash(roles.app);
    expect(rotated).not.toBe(created);
    // Still a working database for the rotated owner.
    const owner = new Client({
      connectionString: withDatabase(urls('rotated-password').ownerUrl, database),
    });
    await owner.connect();
    await owner.end();
  });
});
