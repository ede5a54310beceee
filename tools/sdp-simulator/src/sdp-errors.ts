/** One entry of SDP's `response_status.messages`. */
export interface SdpMessage {
  status_code: number;
  message: string;
  field?: string;
  fields?: string[];
}

/**
 * An SDP failure with the doc's envelope: top-level code 4000 ("failed"),
 * the specific code in `messages`, and the HTTP status from the error table.
 */
export class SdpFailure extends Error {
  constructor(
    readonly httpStatus: number,
    readonly messages: SdpMessage[],
    readonly headers: Record<string, string> = {},
  ) {
    super(messages.map((m) => `${m.status_code} ${m.message}`).join('; '));
  }

  envelope() {
    return {
      response_status: {
        status_code: 4000,
        status: 'failed',
        messages: this.messages.map((m) => ({ ...m, type: 'failed' })),
      },
    };
  }
}

export const sdpErrors = {
  invalidKey: (message = 'Invalid API key received') =>
    new SdpFailure(401, [{ status_code: 4022, message }]),
  notFound: (what: string) =>
    new SdpFailure(404, [{ status_code: 4007, message: `${what} not found` }]),
  invalidUrl: () => new SdpFailure(404, [{ status_code: 4007, message: 'Invalid URL' }]),
  mandatoryMissing: (...fields: string[]) =>
    new SdpFailure(400, [
      { status_code: 4012, message: 'Value for mandatory field is missing', fields },
    ]),
  doesNotExist: (field: string, value: string) =>
    new SdpFailure(400, [
      { status_code: 4001, message: `"${value}" does not exist or cannot be set`, field },
    ]),
  notUnique: (field: string) =>
    new SdpFailure(400, [{ status_code: 4008, message: 'Value is not unique', field }]),
  readOnly: (field: string) =>
    new SdpFailure(400, [{ status_code: 4014, message: 'Field is read-only', field }]),
  typeMismatch: (field: string) =>
    new SdpFailure(400, [{ status_code: 4021, message: 'Data type mismatch', field }]),
  /** SDP's reply for a key it does not know in input_data, e.g. a wrong note wrapper. */
  extraKey: (field: string) =>
    new SdpFailure(400, [{ status_code: 4000, message: 'EXTRA_KEY_FOUND_IN_JSON', field }]),
  invalidInput: (message: string) => new SdpFailure(400, [{ status_code: 4000, message }]),
  rateLimited: (retryAfterSeconds?: number) =>
    new SdpFailure(
      429,
      [{ status_code: 4015, message: 'API rate limit reached' }],
      retryAfterSeconds === undefined ? {} : { 'Retry-After': String(retryAfterSeconds) },
    ),
  internal: () => new SdpFailure(500, [{ status_code: 4004, message: 'Internal error' }]),
};

export const SUCCESS = { status_code: 2000, status: 'success' } as const;
