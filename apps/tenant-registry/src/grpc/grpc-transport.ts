import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';

export const TENANT_ADMIN_PROTO = join(__dirname, 'tenant_admin.proto');

/** Attaches the gRPC transport to the registry's HTTP app (same module, same use cases). */
export async function attachGrpc(app: INestApplication, host: string, port: number): Promise<void> {
  if (port === 0) return;
  app.connectMicroservice<MicroserviceOptions>({
    transport: Transport.GRPC,
    options: {
      package: 'tep.registry.v1',
      protoPath: TENANT_ADMIN_PROTO,
      url: `${host}:${port}`,
      // Field names as the .proto spells them (snake_case, like the HTTP API).
      loader: { keepCase: true, defaults: true },
    },
  });
  await app.startAllMicroservices();
}
