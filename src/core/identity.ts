/**
 * Short, stable names for objects (a fetch function, an SDK client) that go into a source's key: two
 * sources share a poll only if they call through the same object, and the key never shows what is in it.
 */
export function identities(prefix: string): (object: object) => string {
  const ids = new WeakMap<object, number>();
  let next = 1;
  return (object) => {
    let id = ids.get(object);
    if (id === undefined) {
      id = next++;
      ids.set(object, id);
    }
    return `${prefix}#${id}`;
  };
}
