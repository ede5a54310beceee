/**
 * The production NATS configuration on loopback: deploy/k8s/base/nats/auth.conf
 * (one user per service, generated from @tep/pipeline natsPermissions) and
 * TLS with a throw-away CA, written next to a small server configuration.
 * The security suite and the fault suite (FAULTS_SECURE_NATS=1) start
 * `nats-server -c` on it; each service then connects as its own user.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NATS_USERS, natsPasswordVariable, type NatsUser } from '@tep/pipeline';

export const DEPLOY_AUTH_CONF = join(
  __dirname,
  '..',
  '..',
  'deploy',
  'k8s',
  'base',
  'nats',
  'auth.conf',
);

export const NATS_SERVER = process.env.FAULTS_NATS_SERVER ?? '/usr/sbin/nats-server';

export interface SecureNatsConfig {
  /** `nats-server -c` this. */
  configFile: string;
  /** The throw-away CA's certificate (NATS_TLS_CA_FILE). */
  caFile: string;
  /** The server's environment: each user's password (TEP_NATS_PASSWORD_*). */
  serverEnv: Record<string, string>;
  /** NATS_USER, NATS_PASSWORD and NATS_TLS_CA_FILE of one user (NATS_URL is the caller's). */
  envFor(user: NatsUser): Record<string, string>;
  passwordOf(user: NatsUser): string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'ignore' });
}

/** A CA and a server certificate for 127.0.0.1 and localhost, valid for a day. */
export function makeCertificates(dir: string): {
  caFile: string;
  certFile: string;
  keyFile: string;
} {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    [
      'req',
      '-x509',
      ...ec,
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '1',
      '-subj',
      '/CN=tep-test-ca',
    ],
    dir,
  );
  openssl(
    ['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'],
    dir,
  );
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.pem',
      '-days',
      '1',
      '-extfile',
      'san.ext',
    ],
    dir,
  );
  return {
    caFile: join(dir, 'ca.pem'),
    certFile: join(dir, 'server.pem'),
    keyFile: join(dir, 'server.key'),
  };
}

/** Writes the configuration into `dir` for a server on 127.0.0.1:`port`. */
export function writeSecureNatsConfig(dir: string, port: number): SecureNatsConfig {
  const { caFile, certFile, keyFile } = makeCertificates(dir);
  copyFileSync(DEPLOY_AUTH_CONF, join(dir, 'auth.conf'));
  const passwords = Object.fromEntries(
    // nats-server parses a variable's value as a config token: one that starts with a
    // digit is read as a number and the server refuses the file. A letter first, then hex.
    NATS_USERS.map((user) => [user, `p${randomBytes(18).toString('hex')}`]),
  ) as Record<NatsUser, string>;
  const configFile = join(dir, 'nats.conf');
  writeFileSync(
    configFile,
    `listen: 127.0.0.1:${port}
jetstream { store_dir: "${join(dir, 'js')}" }
tls {
  cert_file: "${certFile}"
  key_file: "${keyFile}"
  timeout: 2
}
include ./auth.conf
`,
  );
  return {
    configFile,
    caFile,
    serverEnv: Object.fromEntries(NATS_USERS.map((u) => [natsPasswordVariable(u), passwords[u]])),
    envFor: (user) => ({
      NATS_USER: user,
      NATS_PASSWORD: passwords[user],
      NATS_TLS_CA_FILE: caFile,
    }),
    passwordOf: (user) => passwords[user],
  };
}
