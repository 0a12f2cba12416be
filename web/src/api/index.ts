/**
 * @module The web app's one way to the servers: `createApi` binds every feature's
 * calls to the routing client and the session's token.
 */
import type { RoutingClient } from '../../../src/routing/client/index.js';
import { AuthApi } from './auth';
import { CommentsApi } from './comments';
import type { ApiError } from './errors';
import { OperationsApi } from './operations';
import { PhotosApi } from './photos';
import { type TokenSource, Transport } from './transport';
import { type UploadOptions, uploadPhoto } from './upload';

export interface Api {
  auth: AuthApi;
  photos: PhotosApi;
  comments: CommentsApi;
  operations: OperationsApi;
  upload(file: File, opts?: UploadOptions): ReturnType<typeof uploadPhoto>;
  token(): string | undefined;
}

/** `onRefusal` hears every write a server refused (the app pauses writes on 503 `no_quorum`). */
export function createApi(routing: RoutingClient, tokens: TokenSource, onRefusal?: (err: ApiError) => void): Api {
  const t = new Transport(routing, tokens, onRefusal);
  return {
    auth: new AuthApi(t),
    photos: new PhotosApi(t),
    comments: new CommentsApi(t),
    operations: new OperationsApi(t),
    upload: (file, opts) => uploadPhoto(t, file, opts),
    token: () => t.token(),
  };
}

export { ApiError, isAbort } from './errors';
export { describeError, type ErrorContext } from './messages';
export type * from './types';
