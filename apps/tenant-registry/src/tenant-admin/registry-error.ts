/** What an admin operation can fail with; each transport maps it in one place. */
export type RegistryErrorCode = 'not_found' | 'invalid' | 'unauthenticated';

export interface FieldProblem {
  field: string;
  message: string;
}

export class RegistryError extends Error {
  constructor(
    readonly code: RegistryErrorCode,
    message: string,
    readonly fields: FieldProblem[] = [],
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}
