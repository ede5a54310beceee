import type { RedactionKind } from '../spans';

/**
 * Realistic ticket text with secrets and personal data in many shapes and
 * languages, for the redaction specs and the end-to-end check that none of
 * it reaches a model. Every value is fake. Well-known token prefixes are
 * joined at run time so secret scanners do not flag this file.
 */
export interface CorpusSample {
  name: string;
  text: string;
  /** Found values by kind, one entry per occurrence in `text`; none may survive redaction. */
  values: Partial<Record<RedactionKind, readonly string[]>>;
  /** Look-alikes that must survive untouched. */
  keep?: readonly string[];
}

const join = (...parts: string[]) => parts.join('');

const GITHUB_CLASSIC = join('ghp', '_', 'R8mZ2kQ4vX7nB1cD9eF3gH6jK0lM5pS2tU8w');
const GITHUB_FINE = join(
  'github',
  '_pat_',
  '11ABCDE2F0k9Lm8Nn7Oo6Pp_5Qq4Rr3Ss2Tt1Uu0Vv9Ww8Xx7Yy6Zz5Aa4Bb3Cc2Dd1Ee0Ff9Gg8Hh7Ii',
);
const GITHUB_APP = join('ghs', '_', 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8');
const SLACK_BOT = join('xox', 'b-', '2194736501-4729183650274-Hq8sK2mN5pR7tV9wY1zA3cE5');
const SLACK_APP = join('xa', 'pp-', '1-A04B7C9D2E1-5839201746385-9f8e7d6c5b4a39281706f5e4d3c2b1a0');
const SLACK_HOOK_PATH = join('T04AB1C2D3E', '/', 'B05FG6H7J8K', '/', 'q7W9eR2tY4uI6oP8aS0dF1gH');
const OPENAI = join('sk-', 'proj-', 'Xo3Lk9Pq2Rs7Tu5Vw1Yz8Ab4Cd6Ef0Gh3Ij5Kl7Mn9Op2Qr4St6Uv8');
const ANTHROPIC = join('sk-', 'ant-', 'api03-Zq8Wx6Vu4Ts2Rq0Po8Nm6Lk4Ji2Hg0Fe8Dc6Ba4-Yx2Wv0UtAA');
const STRIPE = join('sk', '_live_', '51Hc8QpLm2Nk4Jh6Gf8Ds0Aq');
const STRIPE_WEBHOOK = join('wh', 'sec_', 'Mk9Jn7Hb5Gv3Fc1Dx9Sz7Aq5Wp3Eo1Ri');
const GOOGLE = join('AI', 'za', 'SyB3x9Qk7LmN2pR4tV6wY8zA1cE3gI5kM7o');
const GITLAB = join('gl', 'pat-', 'x7Yk2Lm9Qp4Rs6Tu8Vw1Z');
const NPM = join('np', 'm_', 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8');
const AWS_KEY_ID = join('AK', 'IA', 'QX7ZK2M4N6P8R3T5');
const AWS_SESSION_ID = join('AS', 'IA', 'Y34FZKBOKMUTVV7A');
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ8a3Xk9Lm';
const ENTRA_SECRET = join('Xy7', '8Q~', 'aB3cD5eF7gH9iJ1kL3mN5oP7qR9sT1uV');
const JWT = join(
  'eyJ',
  'hbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzdmMtb3JkZXJzIiwiaWF0IjoxNzMyNzg0MDAwfQ.',
  'Qm9nd3NTaWduYXR1cmVGb3JUZXN0c09ubHkxMjM0NTY',
);
const PRIVATE_KEY = [
  join('-----BEGIN RSA ', 'PRIVATE KEY-----'),
  'MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun',
  'VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK',
  'LxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo',
  join('-----END RSA ', 'PRIVATE KEY-----'),
].join('\n');
const OPENSSH_KEY_HEAD = [
  join('-----BEGIN OPENSSH ', 'PRIVATE KEY-----'),
  'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW',
  'QyNTUxOQAAACDkR7vYQ2pX9mL3nB8cV5wZ1aS6dF4gH2jK8lM0qW3eRtYuIoPaSdF',
].join('\n');

export const REDACTION_CORPUS: readonly CorpusSample[] = [
  {
    name: 'password after a colon, VPN ticket',
    text: 'Hi team,\nI cannot connect to the VPN since this morning. User jdoe, password: Tr0ub4dor&3 — typed it three times.\nThe client shows error 809 on VPN01.',
    values: { secret: ['Tr0ub4dor&3'] },
    keep: ['error 809', 'VPN01', 'jdoe'],
  },
  {
    name: 'password stated in a sentence',
    text: 'The new password is Winter2025!? for the shared mailbox finance@ — please set it on the phones too.',
    values: { secret: ['Winter2025!?'] },
  },
  {
    name: 'SQL Server connection string',
    text: 'The billing job fails to connect:\nServer=sql01.contoso.local;Database=Billing;User Id=svc_billing;Password=B1ll!ng#2024;TrustServerCertificate=True;',
    values: { secret: ['B1ll!ng#2024'] },
    keep: ['sql01.contoso.local', 'svc_billing', 'Database=Billing'],
  },
  {
    name: 'PostgreSQL URL with credentials',
    text: 'App logs: connection refused for DATABASE_URL=postgres://app_user:s3cr3t-Pg-99@db01.internal:5432/orders',
    values: { secret: ['s3cr3t-Pg-99'] },
    keep: ['app_user', 'db01.internal:5432/orders'],
  },
  {
    name: 'MongoDB SRV URL',
    text: 'Reporting cannot reach Atlas: mongodb+srv://reporting:Qx7%21mongo@cluster0.ab1cd.mongodb.net/?retryWrites=true',
    values: { secret: ['Qx7%21mongo'] },
    keep: ['cluster0.ab1cd.mongodb.net'],
  },
  {
    name: 'Redis URL without user name, .env paste',
    text: 'From the .env file:\nDB_PASSWORD=Zx9!kLm2\nREDIS_URL=redis://:r3d1sP4ss@cache01:6379/0',
    values: { secret: ['Zx9!kLm2', 'r3d1sP4ss'] },
    keep: ['cache01:6379'],
  },
  {
    name: 'password in a URL query',
    text: 'The old intranet link still works: https://legacy.contoso.local/login.asp?user=jdoe&pwd=Legacy123! but the new one does not.',
    values: { secret: ['Legacy123!'] },
    keep: ['legacy.contoso.local/login.asp?user=jdoe'],
  },
  {
    name: 'AWS credentials file',
    text: `Backup to S3 stopped. ~/.aws/credentials on backup01:\n[default]\naws_access_key_id = ${AWS_KEY_ID}\naws_secret_access_key = ${AWS_SECRET}\nregion = eu-central-1`,
    values: { secret: [AWS_KEY_ID, AWS_SECRET] },
    keep: ['backup01', 'eu-central-1'],
  },
  {
    name: 'AWS temporary credentials in a log',
    text: `ExpiredToken: the security token included in the request is expired (AccessKeyId ${AWS_SESSION_ID}, aws_session_token=FwoGZXIvYXdzEBYaDHq1X9m2K3pL7vN5sR8tQ)`,
    values: { secret: [AWS_SESSION_ID, 'FwoGZXIvYXdzEBYaDHq1X9m2K3pL7vN5sR8tQ'] },
    keep: ['ExpiredToken'],
  },
  {
    name: 'Azure storage connection string',
    text: 'Veeam cannot write to the blob container. Connection string:\nDefaultEndpointsProtocol=https;AccountName=contosobackup;AccountKey=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6QUJDREVGR0g9PQ==;EndpointSuffix=core.windows.net',
    values: {
      secret: ['Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6QUJDREVGR0g9PQ=='],
    },
    keep: ['AccountName=contosobackup', 'core.windows.net'],
  },
  {
    name: 'Azure SAS URL',
    text: 'Download fails with 403: https://contosobackup.blob.core.windows.net/backups/db.bak?sv=2022-11-02&ss=b&sp=r&se=2025-01-01T00:00:00Z&sig=k9Yb3R%2FxQm2vX8nL0pT4uW6aZ1cD5eF7gH9iJ0kL2mN%3D',
    values: { secret: ['k9Yb3R%2FxQm2vX8nL0pT4uW6aZ1cD5eF7gH9iJ0kL2mN%3D'] },
    keep: ['contosobackup.blob.core.windows.net/backups/db.bak', 'sv=2022-11-02'],
  },
  {
    name: 'Azure Service Bus connection string',
    text: 'Queue consumer crashes on start. Endpoint=sb://contoso-bus.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=9xK2mP4qR7sT0vW3yZ6bC8dF1gH5jL9nQ2rS4tU7wX0=',
    values: { secret: ['9xK2mP4qR7sT0vW3yZ6bC8dF1gH5jL9nQ2rS4tU7wX0='] },
    keep: ['SharedAccessKeyName=RootManageSharedAccessKey', 'contoso-bus.servicebus.windows.net'],
  },
  {
    name: 'Entra ID client secret',
    text: `The app registration for the HR sync expired. New client secret: ${ENTRA_SECRET} (valid 24 months)`,
    values: { secret: [ENTRA_SECRET] },
    keep: ['valid 24 months'],
  },
  {
    name: 'Google API key in a config',
    text: `The store locator map is grey. config.js has apiKey '${GOOGLE}' since the last deploy.`,
    values: { secret: [GOOGLE] },
    keep: ['config.js'],
  },
  {
    name: 'GitHub classic token in a clone URL',
    text: `Build agent BLD02 cannot clone: git clone https://${GITHUB_CLASSIC}@github.com/contoso/infra.git fails with 403.`,
    values: { secret: [GITHUB_CLASSIC] },
    keep: ['github.com/contoso/infra.git', 'BLD02'],
  },
  {
    name: 'GitHub fine-grained token in CI',
    text: `Pipeline step "publish" fails. We export GH_TOKEN=${GITHUB_FINE} in the runner.`,
    values: { secret: [GITHUB_FINE] },
  },
  {
    name: 'GitHub app token in an Authorization header',
    text: `Webhook relay log: POST /repos/contoso/app/dispatches Authorization: token ${GITHUB_APP} -> 401`,
    values: { secret: [GITHUB_APP] },
    keep: ['/repos/contoso/app/dispatches', '401'],
  },
  {
    name: 'GitLab token',
    text: `Renovate bot stopped opening MRs; its GITLAB token is ${GITLAB} according to the vault entry.`,
    values: { secret: [GITLAB] },
  },
  {
    name: 'Slack bot and app tokens',
    text: `Alerts no longer reach #ops. Bot token ${SLACK_BOT}, socket mode app token ${SLACK_APP}.`,
    values: { secret: [SLACK_BOT, SLACK_APP] },
    keep: ['#ops'],
  },
  {
    name: 'Slack incoming webhook',
    text: `Monitoring posts fail: curl -X POST https://hooks.slack.com/services/${SLACK_HOOK_PATH} returns invalid_token`,
    values: { secret: [SLACK_HOOK_PATH] },
    keep: ['invalid_token'],
  },
  {
    name: 'OpenAI project key',
    text: `Our helpdesk chatbot answers 401 since Friday. The key in the app settings is ${OPENAI}.`,
    values: { secret: [OPENAI] },
  },
  {
    name: 'Anthropic key',
    text: `Summariser service down: ANTHROPIC_API_KEY="${ANTHROPIC}" returns authentication_error.`,
    values: { secret: [ANTHROPIC] },
    keep: ['authentication_error'],
  },
  {
    name: 'Stripe keys',
    text: `Checkout broken after the migration. Live key ${STRIPE}, webhook signing secret ${STRIPE_WEBHOOK}.`,
    values: { secret: [STRIPE, STRIPE_WEBHOOK] },
  },
  {
    name: 'npm token in .npmrc',
    text: `npm install fails with E401 on CI01. .npmrc: //registry.npmjs.org/:_authToken=${NPM}`,
    values: { secret: [NPM] },
    keep: ['E401', 'CI01'],
  },
  {
    name: 'JWT in a curl command',
    text: `curl -H "Authorization: Bearer ${JWT}" https://api.contoso.com/v2/orders returns 500 since 2024-11-28.`,
    values: { secret: [JWT] },
    keep: ['https://api.contoso.com/v2/orders', '2024-11-28'],
  },
  {
    name: 'opaque bearer token in a log line',
    text: 'WARN gateway rejected request id=77 with Bearer 7f3a9c2e41b84d6f9a0e5c1b2d3f4a5b (expired)',
    values: { secret: ['7f3a9c2e41b84d6f9a0e5c1b2d3f4a5b'] },
    keep: ['id=77'],
  },
  {
    name: 'basic auth header',
    text: 'Scanner upload fails. Request headers:\nHost: files.contoso.local\nAuthorization: Basic c3ZjX3NjYW5uZXI6UzNjdXJlU2Nhbm4zciE=\nContent-Type: application/pdf',
    values: { secret: ['c3ZjX3NjYW5uZXI6UzNjdXJlU2Nhbm4zciE='] },
    keep: ['files.contoso.local', 'application/pdf'],
  },
  {
    name: 'RSA private key block',
    text: `SFTP to the bank fails with "invalid format". This is the key we use:\n${PRIVATE_KEY}\nThe public key was uploaded last week.`,
    values: { secret: [PRIVATE_KEY] },
    keep: ['The public key was uploaded last week.'],
  },
  {
    name: 'OpenSSH private key pasted without its END line',
    text: `Deploy user key (cut off by the mail client):\n${OPENSSH_KEY_HEAD}\n\nCan you check the permissions on web02?`,
    values: { secret: [OPENSSH_KEY_HEAD] },
    keep: ['Can you check the permissions on web02?'],
  },
  {
    name: 'JSON config with quoted secrets',
    text: 'settings.json of the backup agent:\n{"username": "svc_backup", "password": "B@ckup 2024 Strong", "api_key": "ak_9f8e7d6c5b4a3210"}',
    values: { secret: ['"B@ckup 2024 Strong"', '"ak_9f8e7d6c5b4a3210"'] },
    keep: ['"svc_backup"'],
  },
  {
    name: 'XML config with a password element',
    text: 'web.config of the portal contains <add key="smtp" /><password>P@55w0rd!</password> and mails stopped.',
    values: { secret: ['P@55w0rd!'] },
  },
  {
    name: 'German password with a phrase before the colon',
    text: 'Hallo,\ndas Passwort für den VPN-Zugang lautet: Sommer2024! und funktioniert seit heute nicht mehr.',
    values: { secret: ['Sommer2024!'] },
    keep: ['VPN-Zugang'],
  },
  {
    name: 'German Kennwort and PW',
    text: 'Drucker im 2. OG: Admin-Kennwort: Xy!9876abc, WLAN PW: Gast#Netz55',
    values: { secret: ['Xy!9876abc', 'Gast#Netz55'] },
  },
  {
    name: 'French mot de passe',
    text: 'Bonjour,\nmon mot de passe : Soleil#2024 ne fonctionne plus depuis la mise à jour. Le mot de passe est Lune!2023 pour l’ancien compte.',
    values: { secret: ['Soleil#2024', 'Lune!2023'] },
  },
  {
    name: 'Spanish contraseña',
    text: 'Hola, la contraseña: Madrid2024$ del correo ya no sirve. La contraseña es Barcelona#99 para la impresora.',
    values: { secret: ['Madrid2024$', 'Barcelona#99'] },
  },
  {
    name: 'Dutch wachtwoord',
    text: 'Goedemorgen, mijn wachtwoord: Tulp!2024 werkt niet meer op laptop LT-0042.',
    values: { secret: ['Tulp!2024'] },
    keep: ['LT-0042'],
  },
  {
    name: 'Visa card with expiry and CVV',
    text: 'Please renew the Adobe licence with the company card 4111 1111 1111 1111, exp 12/27, CVV: 737 - thanks',
    values: { card: ['4111 1111 1111 1111'], secret: ['737'] },
    keep: ['exp 12/27'],
  },
  {
    name: 'Mastercard with dashes, Spanish',
    text: 'Hola, para la suscripción usad la tarjeta 5555-5555-5555-4444 a nombre de la empresa.',
    values: { card: ['5555-5555-5555-4444'] },
  },
  {
    name: 'Amex in its 4-6-5 grouping',
    text: 'Travel booking failed for card 3782 822463 10005, please retry.',
    values: { card: ['3782 822463 10005'] },
  },
  {
    name: 'card number without separators, German',
    text: 'Bitte die Kreditkarte 4000056655665556 für das Azure-Abo hinterlegen.',
    values: { card: ['4000056655665556'] },
  },
  {
    name: 'German IBAN, spaced',
    text: 'Die Gehaltsabrechnung für Mitarbeiter 4711 geht an IBAN DE89 3704 0044 0532 0130 00, BIC COBADEFFXXX.',
    values: { iban: ['DE89 3704 0044 0532 0130 00'] },
    keep: ['BIC COBADEFFXXX', 'Mitarbeiter 4711'],
  },
  {
    name: 'Dutch IBAN, compact',
    text: 'Graag de terugbetaling overmaken naar NL91ABNA0417164300 onder vermelding van factuur 2024-0815.',
    values: { iban: ['NL91ABNA0417164300'] },
    keep: ['factuur 2024-0815'],
  },
  {
    name: 'French IBAN',
    text: 'Merci de mettre à jour le RIB du fournisseur : FR14 2004 1010 0505 0001 3M02 606.',
    values: { iban: ['FR14 2004 1010 0505 0001 3M02 606'] },
  },
  {
    name: 'English signature with name, phone and e-mail',
    text: 'Outlook keeps asking for credentials on my laptop.\n\nBest regards,\nJohn Smith\nIT Manager, Contoso Ltd\nPhone: +1 (555) 123-4567\njohn.smith@contoso.com',
    values: {
      name: ['John Smith'],
      phone: ['+1 (555) 123-4567'],
      email: ['john.smith@contoso.com'],
    },
    keep: ['IT Manager, Contoso Ltd'],
  },
  {
    name: 'German signature',
    text: 'Der Scanner im Lager druckt nur leere Seiten.\n\nMit freundlichen Grüßen\n\nAnna Schmidt\nBuchhaltung\nTel.: +49 (0)30 1234 5678\nMobil: 0171 2345678\nanna.schmidt@beispiel-gmbh.de',
    values: {
      name: ['Anna Schmidt'],
      phone: ['+49 (0)30 1234 5678', '0171 2345678'],
      email: ['anna.schmidt@beispiel-gmbh.de'],
    },
    keep: ['Buchhaltung'],
  },
  {
    name: 'French signature',
    text: 'Impossible d’ouvrir les fichiers partagés sur FS01.\n\nCordialement,\nJean-Luc Dubois\nTél : 01 23 45 67 89\njean-luc.dubois@exemple.fr',
    values: {
      name: ['Jean-Luc Dubois'],
      phone: ['01 23 45 67 89'],
      email: ['jean-luc.dubois@exemple.fr'],
    },
    keep: ['FS01'],
  },
  {
    name: 'Spanish signature',
    text: 'La impresora de la planta 3 no imprime en color.\n\nSaludos,\nMaría José García\nTeléfono: 912 345 678\nmaria.garcia@ejemplo.es',
    values: {
      name: ['María José García'],
      phone: ['912 345 678'],
      email: ['maria.garcia@ejemplo.es'],
    },
    keep: ['planta 3'],
  },
  {
    name: 'Dutch signature with a name particle',
    text: 'Teams crasht bij het delen van mijn scherm.\n\nMet vriendelijke groet,\nJan van der Berg\n06-12345678\nj.vandenberg@voorbeeld.nl',
    values: {
      name: ['Jan van der Berg'],
      phone: ['06-12345678'],
      email: ['j.vandenberg@voorbeeld.nl'],
    },
  },
  {
    name: 'name on the sign-off line',
    text: 'Could you add me to the Finance-Share group?\nThanks, Priya',
    values: { name: ['Priya'] },
    keep: ['Finance-Share'],
  },
  {
    name: 'signature name mentioned again in the body',
    text: 'Laptop of Lukas Weber (asset NB-2231) does not boot after the BIOS update.\nRegards,\nLukas Weber',
    values: { name: ['Lukas Weber', 'Lukas Weber'] },
    keep: ['NB-2231'],
  },
  {
    name: 'French dotted mobile number',
    text: 'Merci de me rappeler au 06.12.34.56.78 dès que le poste est réparé.',
    values: { phone: ['06.12.34.56.78'] },
  },
  {
    name: 'international numbers in running text',
    text: 'Call the Madrid office on +34 612 34 56 78 or London on +44 20 7946 0958; the local line 020 7946 0958 is forwarded.',
    values: { phone: ['+34 612 34 56 78', '+44 20 7946 0958', '020 7946 0958'] },
  },
  {
    name: 'North American number with dots, and a callback request',
    text: 'Please call me back on 555.867.5309 after 2pm, or e-mail me at jenny@tutone.example.',
    values: { phone: ['555.867.5309'], email: ['jenny@tutone.example'] },
  },
  {
    name: 'UPN and requester address in an error',
    text: 'Sign-in for anna.schmidt@contoso.onmicrosoft.com fails with AADSTS50076; forwarded by helpdesk-noreply@contoso.com.',
    values: {
      email: ['anna.schmidt@contoso.onmicrosoft.com', 'helpdesk-noreply@contoso.com'],
    },
    keep: ['AADSTS50076'],
  },
  {
    name: 'negatives: error codes, builds, KB and ticket ids',
    text: 'Windows Update fails with 0x80070005 on build 10.0.19045.3803 after KB5034441; see REQ-4521, #4390 and ticket 100000000004600. HRESULT -2147024891, MSI error 1603.',
    values: {},
    keep: [
      '0x80070005',
      '10.0.19045.3803',
      'KB5034441',
      'REQ-4521',
      '#4390',
      '100000000004600',
      '-2147024891',
      '1603',
    ],
  },
  {
    name: 'negatives: addresses, hostnames, dates and times',
    text: 'Since 2024-11-28 09:15 (28.11.2024, 11/28/2024) dc01 (10.0.0.2) and exch01.contoso.local at 192.168.10.25:8443 drop connections; fe80::1ff:fe23:4567:890a is the link-local address. Office hours 09:00-17:00.',
    values: {},
    keep: [
      '2024-11-28 09:15',
      '28.11.2024',
      '11/28/2024',
      '10.0.0.2',
      'exch01.contoso.local',
      '192.168.10.25:8443',
      'fe80::1ff:fe23:4567:890a',
      '09:00-17:00',
    ],
  },
  {
    name: 'negatives: versions, identifiers, amounts and counts',
    text: 'Agent 2.3.14 on TLS 1.2, Outlook 16.0.17928.20114, MAC 00-1A-2B-3C-4D-5E, GUID 3f2504e0-4f89-11d3-9a0c-0305e82c3301, SHA 0123456789abcdef0123, invoice 2024-00123 over EUR 1.234,56 for 25 users, order 1234 5678 9012 3456.',
    values: {},
    keep: [
      '2.3.14',
      '16.0.17928.20114',
      '00-1A-2B-3C-4D-5E',
      '3f2504e0-4f89-11d3-9a0c-0305e82c3301',
      '0123456789abcdef0123',
      '2024-00123',
      '1.234,56',
      '1234 5678 9012 3456',
    ],
  },
  {
    name: 'negatives: password words without a password',
    text: 'My password is expired and the password reset page says "Password expired". Das Passwort ist abgelaufen. Bearer token missing in the request.',
    values: {},
    keep: [
      'password is expired',
      'password reset',
      'Passwort ist abgelaufen',
      'Bearer token missing',
    ],
  },
  {
    name: 'negatives: sign-offs without a person',
    text: 'Thanks for the quick help!\nKind regards,\nThe Service Desk\n\nDanke Ihnen\n\nRegards,\nIT Support Team',
    values: {},
    keep: ['The Service Desk', 'Danke Ihnen', 'IT Support Team'],
  },
];
