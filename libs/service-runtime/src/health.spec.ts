import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { DataSource } from 'typeorm';
import { createTopology } from '@tep/contracts';
import { TenantDatabase } from '@tep/data';
import { HealthService } from './health';
import {
  PlatformModule,
  type BaseServiceConfig,
  type DatabaseServiceConfig,
} from './platform.module';

const topology = createTopology('health_spec');

function fakes(options: { natsDown?: boolean; streamMissing?: boolean; dbDown?: boolean } = {}) {
  const nats = {
    isClosed: () => options.natsDown ?? false,
    flush: () => Promise.resolve(),
  } as unknown as NatsConnection;
  const streamsInfo = jest.fn((name: string) =>
    options.streamMissing
      ? Promise.reject(new Error('stream not found'))
      : Promise.resolve({ name }),
  );
  const js = {
    jetstreamManager: () => Promise.resolve({ streams: { info: streamsInfo } }),
  } as unknown as JetStreamClient;
  const database = {
    ping: () => (options.dbDown ? Promise.reject(new Error('ECONNREFUSED')) : Promise.resolve()),
  } as unknown as TenantDatabase;
  return { nats, js, database, streamsInfo };
}

describe('HealthService', () => {
  it('without a database, checks neither /health nor /readyz against Postgres', async () => {
    const { nats, js } = fakes();
    const health = new HealthService(nats, js, topology);
    health.register('tenant_directory', () => Promise.resolve());
    expect(await health.check()).toEqual({ status: 'healthy' });
    expect(await health.readiness()).toEqual({
      status: 'ready',
      checked: ['jetstream', 'nats', 'tenant_directory'],
    });
  });

  it('with a database, names Postgres when it is down, in both shapes', async () => {
    const { nats, js, database } = fakes({ dbDown: true });
    const health = new HealthService(nats, js, topology, database);
    expect(await health.check()).toEqual({
      status: 'unhealthy',
      failing: { postgres: 'ECONNREFUSED' },
    });
    expect(await health.readiness()).toEqual({
      status: 'not_ready',
      checked: ['jetstream', 'nats', 'postgres'],
      failing: { postgres: 'ECONNREFUSED' },
    });
  });

  it('readiness asks JetStream for the stream every stage uses; /health does not', async () => {
    const { nats, js, streamsInfo } = fakes({ streamMissing: true });
    const health = new HealthService(nats, js, topology);
    expect(await health.check()).toEqual({ status: 'healthy' });
    expect(streamsInfo).not.toHaveBeenCalled();
    expect(await health.readiness()).toMatchObject({
      status: 'not_ready',
      failing: { jetstream: 'stream not found' },
    });
    expect(streamsInfo).toHaveBeenCalledWith(topology.ticketsStream);
  });

  it('names NATS when its connection is closed', async () => {
    const { nats, js } = fakes({ natsDown: true });
    const health = new HealthService(nats, js, topology);
    expect(await health.readiness()).toMatchObject({
      status: 'not_ready',
      failing: { nats: 'connection closed', jetstream: 'connection closed' },
    });
  });

  it('gives up on a check that does not answer within 2 s, naming it', async () => {
    jest.useFakeTimers();
    try {
      const { nats, js } = fakes();
      const health = new HealthService(nats, js, topology);
      health.register('stuck', () => new Promise(() => undefined));
      const report = health.readiness();
      await jest.advanceTimersByTimeAsync(2_001);
      expect(await report).toMatchObject({
        status: 'not_ready',
        failing: { stuck: 'stuck did not answer within 2000 ms' },
      });
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('PlatformModule.forService', () => {
  const base: BaseServiceConfig = {
    LOG_LEVEL: 'error',
    NATS_URL: 'nats://127.0.0.1:4222',
    NATS_NAMESPACE: 'x',
    NATS_STREAM_REPLICAS: 1,
  };
  const provided = (module: ReturnType<typeof PlatformModule.forService>) =>
    (module.providers ?? []).map((p) => (typeof p === 'function' ? p : p.provide));

  it('provides DataSource and TenantDatabase to a service with a database', () => {
    const config: DatabaseServiceConfig = {
      ...base,
      DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/d',
      DATABASE_POOL_SIZE: 3,
    };
    const module = PlatformModule.forService('context-gatherer', config);
    expect(provided(module)).toEqual(expect.arrayContaining([DataSource, TenantDatabase]));
    expect(module.exports).toEqual(expect.arrayContaining([DataSource, TenantDatabase]));
  });

  it('provides neither to a service started with database: false', () => {
    const module = PlatformModule.forService('webhook-ingress', base, { database: false });
    expect(provided(module)).not.toContain(DataSource);
    expect(provided(module)).not.toContain(TenantDatabase);
    expect(module.exports).not.toContain(DataSource);
    expect(module.exports).not.toContain(TenantDatabase);
  });

  it('refuses a service that wants a database but has no DATABASE_URL', () => {
    expect(() =>
      PlatformModule.forService('context-gatherer', base as DatabaseServiceConfig),
    ).toThrow(/context-gatherer has no DATABASE_URL.*database: false/);
  });
});
