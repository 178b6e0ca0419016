/**
 * A host that announces changes by calling us back (Edgegap's `webhook_on_*`): each call is only a
 * hint, worth one verifying look at the room, never a change of state by itself. The gateway serves
 * a receiver's calls under its path prefix; the provider knows how to read them.
 */
export interface WebhookReceiver {
  /** The path calls come under, e.g. `/webhooks/edgegap/`. Must start and end with a slash. */
  readonly prefix: string;
  /**
   * The room a call is about. Throws WebhookError: `bad_path` or `bad_secret` (answered 404, so a
   * guess learns nothing), `bad_body` (answered 400). Must not echo the secret in any message.
   */
  read(path: string, body: string): string;
}
