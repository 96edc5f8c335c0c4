import type { NextFunction, Request, Response } from 'express';
import { InvalidInputError } from '@ddnn/contracts';

/** Structural limits on every request's JSON body, query string and path (README "Configuration"). */
export interface InputLimits {
  /** Deepest nesting of objects and arrays in a JSON body (class-transformer recurses per level). */
  maxDepth: number;
  /** Longest string value anywhere in a body or query string, in UTF-16 code units. */
  maxStringLength: number;
  /** Most elements in one array. */
  maxArrayLength: number;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why `text` cannot be stored or logged as text (a NUL byte or a lone surrogate), or null. */
export function badText(text: string): string | null {
  if (text.includes('\u0000')) return 'holds a NUL byte';
  if (LONE_SURROGATE.test(text)) return 'holds a lone UTF-16 surrogate';
  return null;
}

/**
 * The nesting depth of a JSON text, counted on the raw bytes before parsing, so a body nested thousands deep
 * is refused before anything recurses over it. Brackets inside strings do not count.
 */
export function jsonDepth(raw: Buffer, stopAbove: number): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) {
        max = depth;
        if (max > stopAbove) return max;
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/** body-parser `verify` hook: refuses a JSON body nested deeper than the limit with a 400. */
export function verifyJsonDepth(maxDepth: number) {
  return (_req: unknown, _res: unknown, raw: Buffer): void => {
    if (jsonDepth(raw, maxDepth) > maxDepth) {
      throw Object.assign(new InvalidInputError(`body: JSON nested deeper than ${maxDepth} levels`), { status: 400, expose: true });
    }
  };
}

/** Walks a parsed value and throws naming the first field that breaks a limit or cannot be text. */
export function checkValue(value: unknown, field: string, limits: InputLimits, depth = 0): void {
  if (typeof value === 'string') {
    const bad = badText(value);
    if (bad) throw new InvalidInputError(`${field} ${bad}`);
    if (value.length > limits.maxStringLength) throw new InvalidInputError(`${field} is longer than ${limits.maxStringLength} characters`);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (depth >= limits.maxDepth) throw new InvalidInputError(`${field} is nested deeper than ${limits.maxDepth} levels`);
  if (Array.isArray(value)) {
    if (value.length > limits.maxArrayLength) throw new InvalidInputError(`${field} has more than ${limits.maxArrayLength} elements`);
    value.forEach((v, i) => checkValue(v, `${field}[${i}]`, limits, depth + 1));
    return;
  }
  for (const [k, v] of Object.entries(value)) {
    const bad = badText(k);
    if (bad) throw new InvalidInputError(`${field}: a property name ${bad}`);
    checkValue(v, field ? `${field}.${k}` : k, limits, depth + 1);
  }
}

/**
 * Express middleware, after the body parsers: the decoded path, the query string and the body hold only
 * storable text within the limits. Errors go to the exception filter (a 400 naming the field).
 */
export function inputLimitsMiddleware(limits: InputLimits) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    try {
      let decoded: string;
      try {
        decoded = decodeURIComponent(req.path);
      } catch {
        throw new InvalidInputError('path: malformed percent-encoding');
      }
      const bad = badText(decoded);
      if (bad) throw new InvalidInputError(`path ${bad}`);
      for (const [k, v] of Object.entries(req.query ?? {})) {
        const badKey = badText(k);
        if (badKey) throw new InvalidInputError(`query: a parameter name ${badKey}`);
        checkValue(v, `query.${k}`, limits, 1);
      }
      if (req.body !== undefined) checkValue(req.body, 'body', limits);
      next();
    } catch (e) {
      next(e);
    }
  };
}
