import { UnprocessableEntityException } from '@nestjs/common';
import type { z } from 'zod';

/** The fields a zod failure names, in the shape every 422 uses. */
export function fieldProblems(error: z.ZodError): { field: string; message: string }[] {
  return error.issues.map((issue) => ({
    field:
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((k) => [...issue.path, k].join('.')).join(', ')
        : issue.path.join('.') || '(body)',
    message: issue.message,
  }));
}

/** Parses an HTTP body with its schema; a failure is a 422 naming the fields. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const result = schema.safeParse(body);
  if (!result.success) {
    throw new UnprocessableEntityException({
      status: 'rejected',
      error: 'validation_failed',
      message: 'Request body is invalid',
      fields: fieldProblems(result.error),
    });
  }
  return result.data;
}
