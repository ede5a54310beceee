import { ServiceDeskWebhookPayloadSchema } from './webhook-payload';

describe('ServiceDesk webhook payload', () => {
  it("reads SDP's last_updated_time (or updated_at), as SDP sends times, into updated_at", () => {
    const parsed = ServiceDeskWebhookPayloadSchema.parse({
      ticket_id: 'TKT-1',
      subject: 'Printer jam',
      last_updated_time: { value: '1764580000000', display_value: 'Dec 1, 2025' },
    });
    expect(parsed.updated_at).toBe(new Date(1764580000000).toISOString());
    expect(
      ServiceDeskWebhookPayloadSchema.parse({
        ticket_id: 'T',
        subject: 's',
        updated_at: 1764580000000,
      }).updated_at,
    ).toBe(new Date(1764580000000).toISOString());
    expect(
      ServiceDeskWebhookPayloadSchema.parse({ ticket_id: 'T', subject: 's' }).updated_at,
    ).toBeNull();
  });
});
