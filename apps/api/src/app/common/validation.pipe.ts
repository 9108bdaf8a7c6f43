import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { DrydockError, ErrorCode } from '@drydock/core';

function describe(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const path = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) =>
      message.startsWith(error.property) ? `${parent ? parent + '.' : ''}${message}` : `${path}: ${message}`,
    );
    return [...own, ...describe(error.children ?? [], path)];
  });
}

/** Unknown fields are refused, not dropped: that is also how fenced options (privileged, binds) get a 400. */
export const validationPipe = new ValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  exceptionFactory: (errors) => new DrydockError(ErrorCode.VALIDATION_FAILED, describe(errors).join('; ') || 'invalid input'),
});
