/**
 * `tep onboard`: the client onboarding runbook, end to end — prerequisites
 * (HALT on failure), tenant creation through the registry, Premium
 * manifests, the exact SDP configuration, validation with a real signed
 * webhook and note, the checklist and the onboarding record; on failure the
 * runbook's rollback. The webhook secret lives in memory only and is shown
 * once, in the SDP settings. SDP Cloud clients sign in with Zoho OAuth: a
 * one-time grant code is exchanged for the refresh token in step 2, and
 * the Zoho secrets go to the registry only, never to the output.
 */
import { resolve } from 'node:path';
import { SecretCipher } from '@tep/encryption';
import {
  MemoryAccessTokenStore,
  ServiceDeskError,
  exchangeGrantCode,
  tenantAccountsUrl,
  type AccessTokenStore,
} from '@tep/servicedesk-client';
import { assertPublicUrl } from '@tep/url-guard';
import {
  buildChecklist,
  renderChecklist,
  summarize,
  toOnboardingRecord,
  type OnboardingFacts,
} from '../checklist';
import { exitCodeOf, runPrerequisites } from '../checks';
import { loadClientInfo, type ClientInfo, type ClientInfoFlags } from '../client-info';
import type { CommandContext, CommandOutcome } from '../context';
import { CliError, ExitCode, UsageError, errorMessage } from '../errors';
import { isolationFact } from './validate-isolation';
import { findOnPath, fileArgs, runKubectl } from '../kubectl';
import {
  assertManifestsDirUsable,
  assertSlug,
  namespaceName,
  premiumManifests,
  tenantSlug,
  writeManifests,
} from '../manifests';
import { sharedTokenStoreOrWarn, type SharedTokenStore } from '../nats';
import { RegistryClient, type CreateTenantInput, type CreatedTenant } from '../registry-client';
import { rollback, type RollbackAction, type RollbackPlan } from '../rollback';
import {
  delugeFunction,
  payloadTemplate,
  renderWebhookSettings,
  webhookSettings,
  type AuthScheme,
} from '../sdp-instructions';
import { databaseFacts } from '../validation';
import { StepFailure, validateOnboarding, type ServiceDeskAccess } from './onboard-validation';

export interface OnboardOptions extends ClientInfoFlags {
  slug?: string;
  manifestsDir?: string;
  apply?: boolean;
  staticHeader?: boolean;
  testTicketId?: string;
  /** Seconds to wait for the note. */
  validationTimeout?: number;
  rollbackOnFailure?: boolean;
  operator?: string;
}

const TOTAL_STEPS = 6;

function failureCode(error: unknown): ExitCode {
  if (error instanceof ServiceDeskError) {
    if (error.kind === 'validation') return ExitCode.Usage;
    if (error.kind === 'unavailable' || error.kind === 'timeout') return ExitCode.Unreachable;
    return ExitCode.CheckFailed;
  }
  return error instanceof CliError ? error.exitCode : ExitCode.CheckFailed;
}

/** What the registry stores about the client's SDP, and the same for `tep`'s own client. */
function serviceDeskRegistration(
  info: ClientInfo,
  refreshToken: string | undefined,
): {
  registry: Pick<
    CreateTenantInput,
    'servicedesk_api_key' | 'servicedesk_settings' | 'servicedesk_oauth'
  >;
  access: ServiceDeskAccess;
  /** Must not appear in any column in plaintext. */
  plaintexts: string[];
} {
  if (info.auth_kind === 'authtoken') {
    return {
      registry: { servicedesk_api_key: info.servicedesk_api_key },
      access: { credential: info.servicedesk_api_key },
      plaintexts: [info.servicedesk_api_key],
    };
  }
  const settings = {
    auth_kind: 'oauth',
    portal: info.portal,
    data_centre: info.data_centre,
    ...(info.accounts_url !== undefined ? { accounts_url: info.accounts_url } : {}),
  };
  const oauth = {
    client_id: info.client_id,
    client_secret: info.client_secret,
    refresh_token: refreshToken ?? '',
  };
  return {
    registry: { servicedesk_settings: settings, servicedesk_oauth: oauth },
    access: { settings, credential: JSON.stringify(oauth) },
    plaintexts: [oauth.client_secret, oauth.refresh_token],
  };
}

/**
 * Cloud: the access-token cache `tep` shares with the platform (NATS KV,
 * encrypted with SERVICEDESK_CREDENTIAL_KEY), or a private one. Reported as one
 * check line; never fails the onboarding.
 */
async function cloudTokenStore(
  ctx: CommandContext,
): Promise<{ store: AccessTokenStore; shared?: SharedTokenStore }> {
  const { config, out } = ctx;
  const name = 'Shared Zoho access-token store';
  if (!config.encryptionKey) {
    out.check(
      'warning',
      name,
      'not used (SERVICEDESK_CREDENTIAL_KEY is not set): validation mints a private Zoho access token, one of the 10 Zoho allows per refresh token per 10 minutes',
    );
    return { store: new MemoryAccessTokenStore() };
  }
  let cipher: SecretCipher;
  try {
    cipher = SecretCipher.fromEnv(config.encryptionKey, 'SERVICEDESK_CREDENTIAL_KEY');
  } catch (error) {
    out.check('warning', name, `not used (SERVICEDESK_CREDENTIAL_KEY: ${errorMessage(error)})`);
    return { store: new MemoryAccessTokenStore() };
  }
  const shared = await sharedTokenStoreOrWarn(config, cipher, (detail) =>
    out.check('warning', name, detail),
  );
  if (!shared) return { store: new MemoryAccessTokenStore() };
  out.check(
    'passed',
    name,
    `NATS KV bucket ${shared.bucket} (encrypted), shared with the platform`,
  );
  return { store: shared.store, shared };
}

export async function onboardCommand(
  options: OnboardOptions,
  ctx: CommandContext,
): Promise<CommandOutcome> {
  const held: { tokens?: SharedTokenStore } = {};
  try {
    return await onboard(options, ctx, held);
  } finally {
    await held.tokens?.close();
  }
}

async function onboard(
  options: OnboardOptions,
  ctx: CommandContext,
  held: { tokens?: SharedTokenStore },
): Promise<CommandOutcome> {
  const { config, out } = ctx;
  // Everything the operator typed is checked before anything is created.
  const info = await loadClientInfo(options, ctx.env, ctx.cwd, {
    allowLoopbackAccounts: config.allowInsecureServiceDeskUrls,
  });
  const cloud = info.auth_kind === 'oauth';
  const slug = options.slug ? assertSlug(options.slug) : tenantSlug(info.company_name);
  const premium = info.tier === 'premium';
  const manifestsDir = resolve(ctx.cwd, options.manifestsDir ?? `tenants/${slug}`);
  if (premium) await assertManifestsDirUsable(manifestsDir);
  const timeoutSeconds = options.validationTimeout ?? 60;
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
    throw new UsageError('--validation-timeout must be a positive number of seconds');
  }
  const registry = new RegistryClient(config.registryUrl, config.adminToken);

  const facts: OnboardingFacts = {
    tier: info.tier,
    scheme: options.staticHeader ? 'static_header' : 'hmac',
  };
  const plan: RollbackPlan = { manifestPaths: [] };
  const doc: Record<string, unknown> = {
    command: 'onboard',
    client: {
      company_name: info.company_name,
      servicedesk_url: info.servicedesk_url,
      edition: cloud ? 'cloud' : 'on-premises',
      // Never the client secret, refresh token or grant code.
      ...(info.auth_kind === 'oauth'
        ? {
            portal: info.portal,
            data_centre: info.data_centre,
            accounts_url: info.accounts_url ?? null,
            zoho_client_id: info.client_id,
          }
        : {}),
      admin_email: info.admin_email ?? null,
      tier: info.tier,
      slug,
    },
  };
  let failure: StepFailure | undefined;
  const fail = (error: unknown, prefix = ''): void => {
    const message = `${prefix}${errorMessage(error)}`;
    failure ??= new StepFailure(failureCode(error), message);
    out.check('failed', message);
  };

  out.progress(
    `Onboarding "${info.company_name}" (${info.tier} tier${info.auth_kind === 'oauth' ? `, SDP Cloud, data centre ${info.data_centre}, portal ${info.portal}` : ''})`,
  );

  // Step 1 — the runbook's system prerequisites. HALT on any failure: nothing exists yet.
  out.step(1, TOTAL_STEPS, 'Prerequisite health checks');
  const prerequisites = await runPrerequisites(config);
  for (const r of prerequisites) out.check(r.status, r.name, r.detail);
  doc['prerequisites'] = prerequisites;
  const rls = prerequisites.filter((r) => r.name.startsWith('RLS on '));
  facts.rlsPolicies = {
    ok: rls.length > 0 && rls.every((r) => r.status === 'passed'),
    detail: rls.length
      ? `${rls.filter((r) => r.status === 'passed').length}/${rls.length} tables enabled, forced and with a tenant policy`
      : 'not checked (PostgreSQL unreachable)',
  };
  const prerequisiteCode = exitCodeOf(prerequisites);
  if (prerequisiteCode !== ExitCode.Ok) {
    out.progress(
      '\nHALT: a prerequisite failed. Resolve the infrastructure issue before onboarding; nothing was created.',
    );
    return {
      exitCode: prerequisiteCode,
      json: { ...doc, ok: false, halted: true, exit_code: prerequisiteCode },
    };
  }

  // Step 2 — the tenant, through the registry (it generates, encrypts and publishes the secret).
  out.step(2, TOTAL_STEPS, 'Tenant configuration (registry API)');
  let tokenStore: AccessTokenStore | undefined;
  let refreshToken: string | undefined;
  if (info.auth_kind === 'oauth') {
    const tokens = await cloudTokenStore(ctx);
    held.tokens = tokens.shared;
    tokenStore = tokens.store;
    refreshToken = info.refresh_token;
    if (info.grant_code !== undefined) {
      // Only now, after the prerequisites passed: the code works once.
      const accountsUrl = tenantAccountsUrl(info);
      try {
        const grant = await exchangeGrantCode({
          accountsUrl,
          clientId: info.client_id,
          clientSecret: info.client_secret,
          grantCode: info.grant_code,
          allowLoopback: config.allowInsecureServiceDeskUrls,
          timeoutMs: 15_000,
          beforeConnect: async (url) => {
            await assertPublicUrl(url, { allowInsecure: config.allowInsecureServiceDeskUrls });
          },
          // The access token that comes with it serves validation and the poster: none minted.
          tokenStore,
        });
        refreshToken = grant.refreshToken;
        out.check(
          'passed',
          'Zoho grant code exchanged for a refresh token',
          `${new URL(accountsUrl).host}; the refresh token goes to the registry only (encrypted)`,
        );
      } catch (error) {
        const hint =
          error instanceof ServiceDeskError && error.kind === 'auth'
            ? ' — a grant code works once and expires after 3–10 minutes: generate a new one (Zoho API console → Self Client) and run again'
            : '';
        const message = `${errorMessage(error)}${hint}`;
        // Nothing was created: no rollback to offer.
        out.check('failed', 'Zoho grant code exchange', message);
        const exitCode = failureCode(error);
        return {
          exitCode,
          json: { ...doc, ok: false, exit_code: exitCode, error: message },
        };
      }
    }
  }
  const registration = serviceDeskRegistration(info, refreshToken);
  const access: ServiceDeskAccess = { ...registration.access, tokenStore };
  let tenant: CreatedTenant;
  try {
    tenant = await registry.createTenant({
      name: info.company_name,
      servicedesk_url: info.servicedesk_url,
      ...registration.registry,
      tier: info.tier,
      ...(info.admin_email ? { admin_email: info.admin_email } : {}),
      enhancement_preferences: info.enhancement_preferences,
      rate_limits: { requests_per_minute: info.rate_limit },
    });
  } catch (error) {
    // Nothing was created: no rollback to offer.
    const message = `${errorMessage(error)}${
      info.auth_kind === 'oauth' && info.grant_code !== undefined
        ? ' (the grant code is used up: generate a new one to run again)'
        : ''
    }`;
    out.check('failed', 'Tenant creation', message);
    const exitCode = failureCode(error);
    return {
      exitCode,
      json: { ...doc, ok: false, exit_code: exitCode, error: message },
    };
  }
  // Kept in memory only: printed once in step 4, never written anywhere.
  const secret = tenant.webhook_secret;
  plan.tenantId = tenant.tenant_id;
  facts.webhookUrl = tenant.webhook_url;
  out.check('passed', 'Tenant created', `tenant_id ${tenant.tenant_id}`);
  out.check('passed', 'Webhook URL', tenant.webhook_url);
  out.check(
    'passed',
    'Webhook secret generated',
    'encrypted by the registry; shown once in step 4',
  );
  doc['tenant'] = {
    tenant_id: tenant.tenant_id,
    name: tenant.name,
    tier: tenant.tier,
    webhook_url: tenant.webhook_url,
  };
  try {
    Object.assign(
      facts,
      await databaseFacts({
        databaseUrl: config.registryDatabaseUrl,
        tenantId: tenant.tenant_id,
        plaintexts: [secret, ...registration.plaintexts],
      }),
    );
    for (const [name, fact] of [
      ['Tenant record visible under its RLS context', facts.tenantRecord],
      ['Credentials encrypted at rest', facts.credentialsEncrypted],
      ['Enhancement preferences valid', facts.preferencesValid],
    ] as const) {
      out.check(fact?.ok ? 'passed' : 'failed', name, fact?.detail);
      if (!fact?.ok) fail(new Error(`${name}: ${fact?.detail}`));
    }
  } catch (error) {
    fail(error, 'Database checks: ');
  }

  // Step 3 — Kubernetes (runbook 3.2 / 3.3).
  out.step(3, TOTAL_STEPS, 'Kubernetes resources');
  if (!premium) {
    out.check(
      'skipped',
      'Basic tier',
      'shared namespace with RLS isolation; nothing to create (runbook 3.2)',
    );
  } else if (!failure) {
    try {
      const files = premiumManifests({ slug, tenantId: tenant.tenant_id });
      const written = await writeManifests(manifestsDir, files);
      plan.manifestsDir = written.removable;
      plan.manifestPaths = written.paths;
      out.check(
        'passed',
        'Manifests written',
        `${manifestsDir} (namespace ${namespaceName(slug)})`,
      );
      for (const path of plan.manifestPaths) out.progress(`       ${path}`);
      const k8s: NonNullable<OnboardingFacts['kubernetes']> = { dir: manifestsDir };
      facts.kubernetes = k8s;
      const kubectl = options.apply ? findOnPath('kubectl', ctx.env['PATH']) : undefined;
      if (!options.apply) {
        k8s.skippedReason = 'no --apply given';
        out.check(
          'skipped',
          'kubectl apply',
          `skipped (no --apply): kubectl apply -f ${manifestsDir}`,
        );
      } else if (!kubectl) {
        k8s.skippedReason = 'kubectl is not on PATH';
        out.check(
          'skipped',
          'kubectl apply',
          `skipped: kubectl is not on PATH; later: kubectl apply -f ${manifestsDir}`,
        );
      } else {
        plan.kubectlApplied = { executable: kubectl };
        const applied = await runKubectl(
          kubectl,
          ['apply', ...fileArgs(plan.manifestPaths)],
          ctx.env,
        );
        if (applied.code !== 0) {
          throw new StepFailure(
            ExitCode.CheckFailed,
            `kubectl apply failed: ${applied.stderr.trim()}`,
          );
        }
        out.check('passed', 'kubectl apply', applied.stdout.trim().split('\n').join('; '));
        const got = await runKubectl(kubectl, ['get', ...fileArgs(plan.manifestPaths)], ctx.env);
        k8s.verified =
          got.code === 0
            ? {
                ok: true,
                detail: `applied; kubectl get found every object in ${namespaceName(slug)}`,
              }
            : { ok: false, detail: `applied, but kubectl get failed: ${got.stderr.trim()}` };
        out.check(k8s.verified.ok ? 'passed' : 'failed', 'Resources present', k8s.verified.detail);
        if (!k8s.verified.ok) fail(new Error(k8s.verified.detail));
      }
      doc['manifests'] = {
        dir: manifestsDir,
        files: plan.manifestPaths,
        applied: Boolean(k8s.verified?.ok),
        skipped_reason: k8s.skippedReason ?? null,
      };
    } catch (error) {
      fail(error, 'Kubernetes: ');
    }
  }

  // Step 4 — what to configure in the client's ServiceDesk Plus (runbook 4.3).
  out.step(4, TOTAL_STEPS, 'ServiceDesk Plus webhook configuration');
  let scheme: AuthScheme = 'hmac';
  let secretShown = false;
  if (!failure) {
    try {
      if (options.staticHeader) {
        const view = await registry.setWebhookAuthScheme(tenant.tenant_id, 'static_header');
        scheme = view.webhook_auth_scheme;
        out.progress(
          [
            '',
            '  ################################################################################',
            '  ⚠️  WEAKER SECURITY: STATIC-HEADER WEBHOOK AUTHENTICATION',
            '  This tenant sends the shared secret itself in X-ServiceDesk-Token on every',
            '  webhook. Anyone who sees one request (logs, proxies) can forge webhooks.',
            '  Use it only where SDP cannot run the signing custom function; switch back with',
            `  PUT /tenants/${tenant.tenant_id}/webhook-auth-scheme {"scheme":"hmac"}.`,
            '  ################################################################################',
          ].join('\n'),
        );
      }
      facts.scheme = scheme;
      const settingsInput = { webhookUrl: tenant.webhook_url, secret, scheme };
      out.print('\n  Admin → Automation → Webhooks → Add New Webhook, with exactly:\n');
      out.print(renderWebhookSettings(settingsInput).replace(/^/gm, '  '));
      secretShown = true;
      out.print(
        '\n  Payload template (Ticket Created; use "event": "updated" for Ticket Updated).',
      );
      out.print(
        '  The $ variable names are to be confirmed for your SDP edition; SDP must JSON-escape them:\n',
      );
      out.print(payloadTemplate('created').replace(/^/gm, '  '));
      const deluge =
        scheme === 'hmac'
          ? delugeFunction({ webhookUrl: tenant.webhook_url, event: 'created' })
          : undefined;
      if (deluge) {
        out.print(
          '\n  SDP cannot sign webhooks itself: use this custom function as the trigger action instead of a\n' +
            '  plain webhook. Replace PASTE_WEBHOOK_SECRET_HERE with the Signing Secret above (it refuses to\n' +
            '  send until you do):\n',
        );
        out.print(deluge.replace(/^/gm, '  '));
      } else {
        out.print(
          '\n  Static-header scheme: SDP sends the header above itself; no custom function is needed.',
        );
      }
      doc['sdp'] = {
        auth_scheme: scheme,
        webhook_auth_weaker: scheme === 'static_header',
        settings: Object.fromEntries(webhookSettings(settingsInput)),
        payload_templates: {
          created: payloadTemplate('created'),
          updated: payloadTemplate('updated'),
        },
        deluge_function: deluge ?? null,
      };
      out.check(
        'passed',
        'SDP settings generated',
        scheme === 'hmac' ? 'HMAC-SHA256 via Deluge custom function' : 'static header (WEAKER)',
      );
    } catch (error) {
      fail(error, 'SDP configuration: ');
    }
  }

  // Step 5 — validation: a real signed webhook, its note read back through the SDP API, isolation.
  out.step(5, TOTAL_STEPS, 'Validation testing');
  const validation: Record<string, unknown> = {};
  doc['validation'] = validation;
  if (!failure) {
    try {
      await validateOnboarding({
        ctx,
        options,
        info,
        access,
        tenant,
        secret,
        scheme,
        facts,
        plan,
        validation,
        timeoutSeconds,
      });
    } catch (error) {
      fail(error);
    }
  }
  try {
    const isolation = await isolationFact(config);
    facts.isolation = isolation.fact;
    for (const line of isolation.result?.lines.slice(-5) ?? [])
      out.check(line.ok ? 'passed' : 'failed', line.text);
    if (!isolation.fact.ok) fail(new Error(`Tenant isolation: ${isolation.fact.detail}`));
    validation['isolation'] = isolation.result ?? { error: isolation.fact.detail };
  } catch (error) {
    fail(error, 'Tenant isolation: ');
  }

  // Step 6 — the runbook's validation checklist and the onboarding record.
  out.step(6, TOTAL_STEPS, 'Validation checklist');
  const checklist = buildChecklist(facts);
  out.progress(renderChecklist(checklist));
  const summary = summarize(checklist);
  doc['checklist'] = checklist;
  doc['summary'] = summary;
  if (!failure && summary.failed > 0) {
    failure = new StepFailure(ExitCode.CheckFailed, `${summary.failed} checklist item(s) failed`);
  }

  const recordOnboarding = async (): Promise<boolean> => {
    try {
      await registry.putOnboardingRecord(
        tenant.tenant_id,
        toOnboardingRecord(checklist, {
          completedAt: new Date(),
          operator: options.operator ?? ctx.env['USER'] ?? ctx.env['LOGNAME'],
        }),
      );
      out.check(
        'passed',
        'Onboarding record written to the registry',
        `GET /tenants/${tenant.tenant_id}`,
      );
      return true;
    } catch (error) {
      out.check('failed', 'Onboarding record', errorMessage(error));
      return false;
    }
  };

  if (!failure) {
    const written = await recordOnboarding();
    const exitCode = written ? ExitCode.Ok : ExitCode.CheckFailed;
    out.progress(
      written
        ? `\nOnboarding of "${info.company_name}" complete: ${summary.passed} checks passed, ${summary.manual} manual items to do.`
        : '\nOnboarding checks passed, but the record could not be written.',
    );
    return {
      exitCode,
      json: {
        ...doc,
        ok: written,
        exit_code: exitCode,
        webhook_secret: secret,
        onboarding_record_written: written,
      },
    };
  }

  // Failure: the runbook's rollback, on request.
  const reason: StepFailure = failure;
  out.progress(`\n${'❌'} Onboarding failed: ${reason.message}`);
  const doRollback =
    options.rollbackOnFailure === true ||
    (await out.confirm(
      `Roll back (delete tenant ${tenant.tenant_id} with purge${plan.manifestPaths.length ? ', remove the manifests' : ''}${plan.kubectlApplied ? ', kubectl delete' : ''})? [y/N] `,
    ));
  let actions: RollbackAction[] = [];
  let recordWritten = false;
  if (doRollback) {
    out.progress('\nRolling back:');
    actions = await rollback(plan, { config, registry, env: ctx.env });
    for (const a of actions) {
      out.check(
        a.status === 'done' ? 'passed' : a.status === 'manual' ? 'manual' : 'failed',
        a.action,
        a.detail,
      );
    }
  } else {
    recordWritten = await recordOnboarding();
    out.progress(
      [
        '\nNot rolled back. To roll back later (runbook "Rollback Procedures"):',
        `  tep offboard ${tenant.tenant_id} --purge`,
        ...(plan.kubectlApplied ? [`  kubectl delete -f ${manifestsDir}`] : []),
        ...(plan.manifestsDir ? [`  rm -r ${plan.manifestsDir}`] : []),
      ].join('\n'),
    );
    // Step 4 never ran, so the secret was not shown yet: once, here.
    if (!secretShown) out.print(`\nWebhook signing secret (shown once): ${secret}`);
  }
  return {
    exitCode: reason.exitCode,
    json: {
      ...doc,
      ok: false,
      exit_code: reason.exitCode,
      error: reason.message,
      // Useless once rolled back; otherwise the only place a script can get it.
      webhook_secret: doRollback ? null : secret,
      onboarding_record_written: recordWritten,
      rollback: { performed: doRollback, actions },
    },
  };
}
