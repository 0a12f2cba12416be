/**
 * @module Hybrid logical clock. Timestamps order events across regions: they follow
 * wall-clock time when clocks agree and never go backwards when they do not.
 *
 * An HLC timestamp is serialised as a fixed-width string, `WWWWWWWWWWWWWWW-LLLLLL`
 * (wall milliseconds, logical counter), so that string order is timestamp order.
 */

export type Hlc = string;

const WALL_DIGITS = 15;
const LOGICAL_DIGITS = 6;
const MAX_LOGICAL = 10 ** LOGICAL_DIGITS - 1;

export interface HlcParts {
  wall: number;
  logical: number;
}

export function formatHlc({ wall, logical }: HlcParts): Hlc {
  return `${String(wall).padStart(WALL_DIGITS, '0')}-${String(logical).padStart(LOGICAL_DIGITS, '0')}`;
}

const HLC_PATTERN = /^(\d{15})-(\d{6})$/;

export function parseHlc(hlc: Hlc): HlcParts {
  const m = HLC_PATTERN.exec(hlc);
  if (!m) throw new Error(`malformed HLC timestamp: ${JSON.stringify(hlc)}`);
  return { wall: Number(m[1]), logical: Number(m[2]) };
}

export function isHlc(value: unknown): value is Hlc {
  return typeof value === 'string' && HLC_PATTERN.test(value);
}

export class HybridLogicalClock {
  private last: HlcParts = { wall: 0, logical: 0 };

  constructor(private readonly now: () => number = Date.now) {}

  /** A timestamp for a local event, greater than every timestamp seen so far. */
  tick(): Hlc {
    const physical = this.now();
    if (physical > this.last.wall) {
      this.last = { wall: physical, logical: 0 };
    } else {
      this.bumpLogical(this.last.wall, this.last.logical);
    }
    return formatHlc(this.last);
  }

  /** Merge a timestamp received from another region, so later local events order after it. */
  observe(remote: Hlc): void {
    const r = parseHlc(remote);
    const physical = this.now();
    const wall = Math.max(physical, r.wall, this.last.wall);
    if (wall === this.last.wall && wall === r.wall) {
      this.bumpLogical(wall, Math.max(this.last.logical, r.logical));
    } else if (wall === this.last.wall) {
      this.bumpLogical(wall, this.last.logical);
    } else if (wall === r.wall) {
      this.bumpLogical(wall, r.logical);
    } else {
      this.last = { wall, logical: 0 };
    }
  }

  private bumpLogical(wall: number, logical: number): void {
    if (logical >= MAX_LOGICAL) {
      // Counter exhausted within one millisecond: borrow the next millisecond.
      this.last = { wall: wall + 1, logical: 0 };
    } else {
      this.last = { wall, logical: logical + 1 };
    }
  }
}
