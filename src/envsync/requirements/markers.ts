// PEP 508 environment markers: a small tokenizer, a recursive-descent parser and an evaluator.
//   marker  := or
//   or      := and ("or" and)*
//   and     := atom ("and" atom)*
//   atom    := "(" or ")" | value op value
//   op      := "<" | "<=" | "==" | "!=" | ">=" | ">" | "~=" | "===" | "in" | "not" "in"
//   value   := variable | 'string' | "string"
import { RequirementError } from "./errors.js";
import { normalizeName } from "./names.js";
import { isValidSpecifier, satisfies } from "./versions.js";

/** The marker variables of PEP 508, as a remote interpreter reports them (see the remote-state probe). */
export const MARKER_VARIABLES = [
  "os_name",
  "sys_platform",
  "platform_machine",
  "platform_python_implementation",
  "platform_release",
  "platform_system",
  "platform_version",
  "python_version",
  "python_full_version",
  "implementation_name",
  "implementation_version",
] as const;

/** The shape of a marker environment: every PEP 508 variable except `extra`, which a requirement supplies. */
export type MarkerEnvironment = Record<(typeof MARKER_VARIABLES)[number], string>;

// Legacy spellings that old metadata still carries; packaging accepts them too.
const ALIASES: Record<string, string> = {
  "os.name": "os_name",
  "sys.platform": "sys_platform",
  "platform.version": "platform_version",
  "platform.machine": "platform_machine",
  "platform.python_implementation": "platform_python_implementation",
  python_implementation: "platform_python_implementation",
};
const VARIABLES = new Set<string>([...MARKER_VARIABLES, "extra"]);

type Value = { kind: "variable"; name: string } | { kind: "string"; text: string };
type Operator = "<" | "<=" | "==" | "!=" | ">=" | ">" | "~=" | "===" | "in" | "not in";
export type MarkerNode =
  | { kind: "and" | "or"; left: MarkerNode; right: MarkerNode }
  | { kind: "compare"; left: Value; op: Operator; right: Value };

type Token = { kind: "(" | ")" | "op" | "word" | "string"; text: string; at: number };

// Tried in order at each position; the first that matches wins ("===" before "==", "<=" before "<").
const TOKEN_RULES: [Token["kind"] | "space", RegExp][] = [
  ["space", /^\s+/],
  ["(", /^\(/],
  [")", /^\)/],
  ["string", /^(?:'[^']*'|"[^"]*")/],
  ["op", /^(?:===|==|!=|<=|>=|~=|<|>)/],
  ["word", /^[A-Za-z_][A-Za-z0-9_.]*/],
];

function tokenize(marker: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < marker.length) {
    const rest = marker.slice(at);
    const rule = TOKEN_RULES.find(([, pattern]) => pattern.test(rest));
    if (!rule) {
      const what = rest[0] === "'" || rest[0] === '"' ? "unterminated string" : `unexpected "${rest[0]}"`;
      throw new RequirementError(`invalid marker ${JSON.stringify(marker)}: ${what} at position ${at + 1}`);
    }
    const text = rule[1].exec(rest)![0];
    if (rule[0] !== "space") tokens.push({ kind: rule[0], text, at });
    at += text.length;
  }
  return tokens;
}

class MarkerParser {
  private index = 0;
  constructor(
    private readonly marker: string,
    private readonly tokens: Token[],
  ) {}

  parse(): MarkerNode {
    if (this.tokens.length === 0) this.fail("it is empty");
    const node = this.or();
    const extra = this.tokens[this.index];
    if (extra) this.fail(`unexpected "${extra.text}" at position ${extra.at + 1}`);
    return node;
  }

  private fail(reason: string): never {
    throw new RequirementError(`invalid marker ${JSON.stringify(this.marker)}: ${reason}`);
  }

  private peekWord(word: string): boolean {
    const token = this.tokens[this.index];
    return token?.kind === "word" && token.text === word;
  }

  private next(expected: string): Token {
    const token = this.tokens[this.index++];
    if (!token) this.fail(`expected ${expected} at the end`);
    return token;
  }

  /** A left-associative chain of `operand` joined by the keyword `kind` ("and" binds tighter than "or"). */
  private chain(kind: "and" | "or", operand: () => MarkerNode): MarkerNode {
    let node = operand();
    while (this.peekWord(kind)) {
      this.index++;
      node = { kind, left: node, right: operand() };
    }
    return node;
  }

  private or(): MarkerNode {
    return this.chain("or", () => this.and());
  }

  private and(): MarkerNode {
    return this.chain("and", () => this.atom());
  }

  private atom(): MarkerNode {
    if (this.tokens[this.index]?.kind === "(") {
      this.index++;
      const node = this.or();
      const close = this.next('")"');
      if (close.kind !== ")") this.fail(`expected ")" at position ${close.at + 1}, found "${close.text}"`);
      return node;
    }
    const left = this.value();
    const op = this.operator();
    return { kind: "compare", left, op, right: this.value() };
  }

  private value(): Value {
    const token = this.next("a variable or a quoted string");
    if (token.kind === "string") return { kind: "string", text: token.text.slice(1, -1) };
    const name = token.kind === "word" ? (ALIASES[token.text] ?? token.text) : null;
    if (name === null) this.fail(`expected a variable or a quoted string at position ${token.at + 1}, found "${token.text}"`);
    if (!VARIABLES.has(name)) {
      this.fail(`unknown variable "${token.text}" (known: ${[...VARIABLES].join(", ")})`);
    }
    return { kind: "variable", name };
  }

  private operator(): Operator {
    const token = this.next("an operator");
    if (token.kind === "op") return token.text as Operator;
    if (token.kind === "word" && token.text === "in") return "in";
    if (token.kind === "word" && token.text === "not") {
      const inToken = this.next('"in" after "not"');
      if (inToken.kind === "word" && inToken.text === "in") return "not in";
      this.fail(`expected "in" after "not" at position ${inToken.at + 1}`);
    }
    return this.fail(`expected an operator (==, !=, <, <=, >, >=, ~=, ===, in, not in) at position ${token.at + 1}, found "${token.text}"`);
  }
}

/** Parses a marker, or throws a RequirementError saying where it goes wrong. */
export function parseMarker(marker: string): MarkerNode {
  return new MarkerParser(marker, tokenize(marker)).parse();
}

/** The variables a marker reads, in order of first use (to explain why a marker is false). */
export function markerVariables(marker: string): string[] {
  const names = new Set<string>();
  const visit = (node: MarkerNode): void => {
    if (node.kind === "compare") {
      for (const side of [node.left, node.right]) if (side.kind === "variable") names.add(side.name);
    } else {
      visit(node.left);
      visit(node.right);
    }
  };
  visit(parseMarker(marker));
  return [...names];
}

// What packaging (PyPA's reference) does with strings: no ordering between them, so "<=" and ">=" mean equal.
const STRING_COMPARISONS: Partial<Record<Operator, (a: string, b: string) => boolean>> = {
  "<": () => false,
  "<=": (a, b) => a === b,
  "==": (a, b) => a === b,
  "!=": (a, b) => a !== b,
  ">=": (a, b) => a === b,
  ">": () => false,
  // packaging raises here; equality is kept so that odd third-party metadata does not stop a snapshot.
  "===": (a, b) => a === b,
  in: (a, b) => b.includes(a),
  "not in": (a, b) => !b.includes(a),
};

// The variables whose comparisons follow PEP 440 (as in packaging); the others compare as strings.
const VERSION_VARIABLES = new Set(["implementation_version", "platform_release", "python_full_version", "python_version"]);

// PEP 508: a version variable compared with a valid specifier ("python_version == '3.*'") follows PEP 440,
// and a value that is no version then matches nothing; everything else compares as strings.
function compareValues(variable: string | null, left: string, op: Operator, right: string, marker: string): boolean {
  if (variable !== null && VERSION_VARIABLES.has(variable) && op !== "in" && op !== "not in" && op !== "===" && isValidSpecifier(op + right)) {
    return satisfies(left, op + right);
  }
  const compare = STRING_COMPARISONS[op];
  if (!compare) {
    throw new RequirementError(
      `invalid marker ${JSON.stringify(marker)}: "${op}" compares PEP 440 versions of ${[...VERSION_VARIABLES].join(", ")}; got "${left}" and "${right}"`,
    );
  }
  return compare(left, right);
}

function resolve(value: Value, env: Record<string, string>, marker: string): string {
  if (value.kind === "string") return value.text;
  const found = env[value.name] ?? (value.name === "extra" ? "" : undefined);
  if (found === undefined) {
    throw new RequirementError(`cannot evaluate marker ${JSON.stringify(marker)}: the environment has no "${value.name}"`);
  }
  return found;
}

// Extras compare as normalised names (PEP 685), so `extra == "Foo_Bar"` matches the extra "foo-bar".
function normalizeExtra(value: string): string {
  try {
    return normalizeName(value);
  } catch {
    return value;
  }
}

function evaluateNode(node: MarkerNode, env: Record<string, string>, marker: string): boolean {
  if (node.kind !== "compare") {
    const left = evaluateNode(node.left, env, marker);
    // Short-circuit like Python: the right side is not evaluated (nor checked for variables) when decided.
    if (node.kind === "and" ? !left : left) return left;
    return evaluateNode(node.right, env, marker);
  }
  const sides: Value[] = [node.left, node.right];
  const variable = sides.flatMap((side) => (side.kind === "variable" ? [side.name] : []))[0] ?? null;
  const isExtra = variable === "extra";
  const [left, right] = sides.map((side) => {
    const text = resolve(side, env, marker);
    return isExtra ? normalizeExtra(text) : text;
  });
  return compareValues(variable, left!, node.op, right!, marker);
}

/**
 * Evaluates a PEP 508 marker against an environment (variable name -> value). `extra` defaults to "";
 * any other variable the marker reads must be present.
 */
export function evaluateMarker(marker: string, env: Record<string, string>): boolean {
  return evaluateNode(parseMarker(marker), env, marker);
}
