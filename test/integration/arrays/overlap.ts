// The most intervals [start, end) open at one moment: how many elements of an array ran at once.
export function maxOverlap(intervals: readonly { start: number; end: number }[]): number {
  // At equal times an end comes before a start: one element ending as the next begins is not two at once.
  const events = intervals.flatMap(({ start, end }) => [
    { at: start, delta: 1 },
    { at: end, delta: -1 },
  ]);
  events.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let open = 0;
  let most = 0;
  for (const { delta } of events) {
    open += delta;
    most = Math.max(most, open);
  }
  return most;
}
