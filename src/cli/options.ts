/**
 * @module Option values parsed and range-checked by commander, before a command does
 * anything: a value that does not parse throws commander's InvalidArgumentError, so
 * `mraa failover --timeout abc` stops with exit 2 and a message naming the option,
 * and nothing is fenced. Defaults are given already parsed (commander does not pass
 * them through the parser).
 */
import { InvalidArgumentError, Option } from 'commander';

const DECIMAL = /^\d+(\.\d+)?$/;
const INTEGER = /^\d+$/;
const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** A number of seconds, as milliseconds: more than 0 (or 0 itself with `zero`) and at most `max`. */
export function seconds(max: number, opts: { zero?: boolean } = {}): (value: string) => number {
  const range = opts.zero ? `from 0 to ${max}` : `more than 0 and at most ${max}`;
  return (value) => {
    const n = Number(value);
    if (!DECIMAL.test(value) || !Number.isFinite(n) || n > max || (n === 0 && !opts.zero)) {
      throw new InvalidArgumentError(`Expected a number of seconds, ${range}.`);
    }
    return Math.round(n * 1000);
  };
}

/** A whole number from `min` to `max`; `what` names it in the message ("a port number"). */
export function integer(min: number, max: number, what = 'a whole number'): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!INTEGER.test(value) || n < min || n > max) {
      throw new InvalidArgumentError(`Expected ${what} from ${min} to ${max}.`);
    }
    return n;
  };
}

/** A region, witness or voter name as the configuration spells them. */
export function name(value: string): string {
  if (!NAME.test(value)) {
    throw new InvalidArgumentError(
      'Expected a name of lower-case letters, digits and dashes (as in the configuration).',
    );
  }
  return value;
}

/** Free text for the record, as long as the state API takes it. */
export function reason(value: string): string {
  if (value.trim() === '' || value.length > 500) throw new InvalidArgumentError('Expected 1 to 500 characters.');
  return value;
}

/** An option of seconds, parsed to milliseconds, whose help shows its default in seconds. */
export function secondsOption(
  flags: string,
  description: string,
  max: number,
  defaultSeconds: number,
  opts: { zero?: boolean } = {},
): Option {
  return new Option(flags, description)
    .argParser(seconds(max, opts))
    .default(defaultSeconds * 1000, `${defaultSeconds} s`);
}
