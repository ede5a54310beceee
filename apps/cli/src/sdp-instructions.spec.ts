import {
  SECRET_PLACEHOLDER,
  delugeFunction,
  payloadTemplate,
  renderWebhookSettings,
  webhookSettings,
} from './sdp-instructions';

const URL =
  'https://api.example.com/webhook/servicedesk?tenant_id=550e8400-e29b-41d4-a716-446655440000';
const SECRET = 'a'.repeat(64);
const occurrences = (text: string, part: string) => text.split(part).length - 1;

describe('SDP webhook settings (runbook step 4.3)', () => {
  it("fills the runbook's table with this tenant's URL and shows the secret exactly once", () => {
    const settings = Object.fromEntries(
      webhookSettings({ webhookUrl: URL, secret: SECRET, scheme: 'hmac' }),
    );
    expect(settings).toMatchObject({
      Name: 'AI Agents Ticket Enhancement',
      URL,
      Method: 'POST',
      'Content-Type': 'application/json',
      'Signing Secret': SECRET,
      'Trigger Events': 'Ticket Created, Ticket Updated (Priority/Status changes)',
      Enabled: 'Yes',
    });
    expect(settings['Custom Header 1']).toMatch(/^X-ServiceDesk-Signature: /);
    const table = renderWebhookSettings({ webhookUrl: URL, secret: SECRET, scheme: 'hmac' });
    expect(occurrences(table, SECRET)).toBe(1);
    expect(table.split('\n')[0]).toMatch(/^\| Setting +\| Value +\|$/);
  });

  it('puts the secret in the static X-ServiceDesk-Token header for the weaker scheme, and says so', () => {
    const settings = Object.fromEntries(
      webhookSettings({ webhookUrl: URL, secret: SECRET, scheme: 'static_header' }),
    );
    expect(settings['Custom Header 1']).toBe(`X-ServiceDesk-Token: ${SECRET}`);
    expect(settings['Signing Secret']).toContain('WEAKER');
    expect(
      occurrences(
        renderWebhookSettings({ webhookUrl: URL, secret: SECRET, scheme: 'static_header' }),
        SECRET,
      ),
    ).toBe(1);
  });
});

describe('payload template', () => {
  it('is JSON with every webhook field filled from an SDP $ variable', () => {
    const template = JSON.parse(payloadTemplate('created')) as Record<string, string>;
    expect(template).toEqual({
      ticket_id: '${request.id}',
      subject: '${request.subject}',
      description: '${request.description}',
      priority: '${request.priority.name}',
      status: '${request.status.name}',
      requester_email: '${request.requester.email_id}',
      created_at: '${request.created_time.value}',
      event: 'created',
    });
    expect(JSON.parse(payloadTemplate('updated'))).toMatchObject({ event: 'updated' });
  });
});

describe('Deluge custom function', () => {
  const fn = delugeFunction({ webhookUrl: URL, event: 'created' });

  it('holds a placeholder instead of the secret and refuses to send until it is replaced', () => {
    expect(fn).not.toContain(SECRET);
    expect(fn).toContain(`webhookSecret = "${SECRET_PLACEHOLDER}";`);
    expect(fn).toContain(
      `if(webhookSecret == "${SECRET_PLACEHOLDER}" || webhookSecret.length() != 64)`,
    );
    // The send happens only in the else branch of that guard.
    expect(fn.indexOf('invokeurl')).toBeGreaterThan(fn.indexOf('else'));
  });

  it('signs the exact text it sends with hmacsha256 (hex) and posts it with our header', () => {
    expect(fn).toContain('body = payload.toString();');
    expect(fn).toContain('signature = zoho.encryption.hmacsha256(webhookSecret, body, "hex");');
    expect(fn).toContain('headerMap.put("X-ServiceDesk-Signature", signature);');
    expect(fn).toContain('headerMap.put("Content-Type", "application/json");');
    expect(fn).toMatch(
      /response = invokeurl\s*\[\s*url :"[^"]+"\s*type :POST\s*parameters:body\s*headers:headerMap/,
    );
    expect(fn).toContain(`url :"${URL}"`);
    expect(fn).toContain('event = "created";');
  });

  it('reads every payload field from the request, null-safe for lookups', () => {
    for (const field of [
      'ticket_id',
      'subject',
      'description',
      'priority',
      'status',
      'requester_email',
      'created_at',
      'event',
    ]) {
      expect(fn).toContain(`payload.put("${field}"`);
    }
    expect(fn).toContain('priorityValue = requestObj.get("priority");');
    expect(fn).toContain('if(priorityValue != null)');
    expect(fn).toContain('TO CONFIRM');
  });
});
