// A job pins the code tree it was submitted with: its dir's `code` link names the tree, made under the code
// store's shared lock (`clean` takes it exclusively), so the store's collection never removes a tree a job
// uses. Every remote kind's submit command starts with these lines.
import { quote } from "../util/shell.js";

export function codeLinkLines(dir: string, codeDir: string): string[] {
  return [
    `  code=${quote(codeDir)}`,
    `  { ! command -v flock >/dev/null 2>&1 || flock -s 9; ln -sfn -- "$code" ${quote(`${dir}/code`)} && touch -c -- "$code" && [ -d ${quote(`${dir}/code/`)} ]; } 9>>"\${code%/*}/.lock" ||`,
    '  { echo "the code tree $code is missing (removed by clean meanwhile?); run again"; exit 1; }',
  ];
}
