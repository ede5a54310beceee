import { Controller, Get, HttpStatus, Inject, Injectable, Optional, Res } from '@nestjs/common';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Response } from 'express';
import type { Topology } from '@tep/contracts';
import { TenantDatabase } from '@tep/data';
import { JETSTREAM, NATS_CONNECTION, TOPOLOGY } from './tokens';

const CHECK_TIMEOUT_MS = 2_000;

/** GET /health: the operators' view (runbook, `tep doctor`); its shape is part of the contract. */
export type HealthReport =
  { status: 'healthy' } | { status: 'unhealthy'; failing: Record<string, string> };

/** GET /readyz: may this replica take work? `checked` names every dependency it looked at. */
export type ReadinessReport =
  | { status: 'ready'; checked: string[] }
  | { status: 'not_ready'; checked: string[]; failing: Record<string, string> };

/** GET /livez: the process is up and its event loop answers; nothing else is looked at. */
export interface LivenessReport {
  status: 'alive';
  uptime_seconds: number;
}

type Check = readonly [name: string, run: () => Promise<unknown>];

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error(`${what} did not answer within ${CHECK_TIMEOUT_MS} ms`)),
        CHECK_TIMEOUT_MS,
      ).unref(),
    ),
  ]);
}

/** Runs the checks side by side; the failing ones by name, with their reason. */
async function failures(checks: readonly Check[]): Promise<Record<string, string>> {
  const results = await Promise.allSettled(checks.map(([name, run]) => withTimeout(run(), name)));
  const failing: Record<string, string> = {};
  results.forEach((result, i) => {
    if (result.status === 'rejected') {
      failing[checks[i][0]] =
        result.reason instanceof Error ? result.reason.message : String(result.reason);
    }
  });
  return failing;
}

/**
 * Real checks of what this service uses, and nothing else: a query on
 * Postgres (only where the service has a database: the ingress has none), a
 * round trip to NATS, for readiness the JetStream stream every stage works on,
 * and whatever the service registers (e.g. the ingress's tenant directory
 * being loaded).
 */
@Injectable()
export class HealthService {
  private readonly extraChecks = new Map<string, () => Promise<void>>();
  private jsm?: Promise<JetStreamManager>;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nats: NatsConnection,
    @Inject(JETSTREAM) private readonly js: JetStreamClient,
    @Inject(TOPOLOGY) private readonly topology: Topology,
    /** Absent for a service started without a database (PlatformModule `database: false`). */
    @Optional() private readonly database?: TenantDatabase,
  ) {}

  /** Services add what they also depend on (e.g. the tenant cache being loaded). */
  register(name: string, check: () => Promise<void>): void {
    this.extraChecks.set(name, check);
  }

  /** /health: Postgres (if any), NATS and the registered checks, as it always was. */
  async check(): Promise<HealthReport> {
    const failing = await failures([
      ...this.postgresCheck(),
      this.natsCheck(),
      ...this.extraChecks.entries(),
    ]);
    return Object.keys(failing).length === 0
      ? { status: 'healthy' }
      : { status: 'unhealthy', failing };
  }

  /** /readyz: every dependency this service uses, JetStream included. */
  async readiness(): Promise<ReadinessReport> {
    const checks: Check[] = [
      ...this.postgresCheck(),
      this.natsCheck(),
      ['jetstream', () => this.jetstreamCheck()],
      ...this.extraChecks.entries(),
    ];
    const checked = checks.map(([name]) => name).sort();
    const failing = await failures(checks);
    return Object.keys(failing).length === 0
      ? { status: 'ready', checked }
      : { status: 'not_ready', checked, failing };
  }

  private postgresCheck(): Check[] {
    const database = this.database;
    return database ? [['postgres', () => database.ping()]] : [];
  }

  private natsCheck(): Check {
    return [
      'nats',
      async () => {
        if (this.nats.isClosed()) throw new Error('connection closed');
        await this.nats.flush();
      },
    ];
  }

  /** The stream every stage publishes to or consumes from has a leader that answers. */
  private async jetstreamCheck(): Promise<void> {
    if (this.nats.isClosed()) throw new Error('connection closed');
    this.jsm ??= this.js.jetstreamManager(false);
    let jsm: JetStreamManager;
    try {
      jsm = await this.jsm;
    } catch (error) {
      this.jsm = undefined;
      throw error;
    }
    await jsm.streams.info(this.topology.ticketsStream);
  }
}

/**
 * The probes, unauthenticated and kept out of request logs (PlatformModule):
 * /livez for Kubernetes' liveness (restart a wedged process only), /readyz
 * for its readiness (traffic and rollouts), /health for people and tools.
 */
@Controller()
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get('health')
  async get(@Res() res: Response): Promise<void> {
    const report = await this.health.check();
    res
      .status(report.status === 'healthy' ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE)
      .json(report);
  }

  /** No dependency is looked at: a database or NATS outage must not restart every pod. */
  @Get('livez')
  live(@Res() res: Response): void {
    const report: LivenessReport = {
      status: 'alive',
      uptime_seconds: Math.floor(process.uptime()),
    };
    res.status(HttpStatus.OK).json(report);
  }

  @Get('readyz')
  async ready(@Res() res: Response): Promise<void> {
    const report = await this.health.readiness();
    res
      .status(report.status === 'ready' ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE)
      .json(report);
  }
}
