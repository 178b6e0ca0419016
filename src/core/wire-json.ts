/**
 * Parsing at the boundary, for every provider: JSON that fails as InvalidPayloadError, a zod safeParse
 * that fails as InvalidPayloadError carrying the issues, and the `{"message"}` of an API's error body.
 * Only zod's types are imported here: the schemas come from the providers.
 */
import type { z } from "zod";
import { InvalidPayloadError } from "./errors.js";

/** JSON.parse that throws InvalidPayloadError instead of SyntaxError. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new InvalidPayloadError("response body is not valid JSON", { cause: error });
  }
}

/** safeParse, or InvalidPayloadError carrying the zod issues. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const summary = result.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
      .join("; ");
    throw new InvalidPayloadError(`${what} does not match the documented shape (${summary})`, {
      cause: result.error.issues,
    });
  }
  return result.data;
}

/** The `message` of a JSON error body (`{"message": "..."}`, as Hathora and Edgegap send), cut to 500 characters; never throws. */
export function apiErrorMessage(text: string): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  const { message } = body as { message?: unknown };
  return typeof message === "string" ? message.slice(0, 500) : undefined;
}
