/**
 * @module Validation of what a peer sends: a malformed batch is refused with 400,
 * never half-applied and never a crash.
 */
import { z } from 'zod';
import { isVersion, type Version } from '../core/version.js';

const version = z.custom<Version>(isVersion, 'a version {epoch, hlc, region}');
const seq = z.number().int().positive();

const itemChange = z.strictObject({
  kind: z.literal('item'),
  table: z.string().min(1).max(128),
  key: z.string().min(1).max(1024),
  item: z.record(z.string(), z.unknown()).nullable(),
  version,
});

const objectChange = z.strictObject({
  kind: z.literal('object'),
  bucket: z.string().min(1).max(63),
  key: z.string().min(1).max(1024),
  versionId: z.string().min(1).max(64),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable(),
  etag: z.string().max(64).nullable(),
  size: z.number().int().min(0),
  contentType: z.string().max(255).nullable(),
  deleteMarker: z.boolean(),
  lastModified: z.string().max(40),
  version,
});

const barrierChange = z.strictObject({
  kind: z.literal('barrier'),
  appId: z.string().min(1).max(128),
  epoch: z.number().int().min(0),
});

const logId = z.string().regex(/^[0-9a-f]{32}$/, 'a log id (32 hex digits)');

export const batchSchema = z.strictObject({
  origin: z.string().min(1).max(64),
  logId,
  move: z
    .strictObject({
      from: z.strictObject({ logId: logId.nullable(), seq: z.number().int().min(0) }),
      at: z.number().int().min(0),
    })
    .optional(),
  rebuild: z.strictObject({ reason: z.string().max(64), message: z.string().max(2000) }).optional(),
  originHead: z.number().int().min(0),
  pendingSince: z.number().nullable(),
  epoch: z.number().int().min(0),
  entries: z
    .array(
      z.strictObject({
        seq,
        createdAt: z.number(),
        bytes: z.number().int().min(0),
        change: z.discriminatedUnion('kind', [itemChange, objectChange, barrierChange]),
      }),
    )
    .max(10_000),
});
