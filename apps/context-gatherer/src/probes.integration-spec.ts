/**
 * A worker's probes against real Postgres and NATS: /readyz checks every
 * dependency it uses (Postgres included) and names the one that is gone,
 * while /livez stays 200 so Kubernetes never restarts a pod for an outage a
 * restart cannot fix. The probes stay out of the request logs.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import {
  TEST_NATS_URL,
  createTestDatabase,
  createTestNats,
  startServiceProcess,
  type TestDatabase,
  type TestNats,
} from '@tep/testing';
import { AppModule } from './app.module';
import { loadGathererConfig } from './config/gatherer.config';

describe('context-gatherer probes', () => {
  let db: TestDatabase;
  let nats: TestNats;
  let app: INestApplication;
  let baseUrl: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    nats = await createTestNats();
    const config = loadGathererConfig({
      DATABASE_URL: db.appUrl,
      NATS_NAMESPACE: nats.namespace,
      LOG_LEVEL: 'error',
    });
    app = await NestFactory.create(AppModule.register(config), { logger: false });
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${((app.getHttpServer() as Server).address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await app?.close();
    await nats?.cleanup();
    await db?.drop();
  });

  it('is live and ready with Postgres and NATS up, readiness naming what it checked', async () => {
    const live = await fetch(`${baseUrl}/livez`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'alive', uptime_seconds: expect.any(Number) });
    const ready = await fetch(`${baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ready',
      checked: ['jetstream', 'nats', 'postgres'],
    });
    expect((await fetch(`${baseUrl}/health`)).status).toBe(200);
  });

  it('reports /readyz 503 naming postgres when the database is gone, /livez still 200', async () => {
    const dataSource = app.get(DataSource);
    await dataSource.destroy();
    try {
      const ready = await fetch(`${baseUrl}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({
        status: 'not_ready',
        checked: ['jetstream', 'nats', 'postgres'],
        failing: { postgres: expect.any(String) },
      });
      const live = await fetch(`${baseUrl}/livez`);
      expect(live.status).toBe(200);
      expect(await live.json()).toMatchObject({ status: 'alive' });
      // /health keeps its shape and still names Postgres.
      const health = await fetch(`${baseUrl}/health`);
      expect(health.status).toBe(503);
      expect(await health.json()).toEqual({
        status: 'unhealthy',
        failing: { postgres: expect.any(String) },
      });
    } finally {
      await dataSource.initialize();
    }
    expect((await fetch(`${baseUrl}/readyz`)).status).toBe(200);
  });

  it('keeps /livez, /readyz and /health out of the request logs, other requests in', async () => {
    // As `npm start` runs it, request logs on (the ingress has them off).
    const worker = await startServiceProcess('context-gatherer', {
      DATABASE_URL: db.appUrl,
      NATS_URL: TEST_NATS_URL,
      NATS_NAMESPACE: nats.namespace,
      LOG_LEVEL: 'info',
    });
    try {
      for (const path of ['/livez', '/readyz', '/health', '/no-such-route']) {
        expect((await fetch(`${worker.url}${path}`)).status).toBe(
          path === '/no-such-route' ? 404 : 200,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
      expect(worker.output()).toMatch(/"url":"\/no-such-route"/);
      expect(worker.output()).not.toMatch(/"url":"\/(livez|readyz|health)"/);
    } finally {
      await worker.kill();
    }
  }, 90_000);
});
