/** Injection tokens for what has no class of its own. */
export const NATS_CONNECTION = Symbol('NATS_CONNECTION');
export const JETSTREAM = Symbol('JETSTREAM');
export const TOPOLOGY = Symbol('TOPOLOGY');
export const SERVICE_OPTIONS = Symbol('SERVICE_OPTIONS');
