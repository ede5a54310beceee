import { Controller, Get, HttpStatus, Inject, Injectable, Res } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Response } from 'express';
import { TenantDatabase } from '@tep/data';
import { NATS_CONNECTION } from './tokens';

const CHECK_TIMEOUT_MS = 2_000;

export type HealthReport =
  { status: 'healthy' } | { status: 'unhealthy'; failing: Record<string, string> };

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

/** Real checks: a query on Postgres and a round trip to NATS. */
@Injectable()
export class HealthService {
  private readonly extraChecks = new Map<string, () => Promise<void>>();

  constructor(
    private readonly database: TenantDatabase,
    @Inject(NATS_CONNECTION) private readonly nats: NatsConnection,
  ) {}

  /** Services add what they also depend on (e.g. the tenant cache being loaded). */
  register(name: string, check: () => Promise<void>): void {
    this.extraChecks.set(name, check);
  }

  async check(): Promise<HealthReport> {
    const checks: [string, () => Promise<unknown>][] = [
      ['postgres', () => this.database.ping()],
      [
        'nats',
        async () => {
          if (this.nats.isClosed()) throw new Error('connection closed');
          await this.nats.flush();
        },
      ],
      ...this.extraChecks.entries(),
    ];
    const results = await Promise.allSettled(checks.map(([name, run]) => withTimeout(run(), name)));
    const failing: Record<string, string> = {};
    results.forEach((result, i) => {
      if (result.status === 'rejected') {
        failing[checks[i][0]] =
          result.reason instanceof Error ? result.reason.message : String(result.reason);
      }
    });
    return Object.keys(failing).length === 0
      ? { status: 'healthy' }
      : { status: 'unhealthy', failing };
  }
}

@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get()
  async get(@Res() res: Response): Promise<void> {
    const report = await this.health.check();
    res
      .status(report.status === 'healthy' ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE)
      .json(report);
  }
}
