/**
 * @module What no log line may carry: passwords, tokens, password hashes, secrets and
 * the Authorization header (pino's `redact` paths, used by every process).
 */
export const LOG_REDACT = [
  'password',
  '*.password',
  'newPassword',
  'currentPassword',
  'token',
  '*.token',
  'passwordHash',
  '*.passwordHash',
  'metricsToken',
  '*.metricsToken',
  'secrets',
  '*.secrets',
  'req.headers.authorization',
  'headers.authorization',
];
