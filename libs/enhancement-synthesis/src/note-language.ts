import type { ContextSource, NoteLanguage } from '@tep/contracts';

/**
 * Every fixed word of a note, per language: the poster's labels and the
 * offline synthesizer's sentences. `Record<NoteLanguage, NoteWording>` makes
 * a missing language or a missing entry a compile error.
 *
 * Labels carry their own punctuation because French sets a no-break space
 * before `:` and `;`. The job marker (`Enhancement ref: <job id>`) is not
 * here on purpose: redelivery finds the note by it, so it never changes.
 */
export interface NoteLabels {
  /** Heading of the enhancement note (followed by the timestamp). */
  title: string;
  /** Heading of the note posted instead when confidence is below the tenant's minimum. */
  lowConfidenceTitle: string;
  /** Heading of the follow-up note after a ticket update (`on_update: new_note`). */
  followUpTitle: string;
  basisModel: string;
  /** Offline because no model is configured. */
  basisOffline: string;
  /** Offline because the model failed; `reason` is left out of a requester's note. */
  basisFallback: (reason: string | null) => string;
  likelyCause: string;
  suggestedActions: string;
  relatedTickets: string;
  confidence: string;
  noneFound: string;
  /** Precedes related tickets below the retrieval's confident threshold. */
  possiblyRelated: string;
  possibleOutage: string;
  /** `count` similar open tickets within the last `windowMinutes`. */
  outageTickets: (count: number, windowMinutes: number) => string;
  /** Why the low-confidence note has no suggestion. */
  nothingConfident: string;
  searched: (sources: string) => string;
  unavailable: (sources: string) => string;
  sources: Record<ContextSource, string>;
  /** Stands in for a hostname or address in a note the requester sees. */
  affectedSystem: string;
  /** The feedback links' question and the two answers (the links open the feedback page). */
  feedbackPrompt: string;
  helpful: string;
  notHelpful: string;
}

/** The offline synthesizer's sentences (English entries are the exported constants). */
export interface OfflineSentences {
  noContextCause: string;
  /** Weak matches only: said plainly, never "likely the same issue". */
  nothingSimilarCause: string;
  noContextActions: readonly [string, string];
  sameIssue: (ticketId: string, subject: string, resolution: string) => string;
  /** For a requester: no other ticket's id, subject or resolution. */
  sameIssueUnnamed: string;
  kbMatches: (title: string, excerpt: string) => string;
  systemsReporting: (problems: readonly string[]) => string;
  /** `system` null: the affected system, in the sentence's grammatical form. */
  systemProblem: (system: string | null, status: string) => string;
  closestTickets: (ticketIds: string) => string;
  sourcesUnavailable: (sources: string) => string;
  applyResolution: (ticketId: string, resolution: string) => string;
  /** For a requester: which ticket is not said. */
  applyResolutionUnnamed: string;
  tryWeakFix: (ticketId: string, subject: string, resolution: string) => string;
  followKb: (title: string, url: string | null) => string;
  /** `target` null: the affected system. */
  checkSystem: (target: string | null, status: string) => string;
  /** `host` null: the affected system. */
  serviceOn: (service: string, host: string | null) => string;
}

export interface NoteWording {
  note: NoteLabels;
  offline: OfflineSentences;
}

/** 60 minutes read as "the last hour", whole hours as hours, anything else as minutes. */
function lastWindow(
  minutes: number,
  say: { hour: string; hours: (n: number) => string; minutes: (n: number) => string },
): string {
  if (minutes === 60) return say.hour;
  return minutes % 60 === 0 ? say.hours(minutes / 60) : say.minutes(minutes);
}

const withUrl = (url: string | null) => (url ? ` (${url})` : '');

const en: NoteWording = {
  note: {
    title: '🤖 AI-Generated Enhancement',
    lowConfidenceTitle: '🤖 No confident suggestion',
    followUpTitle: '🤖 Update to the AI enhancement',
    basisModel: 'Based on ticket history and knowledge base:',
    basisOffline:
      'Based on retrieved context only (ticket history, knowledge base and inventory; no AI model configured):',
    basisFallback: (reason) =>
      `Based on retrieved context only, without the AI model${reason ? ` (${reason})` : ''}:`,
    likelyCause: 'Likely Cause:',
    suggestedActions: 'Suggested Actions:',
    relatedTickets: 'Related Tickets:',
    confidence: 'Confidence:',
    noneFound: 'none found',
    possiblyRelated: 'possibly related:',
    possibleOutage: 'Possible outage:',
    outageTickets: (count, minutes) =>
      `${count === 1 ? '1 similar open ticket' : `${count} similar open tickets`} ${lastWindow(
        minutes,
        {
          hour: 'in the last hour',
          hours: (n) => `in the last ${n} hours`,
          minutes: (n) => `in the last ${n} minutes`,
        },
      )}`,
    nothingConfident:
      'Nothing similar enough was found, or the evidence was too weak to suggest a likely cause.',
    searched: (sources) => `Searched: ${sources}.`,
    unavailable: (sources) => `Unavailable: ${sources}.`,
    sources: {
      ticket_history: 'ticket history',
      kb: 'knowledge base',
      monitoring: 'system inventory',
    },
    affectedSystem: 'the affected system',
    feedbackPrompt: 'Was this note helpful?',
    helpful: 'Helpful',
    notHelpful: 'Not helpful',
  },
  offline: {
    noContextCause:
      'No similar resolved tickets or KB articles were found, and no affected systems are reporting problems.',
    nothingSimilarCause: "Nothing clearly similar was found in this client's resolved tickets.",
    noContextActions: [
      'Ask the requester for the exact error message, when the problem started and who is affected.',
      'Check recent changes and monitoring alerts for the systems the ticket mentions.',
    ],
    sameIssue: (id, subject, resolution) =>
      `Likely the same issue as ticket ${id} ("${subject}"), which was resolved by: ${resolution}`,
    sameIssueUnnamed: 'Likely the same issue as a previously resolved ticket from this client.',
    kbMatches: (title, excerpt) =>
      `Knowledge base article "${title}" matches this ticket: ${excerpt}`,
    systemsReporting: (problems) =>
      `Affected systems are reporting problems: ${problems.join('; ')}.`,
    systemProblem: (system, status) => `${system ?? 'the affected system'} is ${status}`,
    closestTickets: (ids) =>
      `The closest, possibly related, tickets are ${ids}; check whether they match before applying their fixes.`,
    sourcesUnavailable: (sources) => `Some context sources were unavailable: ${sources}.`,
    applyResolution: (id, resolution) => `Apply the resolution of ticket ${id}: ${resolution}`,
    applyResolutionUnnamed:
      "Apply the resolution of the most similar resolved ticket in this client's history.",
    tryWeakFix: (id, subject, resolution) =>
      `If ticket ${id} ("${subject}") matches, try its fix: ${resolution}`,
    followKb: (title, url) => `Follow KB article "${title}"${withUrl(url)}`,
    checkSystem: (target, status) => `Check ${target ?? 'the affected system'}: status ${status}`,
    serviceOn: (service, host) => `${service} on ${host ?? 'the affected system'}`,
  },
};

const de: NoteWording = {
  note: {
    title: '🤖 KI-generierte Ergänzung',
    lowConfidenceTitle: '🤖 Kein verlässlicher Vorschlag',
    followUpTitle: '🤖 Aktualisierung der KI-Ergänzung',
    basisModel: 'Auf Grundlage der Ticket-Historie und der Wissensdatenbank:',
    basisOffline:
      'Nur auf Grundlage des abgerufenen Kontexts (Ticket-Historie, Wissensdatenbank und Inventar; kein KI-Modell konfiguriert):',
    basisFallback: (reason) =>
      `Nur auf Grundlage des abgerufenen Kontexts, ohne das KI-Modell${reason ? ` (${reason})` : ''}:`,
    likelyCause: 'Wahrscheinliche Ursache:',
    suggestedActions: 'Empfohlene Maßnahmen:',
    relatedTickets: 'Verwandte Tickets:',
    confidence: 'Konfidenz:',
    noneFound: 'keine gefunden',
    possiblyRelated: 'möglicherweise verwandt:',
    possibleOutage: 'Mögliche Störung:',
    outageTickets: (count, minutes) =>
      `${count === 1 ? '1 ähnliches offenes Ticket' : `${count} ähnliche offene Tickets`} ${lastWindow(
        minutes,
        {
          hour: 'in der letzten Stunde',
          hours: (n) => `in den letzten ${n} Stunden`,
          minutes: (n) => `in den letzten ${n} Minuten`,
        },
      )}`,
    nothingConfident:
      'Es wurde nichts ausreichend Ähnliches gefunden, oder die Hinweise reichen nicht aus, um eine wahrscheinliche Ursache zu nennen.',
    searched: (sources) => `Durchsucht: ${sources}.`,
    unavailable: (sources) => `Nicht verfügbar: ${sources}.`,
    sources: {
      ticket_history: 'Ticket-Historie',
      kb: 'Wissensdatenbank',
      monitoring: 'Systeminventar',
    },
    affectedSystem: 'das betroffene System',
    feedbackPrompt: 'War diese Notiz hilfreich?',
    helpful: 'Hilfreich',
    notHelpful: 'Nicht hilfreich',
  },
  offline: {
    noContextCause:
      'Es wurden keine ähnlichen gelösten Tickets oder Wissensdatenbank-Artikel gefunden, und keine betroffenen Systeme melden Probleme.',
    nothingSimilarCause:
      'In den gelösten Tickets dieses Kunden wurde nichts eindeutig Ähnliches gefunden.',
    noContextActions: [
      'Beim Anforderer die genaue Fehlermeldung erfragen, seit wann das Problem besteht und wer betroffen ist.',
      'Kürzliche Änderungen und Monitoring-Alarme der im Ticket genannten Systeme prüfen.',
    ],
    sameIssue: (id, subject, resolution) =>
      `Wahrscheinlich dasselbe Problem wie Ticket ${id} („${subject}“), das so gelöst wurde: ${resolution}`,
    sameIssueUnnamed:
      'Wahrscheinlich dasselbe Problem wie bei einem bereits gelösten Ticket dieses Kunden.',
    kbMatches: (title, excerpt) =>
      `Der Wissensdatenbank-Artikel „${title}“ passt zu diesem Ticket: ${excerpt}`,
    systemsReporting: (problems) => `Betroffene Systeme melden Probleme: ${problems.join('; ')}.`,
    systemProblem: (system, status) => `${system ?? 'das betroffene System'} mit Status ${status}`,
    closestTickets: (ids) =>
      `Die ähnlichsten, möglicherweise verwandten Tickets sind ${ids}; vor dem Übernehmen ihrer Lösungen prüfen, ob sie passen.`,
    sourcesUnavailable: (sources) => `Einige Kontextquellen waren nicht verfügbar: ${sources}.`,
    applyResolution: (id, resolution) => `Lösung von Ticket ${id} anwenden: ${resolution}`,
    applyResolutionUnnamed:
      'Die Lösung des ähnlichsten gelösten Tickets aus der Historie dieses Kunden anwenden.',
    tryWeakFix: (id, subject, resolution) =>
      `Falls Ticket ${id} („${subject}“) passt, dessen Lösung versuchen: ${resolution}`,
    followKb: (title, url) => `Anleitung im KB-Artikel „${title}“ befolgen${withUrl(url)}`,
    checkSystem: (target, status) =>
      `${target ?? 'Das betroffene System'} prüfen: Status ${status}`,
    // "auf" takes the dative here: "auf dem betroffenen System".
    serviceOn: (service, host) => `${service} auf ${host ?? 'dem betroffenen System'}`,
  },
};

// French typography: a no-break space before ":" and ";", guillemets around titles.
const fr: NoteWording = {
  note: {
    title: '🤖 Enrichissement généré par l’IA',
    lowConfidenceTitle: '🤖 Aucune suggestion fiable',
    followUpTitle: '🤖 Mise à jour de l’enrichissement IA',
    basisModel: 'D’après l’historique des tickets et la base de connaissances\u00a0:',
    basisOffline:
      'D’après le contexte récupéré uniquement (historique des tickets, base de connaissances et inventaire\u00a0; aucun modèle d’IA configuré)\u00a0:',
    basisFallback: (reason) =>
      `D’après le contexte récupéré uniquement, sans le modèle d’IA${reason ? ` (${reason})` : ''}\u00a0:`,
    likelyCause: 'Cause probable\u00a0:',
    suggestedActions: 'Actions suggérées\u00a0:',
    relatedTickets: 'Tickets associés\u00a0:',
    confidence: 'Confiance\u00a0:',
    noneFound: 'aucun trouvé',
    possiblyRelated: 'peut-être liés\u00a0:',
    possibleOutage: 'Panne possible\u00a0:',
    outageTickets: (count, minutes) =>
      `${count === 1 ? '1 ticket ouvert similaire' : `${count} tickets ouverts similaires`} ${lastWindow(
        minutes,
        {
          hour: 'au cours de la dernière heure',
          hours: (n) => `au cours des ${n} dernières heures`,
          minutes: (n) => `au cours des ${n} dernières minutes`,
        },
      )}`,
    nothingConfident:
      'Rien de suffisamment similaire n’a été trouvé, ou les éléments sont trop faibles pour proposer une cause probable.',
    searched: (sources) => `Sources consultées\u00a0: ${sources}.`,
    unavailable: (sources) => `Indisponibles\u00a0: ${sources}.`,
    sources: {
      ticket_history: 'historique des tickets',
      kb: 'base de connaissances',
      monitoring: 'inventaire des systèmes',
    },
    affectedSystem: 'le système concerné',
    feedbackPrompt: 'Cette note vous a-t-elle aidé\u00a0?',
    helpful: 'Utile',
    notHelpful: 'Pas utile',
  },
  offline: {
    noContextCause:
      'Aucun ticket résolu similaire ni article de la base de connaissances n’a été trouvé, et aucun système concerné ne signale de problème.',
    nothingSimilarCause:
      'Rien de clairement similaire n’a été trouvé dans les tickets résolus de ce client.',
    noContextActions: [
      'Demander au demandeur le message d’erreur exact, depuis quand le problème se produit et qui est concerné.',
      'Vérifier les changements récents et les alertes de supervision des systèmes mentionnés dans le ticket.',
    ],
    sameIssue: (id, subject, resolution) =>
      `Probablement le même problème que le ticket ${id} («\u00a0${subject}\u00a0»), résolu ainsi\u00a0: ${resolution}`,
    sameIssueUnnamed: 'Probablement le même problème qu’un ticket déjà résolu de ce client.',
    kbMatches: (title, excerpt) =>
      `L’article de la base de connaissances «\u00a0${title}\u00a0» correspond à ce ticket\u00a0: ${excerpt}`,
    systemsReporting: (problems) =>
      `Des systèmes concernés signalent des problèmes\u00a0: ${problems.join('\u00a0; ')}.`,
    systemProblem: (system, status) => `${system ?? 'le système concerné'} en état ${status}`,
    closestTickets: (ids) =>
      `Les tickets les plus proches, peut-être liés, sont ${ids}\u00a0; vérifier qu’ils correspondent avant d’appliquer leurs solutions.`,
    sourcesUnavailable: (sources) =>
      `Certaines sources de contexte étaient indisponibles\u00a0: ${sources}.`,
    applyResolution: (id, resolution) =>
      `Appliquer la solution du ticket ${id}\u00a0: ${resolution}`,
    applyResolutionUnnamed:
      'Appliquer la solution du ticket résolu le plus similaire de l’historique de ce client.',
    tryWeakFix: (id, subject, resolution) =>
      `Si le ticket ${id} («\u00a0${subject}\u00a0») correspond, essayer sa solution\u00a0: ${resolution}`,
    followKb: (title, url) =>
      `Suivre l’article de la base de connaissances «\u00a0${title}\u00a0»${withUrl(url)}`,
    checkSystem: (target, status) =>
      `Vérifier ${target ?? 'le système concerné'}\u00a0: état ${status}`,
    serviceOn: (service, host) => `${service} sur ${host ?? 'le système concerné'}`,
  },
};

const es: NoteWording = {
  note: {
    title: '🤖 Enriquecimiento generado por IA',
    lowConfidenceTitle: '🤖 Ninguna sugerencia fiable',
    followUpTitle: '🤖 Actualización del enriquecimiento por IA',
    basisModel: 'Basado en el historial de tickets y la base de conocimientos:',
    basisOffline:
      'Basado solo en el contexto recuperado (historial de tickets, base de conocimientos e inventario; sin modelo de IA configurado):',
    basisFallback: (reason) =>
      `Basado solo en el contexto recuperado, sin el modelo de IA${reason ? ` (${reason})` : ''}:`,
    likelyCause: 'Causa probable:',
    suggestedActions: 'Acciones sugeridas:',
    relatedTickets: 'Tickets relacionados:',
    confidence: 'Confianza:',
    noneFound: 'ninguno encontrado',
    possiblyRelated: 'posiblemente relacionados:',
    possibleOutage: 'Posible caída del servicio:',
    outageTickets: (count, minutes) =>
      `${count === 1 ? '1 ticket abierto similar' : `${count} tickets abiertos similares`} ${lastWindow(
        minutes,
        {
          hour: 'en la última hora',
          hours: (n) => `en las últimas ${n} horas`,
          minutes: (n) => `en los últimos ${n} minutos`,
        },
      )}`,
    nothingConfident:
      'No se encontró nada lo bastante similar, o los indicios son demasiado débiles para proponer una causa probable.',
    searched: (sources) => `Fuentes consultadas: ${sources}.`,
    unavailable: (sources) => `No disponibles: ${sources}.`,
    sources: {
      ticket_history: 'historial de tickets',
      kb: 'base de conocimientos',
      monitoring: 'inventario de sistemas',
    },
    affectedSystem: 'el sistema afectado',
    feedbackPrompt: '¿Le resultó útil esta nota?',
    helpful: 'Útil',
    notHelpful: 'No útil',
  },
  offline: {
    noContextCause:
      'No se encontraron tickets resueltos similares ni artículos de la base de conocimientos, y ningún sistema afectado informa de problemas.',
    nothingSimilarCause:
      'No se encontró nada claramente similar en los tickets resueltos de este cliente.',
    noContextActions: [
      'Pedir al solicitante el mensaje de error exacto, desde cuándo ocurre el problema y a quién afecta.',
      'Revisar los cambios recientes y las alertas de monitorización de los sistemas que menciona el ticket.',
    ],
    sameIssue: (id, subject, resolution) =>
      `Probablemente el mismo problema que el ticket ${id} («${subject}»), que se resolvió así: ${resolution}`,
    sameIssueUnnamed: 'Probablemente el mismo problema que un ticket ya resuelto de este cliente.',
    kbMatches: (title, excerpt) =>
      `El artículo de la base de conocimientos «${title}» coincide con este ticket: ${excerpt}`,
    systemsReporting: (problems) =>
      `Los sistemas afectados informan de problemas: ${problems.join('; ')}.`,
    systemProblem: (system, status) => `${system ?? 'el sistema afectado'} con estado ${status}`,
    closestTickets: (ids) =>
      `Los tickets más cercanos, posiblemente relacionados, son ${ids}; comprobar si coinciden antes de aplicar sus soluciones.`,
    sourcesUnavailable: (sources) =>
      `Algunas fuentes de contexto no estaban disponibles: ${sources}.`,
    applyResolution: (id, resolution) => `Aplicar la solución del ticket ${id}: ${resolution}`,
    applyResolutionUnnamed:
      'Aplicar la solución del ticket resuelto más parecido del historial de este cliente.',
    tryWeakFix: (id, subject, resolution) =>
      `Si el ticket ${id} («${subject}») coincide, probar su solución: ${resolution}`,
    followKb: (title, url) =>
      `Seguir el artículo de la base de conocimientos «${title}»${withUrl(url)}`,
    checkSystem: (target, status) =>
      `Comprobar ${target ?? 'el sistema afectado'}: estado ${status}`,
    serviceOn: (service, host) => `${service} en ${host ?? 'el sistema afectado'}`,
  },
};

const nl: NoteWording = {
  note: {
    title: '🤖 AI-gegenereerde aanvulling',
    lowConfidenceTitle: '🤖 Geen betrouwbare suggestie',
    followUpTitle: '🤖 Update van de AI-aanvulling',
    basisModel: 'Op basis van tickethistorie en kennisbank:',
    basisOffline:
      'Alleen op basis van opgehaalde context (tickethistorie, kennisbank en inventaris; geen AI-model geconfigureerd):',
    basisFallback: (reason) =>
      `Alleen op basis van opgehaalde context, zonder het AI-model${reason ? ` (${reason})` : ''}:`,
    likelyCause: 'Waarschijnlijke oorzaak:',
    suggestedActions: 'Voorgestelde acties:',
    relatedTickets: 'Gerelateerde tickets:',
    confidence: 'Betrouwbaarheid:',
    noneFound: 'geen gevonden',
    possiblyRelated: 'mogelijk gerelateerd:',
    possibleOutage: 'Mogelijke storing:',
    outageTickets: (count, minutes) =>
      `${count === 1 ? '1 vergelijkbaar open ticket' : `${count} vergelijkbare open tickets`} ${lastWindow(
        minutes,
        {
          hour: 'in het afgelopen uur',
          hours: (n) => `in de afgelopen ${n} uur`,
          minutes: (n) => `in de afgelopen ${n} minuten`,
        },
      )}`,
    nothingConfident:
      'Er is niets gevonden dat voldoende overeenkomt, of het bewijs is te zwak om een waarschijnlijke oorzaak te noemen.',
    searched: (sources) => `Doorzocht: ${sources}.`,
    unavailable: (sources) => `Niet beschikbaar: ${sources}.`,
    sources: {
      ticket_history: 'tickethistorie',
      kb: 'kennisbank',
      monitoring: 'systeeminventaris',
    },
    affectedSystem: 'het betreffende systeem',
    feedbackPrompt: 'Was deze notitie nuttig?',
    helpful: 'Nuttig',
    notHelpful: 'Niet nuttig',
  },
  offline: {
    noContextCause:
      'Er zijn geen vergelijkbare opgeloste tickets of kennisbankartikelen gevonden, en geen betrokken systemen melden problemen.',
    nothingSimilarCause:
      'Er is niets duidelijk vergelijkbaars gevonden in de opgeloste tickets van deze klant.',
    noContextActions: [
      'De aanvrager vragen naar de exacte foutmelding, sinds wanneer het probleem optreedt en wie er last van heeft.',
      'Recente wijzigingen en monitoringmeldingen controleren voor de systemen die in het ticket worden genoemd.',
    ],
    sameIssue: (id, subject, resolution) =>
      `Waarschijnlijk hetzelfde probleem als ticket ${id} ("${subject}"), dat is opgelost met: ${resolution}`,
    sameIssueUnnamed:
      'Waarschijnlijk hetzelfde probleem als een eerder opgelost ticket van deze klant.',
    kbMatches: (title, excerpt) => `Kennisbankartikel "${title}" past bij dit ticket: ${excerpt}`,
    systemsReporting: (problems) => `Betrokken systemen melden problemen: ${problems.join('; ')}.`,
    systemProblem: (system, status) =>
      `${system ?? 'het betreffende systeem'} met status ${status}`,
    closestTickets: (ids) =>
      `De meest vergelijkbare, mogelijk gerelateerde tickets zijn ${ids}; controleer of ze overeenkomen voordat hun oplossingen worden toegepast.`,
    sourcesUnavailable: (sources) => `Sommige contextbronnen waren niet beschikbaar: ${sources}.`,
    applyResolution: (id, resolution) => `De oplossing van ticket ${id} toepassen: ${resolution}`,
    applyResolutionUnnamed:
      'De oplossing van het meest vergelijkbare opgeloste ticket uit de historie van deze klant toepassen.',
    tryWeakFix: (id, subject, resolution) =>
      `Als ticket ${id} ("${subject}") overeenkomt, de oplossing ervan proberen: ${resolution}`,
    followKb: (title, url) => `Kennisbankartikel "${title}" volgen${withUrl(url)}`,
    checkSystem: (target, status) =>
      `${target ?? 'Het betreffende systeem'} controleren: status ${status}`,
    serviceOn: (service, host) => `${service} op ${host ?? 'het betreffende systeem'}`,
  },
};

export const NOTE_WORDING: Readonly<Record<NoteLanguage, NoteWording>> = { en, de, fr, es, nl };

/** British English: lists without the serial comma, like the note's own sentences. */
const LOCALE: Readonly<Record<NoteLanguage, string>> = {
  en: 'en-GB',
  de: 'de',
  fr: 'fr',
  es: 'es',
  nl: 'nl',
};

/**
 * `make`'s result for a language, built on first use: constructing an Intl
 * formatter loads locale data and cost more than the rest of the note's
 * rendering (bench profile).
 */
function perLanguage<T>(make: (locale: string) => T): (language: NoteLanguage) => T {
  const made = new Map<NoteLanguage, T>();
  return (language) => {
    let value = made.get(language);
    if (value === undefined) {
      value = make(LOCALE[language]);
      made.set(language, value);
    }
    return value;
  };
}

const listFormat = perLanguage(
  (locale) => new Intl.ListFormat(locale, { style: 'long', type: 'conjunction' }),
);
const percentFormat = perLanguage(
  (locale) => new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 0 }),
);

/** "a, b and c" in the note's language. */
export function joinList(language: NoteLanguage, items: readonly string[]): string {
  return listFormat(language).format(items);
}

/** A 0–1 confidence as the language writes a percentage ("85%", "85 %"). */
export function formatPercent(language: NoteLanguage, fraction: number): string {
  return percentFormat(language).format(fraction);
}
