/**
 * The retrieval evaluation in `npm test`: the whole labelled dataset through
 * the gatherer's code (it takes seconds), held to the floors recorded in
 * docs/retrieval-quality.md, so a ranking regression fails the build; and
 * the calibration of the offline note's confidence, which must be produced.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { TenantDatabase, createDataSource } from '@tep/data';
import { createTestDatabase, type TestDatabase } from '@tep/testing';
import { BAND_EDGES, calibrationReport, collectNotes, isMonotone } from './calibration';
import { loadDataset } from './dataset';
import { evaluate, loadHistory } from './evaluate';
import { measureFeedbackEffect } from './feedback';
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

  it('calibrates the offline confidence: every note in a band, grounded only when it cites a ticket', async () => {
    const notes = await collectNotes(database, tenantId, dataset);
    expect(notes.map((n) => n.queryId)).toEqual(dataset.queries.map((q) => q.id));
    for (const n of notes) {
      expect(n.confidence).toBeGreaterThanOrEqual(0);
      expect(n.confidence).toBeLessThanOrEqual(1);
      if (n.grounded) expect(n.cited).not.toBeNull();
      if (n.grounded) expect(n.relevantListed).toBe(true);
    }
    const report = calibrationReport(notes);
    const production = report.production.calibration;
    expect(production.bands.map((b) => b.from)).toEqual(BAND_EDGES.slice(0, -1));
    expect(production.bands.reduce((sum, b) => sum + b.notes, 0)).toBe(dataset.queries.length);
    expect(production.bands.reduce((sum, b) => sum + b.grounded, 0)).toBe(production.grounded);
    expect(production.brier).toBeGreaterThanOrEqual(0);
    expect(production.ece).toBeGreaterThanOrEqual(0);
    // The tuned confidence stays monotone in the best score and is no worse than production's.
    expect(isMonotone(report.proposed.model)).toBe(true);
    expect(report.proposed.calibration.brier).toBeLessThanOrEqual(production.brier + 1e-9);
  }, 120_000);

  it('gets better on recurring tickets from simulated feedback, and no worse on the rest', async () => {
    const effect = await measureFeedbackEffect(database, tenantId, dataset);
    const { recurring, heldOut } = effect;
    expect(recurring.feedback.notes).toBe(dataset.queries.length);
    expect(recurring.feedback.helpful).toBeGreaterThan(0);
    expect(recurring.feedback.notHelpful).toBeGreaterThan(0);
    // A recurring ticket: the right answer rises, what is offered as the same issue is right more often.
    expect(recurring.after.overall.mrr10).toBeGreaterThan(recurring.before.overall.mrr10);
    expect(recurring.after.confidentPrecision).toBeGreaterThan(recurring.before.confidentPrecision);
    // Tickets never rated: the bound keeps the boost from doing harm.
    expect(heldOut.after.overall.mrr10).toBeGreaterThanOrEqual(heldOut.before.overall.mrr10 - 0.01);
    // And it leaves no feedback behind for the other checks.
    const left = await database.withTenant(tenantId, (tx) =>
      tx.query(`SELECT 1 FROM ticket_feedback WHERE tenant_id = $1`, [tenantId]),
    );
    expect(left).toHaveLength(0);
  }, 180_000);

  it("finds nothing of another tenant's history", async () => {
    const result = await evaluate(database, otherTenant, dataset);
    expect(result.perQuery.every((q) => q.ranked.length === 0)).toBe(true);
  }, 120_000);
});
