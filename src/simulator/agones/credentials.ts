/**
 * What a client needs to trust and reach the fake API server, made fresh for every run: a CA, a server
 * certificate it signs for the loopback names, and a kubeconfig (cluster with the CA, a bearer-token
 * user, a context with the namespace). The certificate library loads only when a simulator starts, so
 * nothing else that imports `room-watcher/simulator` pays for it.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { isIP } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TlsMaterial {
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

/** A CA and a server certificate (EC P-256, SHA-256, valid one day) for `hostnames` (names or IPs). */
export async function generateTlsMaterial(hostnames: readonly string[]): Promise<TlsMaterial> {
  const { generate } = await import("selfsigned");
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + 24 * 60 * 60 * 1000);
  const ca = await generate([{ name: "commonName", value: "room-watcher simulator CA" }], {
    keyType: "ec",
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const altNames = hostnames.map((host) => (isIP(host) === 0 ? { type: 2 as const, value: host } : { type: 7 as const, ip: host }));
  const leaf = await generate([{ name: "commonName", value: hostnames[0] ?? "localhost" }], {
    keyType: "ec",
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames },
    ],
  });
  return { caPem: ca.cert, certPem: leaf.cert, keyPem: leaf.private };
}

/** A random bearer token (never derived from the seed: it is a secret, not part of the simulation). */
export function newToken(): string {
  return randomBytes(24).toString("base64url");
}

export interface KubeconfigInput {
  readonly server: string;
  readonly caPem: string;
  readonly token: string;
  readonly namespace: string;
  /** Name of the cluster, user and context. */
  readonly name: string;
}

/** A kubeconfig in YAML; every scalar is written as a JSON string, which YAML reads verbatim. */
export function kubeconfigYaml(input: KubeconfigInput): string {
  const q = (value: string): string => JSON.stringify(value);
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    `- name: ${q(input.name)}`,
    "  cluster:",
    `    server: ${q(input.server)}`,
    `    certificate-authority-data: ${q(Buffer.from(input.caPem).toString("base64"))}`,
    "users:",
    `- name: ${q(input.name)}`,
    "  user:",
    `    token: ${q(input.token)}`,
    "contexts:",
    `- name: ${q(input.name)}`,
    "  context:",
    `    cluster: ${q(input.name)}`,
    `    user: ${q(input.name)}`,
    `    namespace: ${q(input.namespace)}`,
    `current-context: ${q(input.name)}`,
    "",
  ].join("\n");
}

/** Writes the kubeconfig (mode 0600, it holds a token): to `path`, or into a new temporary folder. */
export async function writeKubeconfig(yaml: string, path?: string): Promise<{ path: string; remove: () => Promise<void> }> {
  if (path !== undefined) {
    await writeFile(path, yaml, { mode: 0o600 });
    return { path, remove: () => rm(path, { force: true }) };
  }
  const dir = await mkdtemp(join(tmpdir(), "room-watcher-agones-"));
  const file = join(dir, "kubeconfig");
  await writeFile(file, yaml, { mode: 0o600 });
  return { path: file, remove: () => rm(dir, { recursive: true, force: true }) };
}
