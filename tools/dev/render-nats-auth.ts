/**
 * `npm run nats:auth`: writes deploy/k8s/base/nats/auth.conf, the NATS
 * users and permissions of production, from @tep/pipeline natsPermissions
 * (a spec fails when the committed file differs from what this writes).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTopology } from '@tep/contracts';
import { renderNatsAuthorization } from '@tep/pipeline';

const target = join(__dirname, '..', '..', 'deploy', 'k8s', 'base', 'nats', 'auth.conf');
writeFileSync(target, renderNatsAuthorization(createTopology('')));
console.log(`wrote ${target}`);
