import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startSdpSimulator, type SdpSimulator } from './server';
import { sendWebhook, signWebhookBody } from './webhooks';

interface Received {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A receiver that verifies the signature over the raw bytes it got, as the ingress must. */
async function startReceiver(
  secret: string,
): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      received.push({ headers: req.headers, body });
      const expected = createHmac('sha256', secret).update(body).digest('hex');
      const valid = req.headers['x-servicedesk-signature'] === expected;
      res.writeHead(valid ? 202 : 401, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify(
          valid ? { status: 'accepted', job_id: 'job-1' } : { error: 'bad signature' },
        ),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook/servicedesk`,
    received,
    server,
  };
}

const closeServer = (server: Server) => new Promise((resolve) => server.close(resolve));

const runbookPayload = {
  ticket_id: 'TKT-12345',
  subject: 'Database connection timeout error',
  description: "Application reports 'Connection timeout' — café ✓",
  priority: 'High',
  status: 'Open',
  requester_email: 'user@acmecorp.com',
  created_at: '2025-11-03T10:30:00Z',
};

describe('sending webhooks', () => {
  it('signs exactly the bytes it sends (hex HMAC-SHA256, UTF-8 key) as JSON', async () => {
    const receiver = await startReceiver('tenant-secret');
    try {
      const result = await sendWebhook({
        url: receiver.url,
        secret: 'tenant-secret',
        payload: runbookPayload,
      });

      expect(result.status).toBe(202);
      expect(JSON.parse(result.body)).toEqual({ status: 'accepted', job_id: 'job-1' });
      const [got] = receiver.received;
      expect(got.body.toString('utf8')).toBe(JSON.stringify(runbookPayload));
      expect(got.body.toString('utf8')).toBe(result.sentBody);
      expect(got.headers['content-type']).toBe('application/json');
      expect(got.headers['x-servicedesk-signature']).toBe(result.signature);
      expect(result.signature).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      await closeServer(receiver.server);
    }
  });

  it('sends a raw string payload byte for byte, whitespace included', async () => {
    const receiver = await startReceiver('s3cret');
    const raw = '{\n  "ticket_id": "TKT-12345",   "subject": "x"\n}\n';
    try {
      const result = await sendWebhook({ url: receiver.url, secret: 's3cret', payload: raw });

      expect(result.status).toBe(202);
      expect(receiver.received[0].body.toString('utf8')).toBe(raw);
    } finally {
      await closeServer(receiver.server);
    }
  });

  it('matches the published GitHub HMAC-SHA256 test vector', () => {
    // GitHub docs, "Validating webhook deliveries" (X-Hub-Signature-256 without the sha256= prefix).
    const signature = signWebhookBody("It's a Secret to Everybody", Buffer.from('Hello, World!'));

    expect(signature).toBe('757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17');
  });

  it('delivers through POST /_sim/webhooks with a custom header name and reports the receiver reply', async () => {
    const receiver = await startReceiver('k');
    const sim: SdpSimulator = await startSdpSimulator();
    try {
      const viaHttp = await fetch(`${sim.url}/_sim/webhooks`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ url: receiver.url, secret: 'k', payload: runbookPayload }),
      });
      const otherHeader = await sim.control.sendWebhook({
        url: receiver.url,
        secret: 'k',
        payload: runbookPayload,
        signatureHeader: 'X-Other-Signature',
      });
      const invalid = await fetch(`${sim.url}/_sim/webhooks`, {
        method: 'POST',
        body: JSON.stringify({ url: 'file:///etc/passwd', secret: 'k', payload: {} }),
      });

      const result = JSON.parse(await viaHttp.text());
      expect(viaHttp.status).toBe(200);
      expect(result.status).toBe(202);
      expect(result.sentBody).toBe(JSON.stringify(runbookPayload));
      // Without our header the receiver refuses it: the signature really is checked.
      expect(otherHeader.status).toBe(401);
      expect(receiver.received[1].headers['x-other-signature']).toBe(otherHeader.signature);
      expect(invalid.status).toBe(400);
      expect(receiver.received).toHaveLength(2);
    } finally {
      await sim.close();
      await closeServer(receiver.server);
    }
  });
});
