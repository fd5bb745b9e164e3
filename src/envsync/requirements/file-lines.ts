// The lexical layer of a requirements file, following pip: lines ending in "\" are joined (a comment line
// ends the joined line), then comments ("#" at the start or after whitespace) are removed. A "#" inside a
// word, as in "…#egg=name", is kept.

export interface LogicalLine {
  text: string;
  /** The 1-based number of the first physical line. */
  lineNumber: number;
}

const COMMENT = /(^|\s+)#.*$/;
const COMMENT_LINE = /^\s*#/;

export function logicalLines(content: string): LogicalLine[] {
  const lines: LogicalLine[] = [];
  let parts: string[] = [];
  let first = 0;
  const emit = (lineNumber: number): void => {
    const text = parts.join("").replace(COMMENT, "").trim();
    if (text !== "") lines.push({ text, lineNumber });
    parts = [];
  };
  content.split(/\r?\n/).forEach((line, index) => {
    if (parts.length === 0) first = index + 1;
    const isComment = COMMENT_LINE.test(line);
    if (line.endsWith("\\") && !isComment) {
      parts.push(line.slice(0, -1));
      return;
    }
    parts.push(isComment && parts.length > 0 ? ` ${line}` : line);
    emit(first);
  });
  if (parts.length > 0) emit(first);
  return lines;
}

/**
 * Splits a line into its requirement (the words before the first one starting with "-") and its option
 * words, which are split like a shell would: whitespace separates, quotes group.
 */
export function splitLine(text: string): { requirement: string; options: string[] } {
  const words = text.split(" ");
  const firstOption = words.findIndex((word) => word.startsWith("-"));
  if (firstOption === -1) return { requirement: text, options: [] };
  const optionText = words.slice(firstOption).join(" ");
  const options = [...optionText.matchAll(/(?:[^\s'"]+|'[^']*'|"[^"]*")+/g)].map((m) => m[0].replace(/['"]/g, ""));
  return { requirement: words.slice(0, firstOption).join(" ").trim(), options };
}
