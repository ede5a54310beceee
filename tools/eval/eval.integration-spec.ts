/**
 * The retrieval evaluation in `npm test`: the whole labelled dataset through
 * the gatherer's code (it takes seconds), held to the floors recorded in
 * docs/retrieval-quality.md, so a ranking regression fails the build.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { TenantDatabase, createDataSource } from '@tep/data';
import { createTestDatabase, type TestDatabase } from '@tep/testing';
import { loadDataset } from './dataset';
import { evaluate, loadHistory } from './evaluate';
import { belowFloors, readFloors } from './floors';

describe('similar-ticket retrieval quality', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let database: TenantDatabase;
  const tenantId = randomUUID();
  const otherTenant = randomUUID();
  const dataset = loadDataset();

  beforeAll(async () => {
    db = await createTestDatabase();
    dataSource = createDataSource({ url: db.appUrl, poolSize: 2 });
    await dataSource.initialize();
    database = new TenantDatabase(dataSource);
    await loadHistory(database, tenantId, dataset);
  }, 120_000);

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('meets the floors recorded in docs/retrieval-quality.md and never offers an empty resolution', async () => {
    const result = await evaluate(database, tenantId, dataset);
    expect(belowFloors(result.overall, readFloors())).toEqual([]);
    expect(result.uninformativeOffered).toBe(0);
    // What is presented as the likely same issue is usually right.
    expect(result.confidentPrecision).toBeGreaterThanOrEqual(0.6);
  }, 120_000);

  it("finds nothing of another tenant's history", async () => {
    const result = await evaluate(database, otherTenant, dataset);
    expect(result.perQuery.every((q) => q.ranked.length === 0)).toBe(true);
  }, 120_000);
});
