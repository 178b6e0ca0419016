/**
 * Kubernetes names as Agones uses them: a GameServer is named like any object (a DNS subdomain, RFC 1123),
 * and lives in a namespace (a DNS label). Checked before any request, so a name that can never exist
 * fails at once instead of waiting out a not-found grace.
 */
import { validateId } from "../../core/validate.js";

/** A Kubernetes object name: lowercase RFC 1123 subdomain, 1..253 characters. */
export const OBJECT_NAME_PATTERN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const OBJECT_NAME_RULE = "a Kubernetes object name: 1..253 characters of [a-z0-9.-], each dot-separated part starting and ending with [a-z0-9]";

/** A Kubernetes namespace: lowercase RFC 1123 label, 1..63 characters. */
export const NAMESPACE_PATTERN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const NAMESPACE_RULE = "a Kubernetes namespace: 1..63 characters of [a-z0-9-], starting and ending with [a-z0-9]";

/** `name` when it can name a GameServer; else a ConfigError saying the rule. */
export function validateGameServerName(name: unknown): string {
  return validateId("GameServer name", name, OBJECT_NAME_PATTERN, OBJECT_NAME_RULE);
}

/** `namespace` when it can name a namespace; else a ConfigError saying the rule. */
export function validateNamespace(namespace: unknown): string {
  return validateId("namespace", namespace, NAMESPACE_PATTERN, NAMESPACE_RULE);
}
