/**
 * `tep dead-letters list|replay`: jobs that ended in the dead-letter stream
 * instead of as a note. Replay republishes the original message to its
 * original stage with a new Nats-Msg-Id, then removes the dead letter; the
 * poster posts at most one note per job, so a replayed job that now
 * succeeds ends as exactly one note.
 */
import { isUuid } from '@tep/data';
import type { CommandContext, CommandOutcome } from '../context';
import { ExitCode, UsageError, errorMessage, notTenantId } from '../errors';
import {
  getDeadLetter,
  listDeadLetters,
  replayDeadLetter,
  withNats,
  type ReplayResult,
  type StoredDeadLetter,
} from '../nats';
import { renderTable } from '../output';

/** The listing leaves out the payload (ticket contents); replay reads it from the stream. */
function summary(letter: StoredDeadLetter): Record<string, unknown> {
  return Object.fromEntries(Object.entries(letter).filter(([key]) => key !== 'original_payload'));
}

export async function listDeadLettersCommand(
  options: { tenant?: string; stage?: string },
  ctx: CommandContext,
): Promise<CommandOutcome> {
  if (options.tenant !== undefined && !isUuid(options.tenant)) {
    throw notTenantId(options.tenant);
  }
  const letters = await withNats(ctx.config, (nats) =>
    listDeadLetters(nats, { tenantId: options.tenant, stage: options.stage }),
  );
  const { out } = ctx;
  out.print(`${letters.length} dead letter(s)`);
  if (letters.length) {
    out.print(
      renderTable(
        ['Seq', 'Failed at', 'Stage', 'Tenant', 'Job', 'Code', 'Error'],
        letters.map((l) => [
          String(l.sequence),
          l.failed_at,
          l.stage,
          l.tenant_id,
          l.job_id,
          l.error_code,
          l.error.length > 80 ? `${l.error.slice(0, 79)}…` : l.error,
        ]),
      ),
    );
    out.print(
      '\nReplay one with: tep dead-letters replay <seq>   (or --all-for-tenant <tenant_id>)',
    );
  }
  return {
    exitCode: ExitCode.Ok,
    json: {
      command: 'dead-letters list',
      count: letters.length,
      dead_letters: letters.map(summary),
    },
  };
}

export async function replayDeadLettersCommand(
  sequence: string | undefined,
  options: { allForTenant?: string },
  ctx: CommandContext,
): Promise<CommandOutcome> {
  if ((sequence === undefined) === (options.allForTenant === undefined)) {
    throw new UsageError('give either a dead-letter sequence or --all-for-tenant <tenant_id>');
  }
  if (options.allForTenant !== undefined && !isUuid(options.allForTenant)) {
    throw notTenantId(options.allForTenant);
  }
  const seq = sequence === undefined ? undefined : Number(sequence);
  if (seq !== undefined && (!Number.isInteger(seq) || seq < 1)) {
    throw new UsageError(`"${sequence}" is not a dead-letter sequence number`);
  }
  const { out } = ctx;
  const replayed: ReplayResult[] = [];
  const failed: { sequence: number; error: string }[] = [];
  await withNats(ctx.config, async (nats) => {
    const letters =
      seq !== undefined
        ? [await getDeadLetter(nats, seq)]
        : await listDeadLetters(nats, { tenantId: options.allForTenant });
    for (const letter of letters) {
      try {
        const result = await replayDeadLetter(nats, letter);
        replayed.push(result);
        out.check(
          'passed',
          `Replayed dead letter ${letter.sequence}`,
          `job ${letter.job_id} → ${result.republished_to} (Nats-Msg-Id ${result.msg_id}); dead letter removed`,
        );
      } catch (error) {
        failed.push({ sequence: letter.sequence, error: errorMessage(error) });
        out.check('failed', `Dead letter ${letter.sequence}`, errorMessage(error));
      }
    }
  });
  if (!replayed.length && !failed.length) out.print('Nothing to replay.');
  const exitCode = failed.length ? ExitCode.CheckFailed : ExitCode.Ok;
  return {
    exitCode,
    json: { command: 'dead-letters replay', exit_code: exitCode, replayed, failed },
  };
}
