import { createHash } from 'node:crypto';

/**
 * The job id is derived from the tenant and the exact bytes received, so the
 * same webhook delivered twice gets the same id (and JetStream drops the
 * second publish). Formatted as an RFC 9562 version 8 (custom) UUID.
 */
export function jobIdFor(tenantId: string, rawBody: Buffer): string {
  const digest = createHash('sha256').update(tenantId).update('\n').update(rawBody).digest();
  digest[6] = (digest[6] & 0x0f) | 0x80;
  digest[8] = (digest[8] & 0x3f) | 0x80;
  const hex = digest.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
