/**
 * Runs the work given under one key one after another, each starting once the previous one under
 * that key is done; keys with nothing running are forgotten. `work` handles its own errors: a
 * rejection would hold up nothing, but would surface as unhandled.
 */
export function inOrder(): (key: string, work: () => Promise<void>) => void {
  const last = new Map<string, Promise<void>>();
  return (key, work) => {
    const next = (last.get(key) ?? Promise.resolve()).then(work);
    last.set(key, next);
    void next.finally(() => {
      if (last.get(key) === next) last.delete(key);
    });
  };
}
