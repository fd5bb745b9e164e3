// sbatch's --array value: the element indices as ranges, and the cap on how many run at once.
import { InputError } from "../../util/errors.js";

/** [0,1,2,3,7,9,10] with cap 5 → "0-3,7,9-10%5". */
export function arraySpec(indices: readonly number[], maxParallel: number): string {
  if (indices.length === 0 || indices.some((i) => !Number.isSafeInteger(i) || i < 0)) {
    throw new InputError(`a job array needs element indices of 0 or more, got ${JSON.stringify(indices)}`);
  }
  if (!Number.isSafeInteger(maxParallel) || maxParallel < 1) throw new InputError(`--max-parallel: expected a whole number of 1 or more, got ${maxParallel}`);
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const ranges: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    ranges.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return `${ranges.join(",")}%${maxParallel}`;
}
