/** Removes a secret (a bearer token) from text before it can reach an error, a log or the terminal. */
export const REDACTED = "[redacted]";

/** Secrets shorter than this are not searched for: they would redact ordinary words. */
const MIN_SECRET_LENGTH = 4;

export function redact(text: string, secret: string | undefined): string {
  return secret === undefined || secret.length < MIN_SECRET_LENGTH ? text : text.split(secret).join(REDACTED);
}

/** `text` with every secret in it replaced by "[redacted]" (undefined ones skipped). */
export function redactSecrets(text: string, secrets: ReadonlyArray<string | undefined>): string {
  return secrets.reduce<string>((redacted, secret) => redact(redacted, secret), text);
}
