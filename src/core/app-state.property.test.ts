/**
 * Property: no sequence of requests takes the state machine of DESIGN §3 to an illegal
 * state. Any request, legal or not (unknown regions, forced or not, from any state),
 * is either refused with a domain error and changes nothing, or moves to a record that
 * obeys the design: one epoch up, `active` only in the primary, `failover` only elsewhere,
 * a fence keeps the writer, and writes move to another region only from a fence (then
 * after a drain of the fenced writer) or by force.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  APP_STATES,
  initialRecord,
  isWriter,
  planTransition,
  type StateRecord,
  type TopologyView,
  type TransitionRequest,
} from './app-state.js';
import { DomainError } from './errors.js';

const topologies: TopologyView[] = [
  { primary: 'us-east-1', regions: ['us-east-1', 'ap-northeast-1'] },
  { primary: 'us-east-1', regions: ['us-east-1', 'ap-northeast-1', 'eu-west-1'] },
];

const request = (regions: readonly string[]) =>
  fc.record(
    {
      state: fc.constantFrom(...APP_STATES),
      activeRegion: fc.constantFrom(...regions, 'nowhere-1', ''),
      force: fc.boolean(),
      reason: fc.string({ maxLength: 20 }),
    },
    { requiredKeys: ['state'] },
  ) as fc.Arbitrary<TransitionRequest>;

function checkLegal(record: StateRecord, topology: TopologyView): void {
  expect(APP_STATES).toContain(record.state);
  expect(topology.regions).toContain(record.activeRegion);
  if (record.state === 'active') expect(record.activeRegion).toBe(topology.primary);
  if (record.state === 'failover') expect(record.activeRegion).not.toBe(topology.primary);
  const writers = topology.regions.filter((r) => isWriter(record, r));
  expect(writers).toEqual(record.state === 'fenced' ? [] : [record.activeRegion]);
}

describe('the state machine under any sequence of requests', () => {
  it('never reaches an illegal record, and refuses exactly what DESIGN §3 forbids', () => {
    fc.assert(
      fc.property(
        fc
          .constantFrom(...topologies)
          .chain((t) => fc.tuple(fc.constant(t), fc.array(request(t.regions), { maxLength: 40 }))),
        ([topology, requests]) => {
          let clock = Date.parse('2026-11-27T10:00:00.000Z');
          let current = initialRecord('photos', topology, new Date(clock));
          checkLegal(current, topology);
          for (const req of requests) {
            clock += 1000;
            let plan: ReturnType<typeof planTransition> | undefined;
            let refusal: DomainError | undefined;
            try {
              plan = planTransition(current, req, topology, new Date(clock));
            } catch (err) {
              if (!(err instanceof DomainError)) throw err;
              refusal = err;
            }
            const unknownRegion = req.activeRegion !== undefined && !topology.regions.includes(req.activeRegion);
            if (unknownRegion) expect(refusal?.code).toBe('invalid_request');
            if (refusal) {
              expect(['invalid_request', 'illegal_transition']).toContain(refusal.code);
              // A fence of an unfenced application, or the lift of a fence in place, is never refused.
              const sameWriter = req.activeRegion === undefined || req.activeRegion === current.activeRegion;
              if (req.state === 'fenced' && current.state !== 'fenced' && sameWriter)
                throw new Error(`a fence was refused: ${refusal.message}`);
              continue;
            }
            const { kind, next, drainFrom } = plan!;
            checkLegal(next, topology);
            expect(next.epoch).toBe(current.epoch + 1);
            expect(next.changedAt > current.changedAt).toBe(true);
            if (req.activeRegion !== undefined) expect(next.activeRegion).toBe(req.activeRegion);
            if (req.state === 'active') expect(next.activeRegion).toBe(topology.primary);
            expect(next.state).toBe(req.state);
            switch (kind) {
              case 'fence':
                expect(current.state).not.toBe('fenced');
                expect(next.activeRegion).toBe(current.activeRegion);
                break;
              case 'lift':
                expect(current.state).toBe('fenced');
                expect(next.activeRegion).toBe(current.activeRegion);
                break;
              case 'switch':
                // Graceful: only from a fence, and only once the fenced writer's log is drained.
                expect(current.state).toBe('fenced');
                expect(next.activeRegion).not.toBe(current.activeRegion);
                expect(drainFrom).toBe(current.activeRegion);
                break;
              case 'forced-switch':
                expect(req.force).toBe(true);
                expect(next.activeRegion).not.toBe(current.activeRegion);
                break;
            }
            if (kind !== 'switch') expect(drainFrom).toBeUndefined();
            current = next;
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('refuses every change of writer that is neither after a fence nor forced', () => {
    fc.assert(
      fc.property(
        fc
          .constantFrom(...topologies)
          .chain((t) => fc.tuple(fc.constant(t), fc.array(request(t.regions), { maxLength: 30 }))),
        ([topology, requests]) => {
          let current = initialRecord('photos', topology, new Date(0));
          let t = 0;
          for (const req of requests) {
            try {
              const { next } = planTransition(current, req, topology, new Date(++t * 1000));
              if (next.activeRegion !== current.activeRegion)
                expect(current.state === 'fenced' || req.force === true).toBe(true);
              current = next;
            } catch (err) {
              if (!(err instanceof DomainError)) throw err;
            }
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
