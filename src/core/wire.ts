/**
 * Parse at the boundary: JSON text to a value, a value to a typed one. Every provider's wire parsing goes
 * through these, so a body that breaks its shape is always an InvalidPayloadError with the zod issues.
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
