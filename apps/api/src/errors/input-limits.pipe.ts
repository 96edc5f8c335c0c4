import { type ArgumentMetadata, Injectable, type PipeTransform } from '@nestjs/common';
import { checkValue, type InputLimits } from './input-limits';

/**
 * Runs the input limits on every handler argument (route parameters and multipart fields included, which
 * the Express middleware does not see), before validation and class-transformer.
 */
@Injectable()
export class InputLimitsPipe implements PipeTransform {
  constructor(private readonly limits: InputLimits) {}

  transform(value: unknown, meta: ArgumentMetadata): unknown {
    if (meta.type === 'custom') return value;
    const field = meta.data ? `${meta.type === 'param' ? 'path' : meta.type}.${meta.data}` : meta.type;
    checkValue(value, field, this.limits);
    return value;
  }
}
