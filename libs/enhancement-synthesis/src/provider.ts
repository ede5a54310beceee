import type { Enhancement, EnhancementPreferences, TicketContext, Ticket } from '@tep/contracts';

export interface SynthesisInput {
  ticket: Ticket;
  context: TicketContext;
  preferences: EnhancementPreferences;
  /** Called while waiting on slow work, so the caller can extend its JetStream ack deadline. */
  onProgress?: () => void;
}

export interface EnhancementProvider {
  readonly name: string;
  synthesize(input: SynthesisInput, signal?: AbortSignal): Promise<Enhancement>;
}
