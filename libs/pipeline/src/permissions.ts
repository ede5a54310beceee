import { stageLanes, type StageName, type Topology } from '@tep/contracts';
import { bucketStreams } from './jetstream';
import { inboxPrefixOf } from './connection';

/**
 * The NATS users of the production configuration: one per service, and
 * `tep-admin` for the operators' `tep` and the back-fill.
 */
export const NATS_USERS = [
  'webhook-ingress',
  'tenant-registry',
  'context-gatherer',
  'llm-synthesizer',
  'servicedesk-poster',
  'tep-admin',
] as const;
export type NatsUser = (typeof NATS_USERS)[number];

export interface NatsPermissions {
  publish: string[];
  subscribe: string[];
}

/** What each stage publishes its result on. */
const NEXT_KIND: Record<StageName, string> = {
  'context-gatherer': 'contextualized',
  'llm-synthesizer': 'enhanced',
  'servicedesk-poster': 'posted',
};

/**
 * Each user's publish and subscribe allow-lists (everything else is
 * denied), derived from the topology so they cannot drift from the names
 * the services use:
 * - every user subscribes only to its own inbox (inboxPrefixOf): JetStream
 *   API answers and pulled messages arrive there, so no service reads
 *   another's deliveries;
 * - the ingress publishes received jobs, reads the tenant directory and
 *   writes its rate-limit counters — nothing else;
 * - a stage pulls and acks only its own consumers, publishes only its next
 *   subject, its backlog lane and its dead letters;
 * - only the registry creates or updates streams, consumers and buckets
 *   (it owns the topology) and writes the tenant directory;
 * - only the poster reads and writes the SDP token bucket;
 * - `tep-admin` may use the JetStream API on the platform's streams (dead
 *   letters, purges, status) and the KV buckets, for operators.
 */
export function natsPermissions(topology: Topology): Record<NatsUser, NatsPermissions> {
  const prefix = topology.namespace ? `${topology.namespace}.` : '';
  const api = '$JS.API';
  const tickets = topology.ticketsStream;
  const advisories = topology.advisoryStream;
  const kvStream = (bucket: string) => `KV_${bucket}`;
  const platformStreams = [
    tickets,
    topology.deadLetterStream,
    advisories,
    ...bucketStreams(topology),
  ];
  const inbox = (user: NatsUser) => [`${inboxPrefixOf(user)}.>`];
  // Every service: JetStream's account check, and stream info (awaitTopology, /health).
  const common = [`${api}.INFO`, ...platformStreams.map((s) => `${api}.STREAM.INFO.${s}`)];
  const readBucket = (bucket: string) => [
    `${api}.DIRECT.GET.${kvStream(bucket)}`,
    `${api}.DIRECT.GET.${kvStream(bucket)}.>`,
    `${api}.STREAM.MSG.GET.${kvStream(bucket)}`,
  ];
  const writeBucket = (bucket: string) => [`$KV.${bucket}.>`];
  /** A KV watch: an ordered consumer on the bucket's stream, and its flow-control replies. */
  const watchBucket = (bucket: string) => [
    `${api}.CONSUMER.CREATE.${kvStream(bucket)}`,
    `${api}.CONSUMER.CREATE.${kvStream(bucket)}.>`,
    `${api}.CONSUMER.DELETE.${kvStream(bucket)}.*`,
    `$JS.FC.${kvStream(bucket)}.>`,
  ];

  const stage = (name: StageName): NatsPermissions => {
    const consumer = topology.consumers[name];
    const pulls = stageLanes(consumer).flatMap(({ durable }) =>
      [
        [tickets, durable],
        [advisories, `${durable}_exhausted`],
      ].flatMap(([stream, consumerName]) => [
        `${api}.CONSUMER.INFO.${stream}.${consumerName}`,
        `${api}.CONSUMER.MSG.NEXT.${stream}.${consumerName}`,
        `$JS.ACK.${stream}.${consumerName}.>`,
      ]),
    );
    const kind = NEXT_KIND[name];
    return {
      publish: [
        ...common,
        ...pulls,
        // The exhausted-delivery capture reads the message an advisory names.
        `${api}.STREAM.MSG.GET.${tickets}`,
        `${prefix}tickets.${kind}.*`,
        consumer.backlogSubject('*'),
        topology.subjects.deadLetter(name, '*'),
        // Which tenants exist (keys only), for their metric series (TenantSeries).
        ...watchBucket(topology.tenantDirectoryBucket),
        // The gatherer also records the technicians' feedback.
        ...(name === 'context-gatherer'
          ? [
              `${api}.CONSUMER.INFO.${tickets}.${topology.feedbackConsumer.durable}`,
              `${api}.CONSUMER.MSG.NEXT.${tickets}.${topology.feedbackConsumer.durable}`,
              `$JS.ACK.${tickets}.${topology.feedbackConsumer.durable}.>`,
            ]
          : []),
        ...(name === 'servicedesk-poster'
          ? [...readBucket(topology.oauthTokenBucket), ...writeBucket(topology.oauthTokenBucket)]
          : []),
      ],
      subscribe: inbox(name),
    };
  };

  const manage = platformStreams.flatMap((s) => [
    `${api}.STREAM.CREATE.${s}`,
    `${api}.STREAM.UPDATE.${s}`,
  ]);
  const manageConsumers = [tickets, advisories].flatMap((s) => [
    `${api}.CONSUMER.CREATE.${s}.>`,
    `${api}.CONSUMER.DURABLE.CREATE.${s}.*`,
    `${api}.CONSUMER.INFO.${s}.*`,
  ]);

  return {
    'webhook-ingress': {
      publish: [
        ...common,
        topology.subjects.received('*'),
        // The notes' feedback links: answers queued for the gatherer to record.
        topology.subjects.feedback('*'),
        ...readBucket(topology.tenantDirectoryBucket),
        ...watchBucket(topology.tenantDirectoryBucket),
        ...readBucket(topology.rateLimitBucket),
        ...writeBucket(topology.rateLimitBucket),
      ],
      subscribe: inbox('webhook-ingress'),
    },
    'tenant-registry': {
      publish: [
        ...common,
        ...manage,
        ...manageConsumers,
        ...writeBucket(topology.tenantDirectoryBucket),
      ],
      subscribe: inbox('tenant-registry'),
    },
    'context-gatherer': stage('context-gatherer'),
    'llm-synthesizer': stage('llm-synthesizer'),
    'servicedesk-poster': stage('servicedesk-poster'),
    'tep-admin': {
      publish: [
        `${api}.>`,
        `$JS.ACK.${topology.deadLetterStream}.>`,
        `${prefix}tickets.>`,
        ...[topology.tenantDirectoryBucket, topology.oauthTokenBucket].flatMap(writeBucket),
      ],
      subscribe: inbox('tep-admin'),
    },
  };
}

/** The environment variable the NATS server reads a user's password from. */
export const natsPasswordVariable = (user: NatsUser): string =>
  `TEP_NATS_PASSWORD_${user.toUpperCase().replace(/-/g, '_')}`;

/**
 * The `authorization` block of nats-server's configuration for the
 * topology: one user per service with its allow-lists; passwords come from
 * the server's environment (natsPasswordVariable), i.e. from secrets.
 */
export function renderNatsAuthorization(topology: Topology): string {
  const permissions = natsPermissions(topology);
  const list = (subjects: string[]) =>
    `[\n${subjects.map((s) => `            "${s}"`).join('\n')}\n          ]`;
  const users = NATS_USERS.map(
    (user) => `    {
      user: "${user}"
      password: $${natsPasswordVariable(user)}
      permissions: {
        publish: {
          allow: ${list(permissions[user].publish)}
        }
        subscribe: {
          allow: ${list(permissions[user].subscribe)}
        }
      }
    }`,
  );
  return `# Generated by \`npm run nats:auth\` from @tep/pipeline natsPermissions: do not edit.
# One user per service, each allowed only its own subjects, JetStream API
# calls and KV buckets (docs/security.md "NATS"). Passwords are read from
# the server's environment (TEP_NATS_PASSWORD_*, from the tep-nats-users secret).
authorization {
  users: [
${users.join('\n')}
  ]
}
`;
}
