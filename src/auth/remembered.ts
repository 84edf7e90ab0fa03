/**
 * What a server may take as it was for a while: at most `capacity` entries, the oldest forgotten
 * first, each until its own instant (seconds since the epoch) passes. For what is checked per
 * request but stays the same from one request to the next (a verified token, a signed-in clinician).
 */
export class Remembered<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();

  constructor(private readonly capacity: number) {}

  get(key: string): V | undefined {
    const known = this.entries.get(key);
    if (!known) return undefined;
    if (Date.now() / 1000 < known.until) return known.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: V, until: number): void {
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, until });
  }
}
