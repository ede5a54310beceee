import type { IncomingMessage, ServerResponse } from 'node:http';
import { Controller, Get, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { JetStreamClient } from '@nats-io/jetstream';
import { PinoLogger } from 'nestjs-pino';
import getRawBody from 'raw-body';
import {
  FEEDBACK_RATINGS,
  FeedbackAnswersSchema,
  FeedbackSubmittedSchema,
  type FeedbackRating,
  type Topology,
} from '@tep/contracts';
import { FeedbackTokenError, type FeedbackClaims, type FeedbackTokens } from '@tep/feedback-token';
import { publishMessage } from '@tep/pipeline';
import { JETSTREAM, TOPOLOGY } from '@tep/service-runtime';
import { feedbackForm, problemPage, thankYou } from './feedback-page';
import { FixedWindowLimiter } from './fixed-window-limiter';

export const FEEDBACK_TOKENS = Symbol('FEEDBACK_TOKENS');

/** The public path of a note's feedback links (`<PUBLIC_WEBHOOK_BASE_URL>/feedback/<token>`). */
export const FEEDBACK_PATH = 'feedback';
const MAX_FORM_BYTES = 16 * 1024;

/**
 * The feedback links of every note, public and without login: the token
 * (signed, per job, 30 days) is the only credential. GET shows the form and
 * records nothing; POST queues the answers on JetStream (this service reads
 * no table) and thanks once JetStream stored them; the context-gatherer
 * records them in enhancement_feedback. Bad input is a 4xx page, never a 5xx.
 */
@Controller(FEEDBACK_PATH)
export class FeedbackController {
  /** Per client address: generous for a team behind one NAT, tight for a scanner. */
  private readonly perClient = new FixedWindowLimiter(60, 60_000);
  /** Per link: a technician changing an answer, not a script replaying one. */
  private readonly perToken = new FixedWindowLimiter(10, 60_000);

  constructor(
    @Inject(FEEDBACK_TOKENS) private readonly tokens: FeedbackTokens,
    @Inject(JETSTREAM) private readonly js: JetStreamClient,
    @Inject(TOPOLOGY) private readonly topology: Topology,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext(FeedbackController.name);
  }

  @Get(':token')
  show(
    @Param('token') token: string,
    @Query('rating') rating: string | undefined,
    @Req() req: IncomingMessage,
    @Res() res: ServerResponse,
  ): void {
    if (!this.allowed(req, res)) return;
    const claims = this.claims(token, res);
    if (!claims) return;
    const chosen: FeedbackRating = FEEDBACK_RATINGS.includes(rating as FeedbackRating)
      ? (rating as FeedbackRating)
      : 'helpful';
    send(res, 200, feedbackForm(`/${FEEDBACK_PATH}/${encodeURIComponent(token)}`, chosen));
  }

  @Post(':token')
  async submit(
    @Param('token') token: string,
    @Req() req: IncomingMessage,
    @Res() res: ServerResponse,
  ): Promise<void> {
    if (!this.allowed(req, res, token)) return;
    const claims = this.claims(token, res);
    if (!claims) return;
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') {
      send(res, 415, problemPage('Unsupported form', 'Send the form from the feedback page.'));
      return;
    }
    let body: string;
    try {
      body = await getRawBody(req, { limit: MAX_FORM_BYTES, encoding: 'utf8' });
    } catch {
      send(res, 413, problemPage('Too long', 'The answer is too long; shorten the reason.'));
      return;
    }
    const fields = Object.fromEntries(new URLSearchParams(body));
    const parsed = FeedbackAnswersSchema.safeParse(fields);
    if (!parsed.success) {
      const names = [...new Set(parsed.error.issues.map((i) => String(i.path[0] ?? 'form')))];
      send(res, 400, problemPage('Please check the form', `Invalid: ${names.join(', ')}.`));
      return;
    }
    try {
      await publishMessage(this.js, {
        subject: this.topology.subjects.feedback(claims.tenantId),
        schema: FeedbackSubmittedSchema,
        message: {
          tenant_id: claims.tenantId,
          job_id: claims.jobId,
          answers: parsed.data,
          submitted_at: new Date().toISOString(),
        },
        // Each submission is its own message (a changed answer is a new one).
        msgId: `feedback:${claims.jobId}:${Date.now()}:${Math.random().toString(36).slice(2)}`,
        tenantId: claims.tenantId,
        jobId: claims.jobId,
      });
    } catch (error) {
      this.logger.warn(
        {
          event: 'feedback_not_queued',
          tenant_id: claims.tenantId,
          job_id: claims.jobId,
          err: error,
        },
        'Feedback could not be queued',
      );
      send(res, 503, problemPage('Please try again', 'Your feedback could not be saved just now.'));
      return;
    }
    this.logger.info(
      {
        event: 'feedback_received',
        tenant_id: claims.tenantId,
        job_id: claims.jobId,
        rating: parsed.data.rating,
      },
      'Feedback received',
    );
    send(res, 200, thankYou(parsed.data.rating));
  }

  private claims(token: string, res: ServerResponse): FeedbackClaims | undefined {
    try {
      return this.tokens.verify(token);
    } catch (error) {
      if (error instanceof FeedbackTokenError && error.problem === 'expired') {
        send(
          res,
          410,
          problemPage('Link expired', 'Feedback links work for 30 days after the note.'),
        );
      } else {
        send(res, 403, problemPage('Link not valid', 'This feedback link is not valid.'));
      }
      return undefined;
    }
  }

  private allowed(req: IncomingMessage, res: ServerResponse, token?: string): boolean {
    const client = req.socket.remoteAddress ?? 'unknown';
    if (this.perClient.take(client) && (token === undefined || this.perToken.take(token))) {
      return true;
    }
    res.setHeader('Retry-After', '60');
    send(res, 429, problemPage('Too many requests', 'Please wait a minute and try again.'));
    return false;
  }
}

function send(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
  });
  res.end(html);
}
