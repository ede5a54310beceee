import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { RegistryError } from '../tenant-admin';

/** RegistryError → HTTP, in one exhaustive switch. */
@Catch(RegistryError)
export class RegistryExceptionFilter implements ExceptionFilter<RegistryError> {
  catch(error: RegistryError, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    switch (error.code) {
      case 'not_found':
        res.status(404).json({ status: 'rejected', error: 'not_found', message: error.message });
        return;
      case 'invalid':
        res.status(422).json({
          status: 'rejected',
          error: 'validation_failed',
          message: error.message,
          fields: error.fields,
        });
        return;
      case 'unauthenticated':
        res.status(401).json({ status: 'rejected', error: 'unauthorized', message: error.message });
        return;
    }
  }
}
