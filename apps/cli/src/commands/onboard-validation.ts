/**
 * Onboarding step 5: the client's SDP API (a test request), the signed test
 * webhook and the refusal of unsigned ones, the note read back through the
 * SDP API, and the tenant's metrics. Every observation lands in `facts` for
 * the checklist; the first failure throws. The SDP client is built exactly
 * as the platform builds it for the tenant (`clientForServiceDesk`: the same
 * settings and credential the registry stores), so a Cloud tenant is read
 * through the Cloud API with its Zoho OAuth credentials.
 */
import {
  ServiceDeskError,
  clientForServiceDesk,
  serviceDeskGuard,
  type AccessTokenStore,
  type ServiceDeskRequest,
} from '@tep/servicedesk-client';
import type { Fact, OnboardingFacts } from '../checklist';
import type { ClientInfo } from '../client-info';
import type { CommandContext } from '../context';
import { CliError, ExitCode, errorMessage } from '../errors';
import type { CreatedTenant } from '../registry-client';
import type { RollbackPlan } from '../rollback';
import type { AuthScheme } from '../sdp-instructions';
import {
  RUNBOOK_TEST_PAYLOAD,
  VALIDATION_SUBJECT,
  checkSignatureEnforced,
  sendSignedWebhook,
  tenantMetric,
  testPayload,
  waitForNote,
} from '../validation';

/** A step failed; its exit code says whether a check failed (1) or the platform did not answer (3). */
export class StepFailure extends CliError {}

/** How `tep` reaches the client's SDP: what the registry stores for the tenant, in plaintext. */
export interface ServiceDeskAccess {
  /** `servicedesk_settings` as sent to the registry (undefined: on-premises defaults). */
  settings?: Record<string, unknown>;
  /** The API key, or the Cloud OAuth secret as JSON — as the registry encrypts it. */
  credential: string;
  /** Cloud: the shared (or a private) access-token cache. */
  tokenStore?: AccessTokenStore;
}

function sdpProblem(error: unknown, cloud: boolean): string {
  if (error instanceof ServiceDeskError && error.kind === 'auth') {
    return cloud
      ? `ServiceDesk Plus Cloud rejected the Zoho OAuth credentials: ${error.message}`
      : `ServiceDesk Plus rejected the API key: ${error.message}`;
  }
  return `ServiceDesk Plus API: ${errorMessage(error)}`;
}

export async function validateOnboarding(input: {
  ctx: CommandContext;
  options: { testTicketId?: string };
  info: ClientInfo;
  access: ServiceDeskAccess;
  tenant: CreatedTenant;
  secret: string;
  scheme: AuthScheme;
  facts: OnboardingFacts;
  plan: RollbackPlan;
  validation: Record<string, unknown>;
  timeoutSeconds: number;
}): Promise<void> {
  const { ctx, options, info, tenant, secret, facts, plan, validation } = input;
  const { config, out } = ctx;
  const cloud = info.auth_kind === 'oauth';
  const api = cloud ? 'the SDP Cloud API (Zoho OAuth)' : 'the SDP API';
  const sdp = clientForServiceDesk(
    {
      servicedesk_url: info.servicedesk_url,
      servicedesk_settings: input.access.settings,
      credential: input.access.credential,
    },
    {
      timeoutMs: 10_000,
      maxRetries: 1,
      // The same SSRF rule as the platform: an operator typo must not reach an internal address.
      ...serviceDeskGuard(config.allowInsecureServiceDeskUrls),
      tokenStore: input.access.tokenStore,
    },
  );

  // The test ticket: the one named, or a new request — either way this proves the API key works.
  let ticket: ServiceDeskRequest;
  try {
    ticket = options.testTicketId
      ? await sdp.getRequest(options.testTicketId)
      : await sdp.createRequest({
          subject: VALIDATION_SUBJECT,
          descriptionHtml: `<p>Created by <code>tep onboard</code> to validate the ticket enhancement platform. ${RUNBOOK_TEST_PAYLOAD.description}</p>`,
          priority: RUNBOOK_TEST_PAYLOAD.priority,
        });
  } catch (error) {
    throw new StepFailure(ExitCode.CheckFailed, sdpProblem(error, cloud));
  }
  if (!options.testTicketId) plan.sdpRequestId = ticket.id;
  validation['ticket_id'] = ticket.id;
  out.check(
    'passed',
    options.testTicketId
      ? 'Test ticket found in ServiceDesk Plus'
      : 'Test ticket created in ServiceDesk Plus',
    `request ${ticket.id}${ticket.displayId !== ticket.id ? ` (${ticket.displayId})` : ''}: ${ticket.subject}`,
  );

  const body = JSON.stringify(testPayload(ticket, { requesterEmail: info.admin_email }));
  const { reply, attempts } = await sendSignedWebhook({
    ingressUrl: config.ingressUrl,
    tenantId: tenant.tenant_id,
    secret,
    body,
  });
  const jobId = typeof reply.body['job_id'] === 'string' ? reply.body['job_id'] : undefined;
  facts.webhookAccepted =
    reply.status === 202 && jobId
      ? { ok: true, detail: `202 Accepted, job_id ${jobId}` }
      : { ok: false, detail: `HTTP ${reply.status} ${JSON.stringify(reply.body)}` };
  validation['webhook_status'] = reply.status;
  validation['job_id'] = jobId ?? null;
  out.check(
    facts.webhookAccepted.ok ? 'passed' : 'failed',
    'Signed test webhook',
    `${facts.webhookAccepted.detail}${attempts > 1 ? ` (after ${attempts} attempts while the ingress learned the tenant)` : ''}`,
  );
  if (!jobId)
    throw new StepFailure(
      ExitCode.CheckFailed,
      `test webhook not accepted: ${facts.webhookAccepted.detail}`,
    );
  plan.jobId = jobId;

  facts.signatureEnforced = await checkSignatureEnforced({
    ingressUrl: config.ingressUrl,
    tenantId: tenant.tenant_id,
    body,
    scheme: input.scheme,
  });
  out.check(
    facts.signatureEnforced.ok ? 'passed' : 'failed',
    'Unsigned and mis-signed webhooks refused',
    facts.signatureEnforced.detail,
  );

  out.progress(`  … waiting up to ${input.timeoutSeconds} s for the note on request ${ticket.id}`);
  const started = Date.now();
  const outcome = await waitForNote({
    client: sdp,
    ticketId: ticket.id,
    jobId,
    tenantId: tenant.tenant_id,
    databaseUrl: config.registryDatabaseUrl,
    timeoutMs: input.timeoutSeconds * 1000,
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const note = outcome.notes[0];
  validation['note_id'] = note?.id ?? null;
  validation['notes_for_job'] = outcome.notes.length;
  validation['job_status'] = outcome.job?.status ?? null;
  facts.jobProcessed = outcome.job
    ? outcome.job.status === 'posted'
      ? { ok: true, detail: `enhancement_history: posted, note ${outcome.job.note_id}` }
      : {
          ok: false,
          detail: `enhancement_history: ${outcome.job.status}${outcome.job.error ? ` (${outcome.job.error})` : ''}`,
        }
    : { ok: false, detail: 'the job never reached enhancement_history' };
  facts.notePosted = note
    ? outcome.notes.length === 1
      ? {
          ok: true,
          detail: `note ${note.id} on request ${ticket.id}, read back through ${api} after ${seconds} s`,
        }
      : {
          ok: false,
          detail: `${outcome.notes.length} notes for one job on request ${ticket.id} (expected exactly 1)`,
        }
    : { ok: false, detail: outcome.failure ?? 'no note' };
  facts.noteVisible = note
    ? {
        ok: true,
        detail: `readable with the ${cloud ? "tenant's Zoho OAuth client" : 'technician API key'}; ${
          note.showToRequester
            ? 'also visible to the requester (note_visibility = requester)'
            : 'hidden from the requester (technicians only)'
        }`,
      }
    : { ok: false, detail: 'no note to view' };
  out.check(
    facts.jobProcessed.ok ? 'passed' : 'failed',
    'Pipeline processed the job',
    facts.jobProcessed.detail,
  );
  out.check(
    facts.notePosted.ok ? 'passed' : 'failed',
    'Enhancement note on the ticket',
    facts.notePosted.detail,
  );

  facts.metrics = await tenantMetric(config.ingressUrl, tenant.tenant_id);
  out.check(
    facts.metrics.ok ? 'passed' : 'failed',
    'Tenant metrics exported',
    facts.metrics.detail,
  );

  const failed: Fact | undefined = [
    facts.signatureEnforced,
    facts.jobProcessed,
    facts.notePosted,
    facts.metrics,
  ].find((f) => !f.ok);
  if (failed) throw new StepFailure(ExitCode.CheckFailed, `validation failed: ${failed.detail}`);
}
