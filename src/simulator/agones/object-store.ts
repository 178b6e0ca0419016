/**
 * The apiserver's storage, for one namespaced resource: objects by namespace and name, one
 * monotonically increasing resourceVersion per write (decimal strings, as Kubernetes 1.35 requires),
 * a bounded history of change events so a watch can resume from a recent version, and live watchers.
 * A version older than the history answers "expired" (410 Gone at the HTTP layer). No I/O, no timers.
 */
import { matches, type Selector } from "./selectors.js";

export interface StoredObject {
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly resourceVersion: string;
    readonly labels?: Readonly<Record<string, string>> | undefined;
  };
}

export type ChangeType = "ADDED" | "MODIFIED" | "DELETED";

export interface Change<T extends StoredObject> {
  readonly rv: number;
  readonly type: ChangeType;
  /** The object after the change (for DELETED: as it was, with the deletion's version). */
  readonly object: T;
  /** The object before the change; undefined for ADDED. */
  readonly previous: T | undefined;
}

/** Which objects a list or watch sees. */
export interface ObjectFilter {
  /** Undefined: every namespace. */
  readonly namespace?: string | undefined;
  readonly labels?: Selector | undefined;
  readonly fields?: Selector | undefined;
}

export type Since<T extends StoredObject> =
  | { readonly kind: "changes"; readonly changes: readonly Change<T>[] }
  | { readonly kind: "expired"; readonly oldestRv: number };

export function visible(filter: ObjectFilter, object: StoredObject): boolean {
  const { metadata } = object;
  if (filter.namespace !== undefined && metadata.namespace !== filter.namespace) return false;
  if (filter.labels !== undefined && !matches(filter.labels, metadata.labels ?? {})) return false;
  if (filter.fields !== undefined) {
    return matches(filter.fields, { "metadata.name": metadata.name, "metadata.namespace": metadata.namespace });
  }
  return true;
}

/**
 * What a filtered watcher sees of a change: an object entering the filter is ADDED to it, one leaving
 * it is DELETED, as the apiserver's watch cache reports selector transitions.
 */
export function viewOf<T extends StoredObject>(filter: ObjectFilter, change: Change<T>): ChangeType | undefined {
  const now = visible(filter, change.object);
  const before = change.previous !== undefined && visible(filter, change.previous);
  switch (change.type) {
    case "ADDED":
      return now ? "ADDED" : undefined;
    case "DELETED":
      return now || before ? "DELETED" : undefined;
    case "MODIFIED":
      if (now && before) return "MODIFIED";
      if (now) return "ADDED";
      return before ? "DELETED" : undefined;
    default: {
      const unreachable: never = change.type;
      throw new Error(`unknown change ${String(unreachable)}`);
    }
  }
}

function keyOf(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export class ObjectStore<T extends StoredObject> {
  readonly #historySize: number;
  readonly #objects = new Map<string, T>();
  readonly #history: Change<T>[] = [];
  readonly #listeners = new Set<(change: Change<T>) => void>();
  #rv: number;
  /** Every change after this version is in the history. */
  #compactedRv: number;

  /** `historySize`: how many changes are kept for watches to resume from. */
  constructor(historySize: number, firstRv = 1) {
    this.#historySize = historySize;
    this.#rv = firstRv;
    this.#compactedRv = firstRv;
  }

  /** The latest resourceVersion. */
  get rv(): number {
    return this.#rv;
  }

  /** The oldest version a watch can start from. */
  get oldestRv(): number {
    return this.#compactedRv;
  }

  get size(): number {
    return this.#objects.size;
  }

  get(namespace: string, name: string): T | undefined {
    return this.#objects.get(keyOf(namespace, name));
  }

  list(filter: ObjectFilter): { rv: number; items: T[] } {
    const items: T[] = [];
    for (const object of this.#objects.values()) if (visible(filter, object)) items.push(object);
    return { rv: this.#rv, items };
  }

  /** Stores a new object (the caller checked it is absent), stamping the next version. */
  add(build: (rv: string) => T): T {
    return this.#commit("ADDED", undefined, build);
  }

  /** Replaces an existing object, stamping the next version; undefined when it is absent. */
  update(namespace: string, name: string, build: (current: T, rv: string) => T): T | undefined {
    const current = this.get(namespace, name);
    if (current === undefined) return undefined;
    return this.#commit("MODIFIED", current, (rv) => build(current, rv));
  }

  /** Removes an object; the DELETED event carries it with the deletion's version. */
  remove(namespace: string, name: string, build: (current: T, rv: string) => T): T | undefined {
    const current = this.get(namespace, name);
    if (current === undefined) return undefined;
    return this.#commit("DELETED", current, (rv) => build(current, rv));
  }

  /** The changes after `rv`, oldest first, or "expired" when some of them are no longer kept. */
  since(rv: number): Since<T> {
    if (rv < this.#compactedRv) return { kind: "expired", oldestRv: this.#compactedRv };
    // History is sorted by version: skip to the first change after rv.
    let low = 0;
    let high = this.#history.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.#history[mid]!.rv <= rv) low = mid + 1;
      else high = mid;
    }
    return { kind: "changes", changes: this.#history.slice(low) };
  }

  /** Forgets the whole history, as etcd compaction does: every version before now becomes too old. */
  compact(): void {
    this.#history.length = 0;
    this.#compactedRv = this.#rv;
  }

  /** Calls `listener` synchronously on every change after it is committed; returns the unsubscribe. */
  subscribe(listener: (change: Change<T>) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #commit(type: ChangeType, previous: T | undefined, build: (rv: string) => T): T {
    const rv = this.#rv + 1;
    const object = build(String(rv));
    if (object.metadata.resourceVersion !== String(rv)) throw new Error("a stored object must carry the version it was given");
    this.#rv = rv;
    const key = keyOf(object.metadata.namespace, object.metadata.name);
    if (type === "DELETED") this.#objects.delete(key);
    else this.#objects.set(key, object);
    const change: Change<T> = { rv, type, object, previous };
    this.#history.push(change);
    if (this.#history.length > this.#historySize) {
      const dropped = this.#history.splice(0, this.#history.length - this.#historySize);
      this.#compactedRv = dropped.at(-1)!.rv;
    }
    for (const listener of [...this.#listeners]) listener(change);
    return object;
  }
}
