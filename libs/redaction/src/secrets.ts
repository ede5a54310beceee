import { matchSpans, type Span } from './spans';

/** A value after a label: quoted (spaces allowed), or up to whitespace, quote, `;` or `,`. */
const VALUE = String.raw`(?<value>"[^"\r\n]{1,200}"|'[^'\r\n]{1,200}'|[^\s"'<>;,]+)`;

/** Labels of credentials in the languages we write notes in, and common config keys. */
const CREDENTIAL_LABEL = [
  'password',
  'passwd',
  'passwort',
  'kennwort',
  String.raw`mot\s+de\s+passe`,
  'mdp',
  'contraseña',
  'contrasena',
  'clave',
  'wachtwoord',
  'pwd',
  'pw',
  'passphrase',
  'secret',
  String.raw`client[_ -]?secret`,
  String.raw`secret[_ -]?key`,
  String.raw`api[_ -]?key`,
  String.raw`x-api-key`,
  String.raw`(?:access|auth|refresh|api)[_ -]?token`,
  'token',
  'cvv2?',
  'cvc',
].join('|');

/** "Passwort für den VPN-Zugang:" — a short phrase may stand between label and colon. */
const FOR_PHRASE = String.raw`(?:[ \t]+(?:for|für|pour|para|voor|of|von|vom|zum|zur|de|du|del|van)(?:[ \t]+[^\s:=]{1,30}){1,3})?`;

/**
 * "the password is Sommer2024!": without a colon only a value that looks
 * like a password (a digit or symbol) counts, so "the password is expired"
 * stays readable.
 */
const STATED_VALUE = String.raw`(?<value>(?=[^\s"'<>;,]*[\d!@#$%^&*?+=_~])[^\s"'<>;,]{4,})`;
const STATED = String.raw`is|was|lautet|ist|war|est|était|es|era|luidt`;

/**
 * Credentials and tokens. Each `value` group (or whole match) is what is
 * replaced. Well-known token shapes are matched wherever they appear, labels
 * in any case; the list follows the providers' documented prefixes.
 */
export const SECRET_PATTERNS: readonly RegExp[] = [
  // PEM, OpenSSH and PGP private keys (an 8192-bit RSA key is about 6,500 characters);
  // a block pasted without its END line too.
  /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]{0,16000}?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|(?:\r?\n(?:[A-Za-z0-9+/=]{16,}|[A-Za-z-]+: [^\r\n]*))*)/dg,
  // URL user info: postgres://user:pass@host (the user name is not secret).
  /\b[a-z][a-z0-9+.-]{1,20}:\/\/[^\s:/@]*:(?<value>[^\s@/]+)@/dgi,
  new RegExp(
    String.raw`(?<![\p{L}\d])["']?(?:${CREDENTIAL_LABEL})["']?${FOR_PHRASE}[ \t]*[:=][ \t]*${VALUE}`,
    'dgiu',
  ),
  new RegExp(
    String.raw`(?<![\p{L}\d])(?:${CREDENTIAL_LABEL})[ \t]+(?:${STATED})[ \t]*:?[ \t]*${STATED_VALUE}`,
    'dgiu',
  ),
  // `pass=` only in key=value form (URLs, connection strings): "pass" is a common word.
  /(?<![\p{L}\d])pass[ \t]*=[ \t]*(?<value>[^\s"'<>;&,]+)/dgiu,
  /<(?:password|passwd|pwd|secret|api_?key|token)>(?<value>[^<]{1,200})<\//dgi,
  // HTTP credentials: any scheme in an Authorization header, and bare bearer tokens.
  /\bAuthorization["']?[ \t]*[:=][ \t]*(?:(?:Bearer|Basic|Token|Negotiate|NTLM|Digest)[ \t]+)?(?<value>[^\s"'<>,;]{8,})/dgi,
  /\bBearer[ \t]+(?<value>(?=[\w.~+/-]*\d)[\w.~+/-]{16,}=*)/dgi,
  // JWTs: base64url JSON header, payload, signature.
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/dg,
  // AWS access key ids, and secret keys under their usual names.
  /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/dg,
  /\b(?:aws_?)?secret_?access_?key["']?[ \t]*[:=][ \t]*["']?(?<value>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/dgi,
  // Azure storage, Service Bus and Event Hubs connection strings; SAS signatures.
  /\b(?:AccountKey|SharedAccessKey|SharedSecretValue)[ \t]*=[ \t]*(?<value>[^;\s"'<>]+)/dgi,
  /[?&]sig=(?<value>[^&\s"'<>]{10,})/dg,
  // Entra ID (Azure AD) client secrets.
  /(?<![\w~.-])[\w~.-]{3}\dQ~[\w~.-]{31,34}(?![\w~.-])/dg,
  /\bAIza[\w-]{35}(?![\w-])/dg,
  /\bgh[pousr]_[A-Za-z0-9]{36,255}\b/dg,
  /\bgithub_pat_\w{22,255}\b/dg,
  /\bglpat-[\w-]{20,}/dg,
  /\bxox[abposre]-[A-Za-z0-9-]{10,}/dg,
  /\bxapp-\d+-[A-Za-z0-9-]{10,}/dg,
  /\bhooks\.slack\.com\/(?:services|workflows|triggers)\/(?<value>[\w/-]+)/dg,
  // OpenAI (sk-, sk-proj-, sk-svcacct-), Anthropic (sk-ant-) and look-alikes.
  /\bsk-[\w-]{20,}/dg,
  /\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}/dg,
  /\bwhsec_[A-Za-z0-9+/=]{16,}/dg,
  /\bSG\.[\w-]{16,}\.[\w-]{16,}/dg,
  /\bnpm_[A-Za-z0-9]{36}\b/dg,
];

/**
 * A literal every match of some SECRET_PATTERNS entry contains (its label,
 * prefix or separator): a text with none of them holds no secret, and most
 * texts — each field of every prompt and stored ticket — are spared the
 * patterns' 26 scans for one. Case-insensitive with Unicode case folding,
 * like the label patterns (so "paſsword" still passes). A spec checks that
 * every pattern's matches pass this test.
 */
const SECRET_NEEDLES = [
  '-----begin',
  '://',
  // Credential labels (patterns 3–6): every label contains one of these.
  'pass', // password, passwd, passwort, passphrase, mot de passe, pass=
  'kennwort',
  'mdp',
  'contrase',
  'clave',
  'wachtwoord',
  'pw', // pw, pwd
  'secret', // client secret, secret key, secret_access_key, <secret>
  'api', // api key, x-api-key, api token, <api_key>
  'token', // access/auth/refresh token, <token>
  'cvv',
  'cvc',
  'authorization',
  'bearer',
  'eyj',
  'akia',
  'asia',
  'abia',
  'acca',
  'accountkey',
  'sharedaccesskey',
  'sharedsecretvalue',
  'sig=',
  'q~',
  'aiza',
  'ghp_',
  'gho_',
  'ghu_',
  'ghs_',
  'ghr_',
  'github_pat_',
  'glpat-',
  'xox',
  'xapp-',
  'hooks.slack.com',
  'sk-',
  '_live_',
  '_test_',
  'whsec_',
  'sg.',
  'npm_',
];
export const MAY_HOLD_SECRET = new RegExp(
  SECRET_NEEDLES.map((needle) => needle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'),
  'iu',
);

/** Every credential in `text`, in pattern order (earlier patterns win overlaps). */
export function findSecrets(text: string): Span[] {
  if (!MAY_HOLD_SECRET.test(text)) return [];
  return SECRET_PATTERNS.flatMap((pattern) => matchSpans(text, pattern, 'secret'));
}
