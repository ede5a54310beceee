import type {
  Enhancement,
  EnhancementPreferences,
  NoteLanguage,
  TicketContext,
  Ticket,
} from '@tep/contracts';
import type { RedactionKind } from '@tep/redaction';

export interface SynthesisInput {
  ticket: Ticket;
  context: TicketContext;
  preferences: EnhancementPreferences;
  /** The language to write in (noteLanguageOf); the enhancement records it. */
  language: NoteLanguage;
  /** Called while waiting on slow work, so the caller can extend its JetStream ack deadline. */
  onProgress?: () => void;
  /**
   * Called once per synthesis that sends text to a model, after redacting
   * it, with the placeholders used by kind (for the redaction metric).
   */
  onRedactions?: (counts: Readonly<Record<RedactionKind, number>>) => void;
}

export interface EnhancementProvider {
  readonly name: string;
  synthesize(input: SynthesisInput, signal?: AbortSignal): Promise<Enhancement>;
}
