/** PHQ-9 responses with the given total (up to 24 + item9), item 9 answered `item9`. */
export function phq9(total: number, item9 = 0): number[] {
  const rest = Array.from({ length: 8 }, (_, i) => Math.max(0, Math.min(3, total - item9 - i * 3)));
  return [...rest, item9];
}
