/**
 * A small reader of the Pine Script this service generates, for the tests: it is not a Pine compiler, only
 * enough to check structure and to evaluate the string expressions passed to `alert(...)`.
 */

export interface AlertCall {
  /** Line number (1-based) of the `alert(` line. */
  line: number;
  condition: string;
  /** The first argument of alert(...): a Pine string expression. */
  message: string;
  /** The remaining arguments, e.g. `alert.freq_once_per_bar_close`. */
  rest: string;
}

/** Removes a `//` comment that is not inside a string literal. */
export function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '/' && line[i + 1] === '/') return line.slice(0, i);
  }
  return line;
}

/** Problems with brackets and string quotes, line by line (Pine strings cannot span lines). */
export function bracketProblems(script: string): string[] {
  const problems: string[] = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  const stack: { c: string; line: number }[] = [];
  script.split('\n').forEach((raw, index) => {
    const line = stripComment(raw);
    let quote: string | null = null;
    for (let i = 0; i < line.length; i++) {
      const c = line[i]!;
      if (quote) {
        if (c === '\\') i++;
        else if (c === quote) quote = null;
        continue;
      }
      if (c === "'" || c === '"') quote = c;
      else if (c === '(' || c === '[' || c === '{') stack.push({ c, line: index + 1 });
      else if (c in pairs) {
        const open = stack.pop();
        if (open?.c !== pairs[c]) problems.push(`line ${index + 1}: unmatched "${c}"`);
      }
    }
    if (quote) problems.push(`line ${index + 1}: unterminated string`);
  });
  for (const open of stack) problems.push(`line ${open.line}: "${open.c}" never closed`);
  return problems;
}

/** Splits a top-level argument list or concatenation at `separator` (outside strings and brackets). */
export function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (c === separator && depth === 0) {
      parts.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(text.slice(start).trim());
  return parts;
}

/** Every `if <condition>` immediately followed by an indented `alert(...)` line. */
export function extractAlertCalls(script: string): AlertCall[] {
  const lines = script.split('\n');
  const calls: AlertCall[] = [];
  lines.forEach((raw, index) => {
    const match = /^(\s+)alert\((.*)\)\s*$/.exec(stripComment(raw));
    if (!match) return;
    const ifLine = /^\s*if\s+(.+?)\s*$/.exec(stripComment(lines[index - 1] ?? ''));
    if (!ifLine) throw new Error(`line ${index + 1}: alert(...) is not directly under an if`);
    const args = splitTopLevel(match[2]!, ',');
    calls.push({ line: index + 1, condition: ifLine[1]!, message: args[0]!, rest: args.slice(1).join(', ') });
  });
  return calls;
}

function unquote(literal: string): string {
  const body = literal.slice(1, -1);
  return body.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
}

/**
 * Evaluates a Pine string concatenation (`'a' + f(x) + 'b'`): literals are unescaped, every other operand is
 * replaced by `substitute(code)` — what the script would have produced when the alert fired.
 */
export function evaluateStringConcat(expression: string, substitute: (code: string) => string): string {
  return splitTopLevel(expression, '+')
    .map((operand) => {
      if (/^'(?:[^'\\]|\\.)*'$/.test(operand) || /^"(?:[^"\\]|\\.)*"$/.test(operand)) return unquote(operand);
      return substitute(operand);
    })
    .join('');
}

const KEYWORDS = new Set(['and', 'or', 'not', 'true', 'false', 'na', 'if', 'else', 'var', 'varip']);
/** Built-in variables and namespaces a condition may use without declaring them. */
const BUILT_INS = new Set(['close', 'open', 'high', 'low', 'volume', 'time', 'timenow', 'bar_index']);
const NAMESPACES = ['strategy.', 'ta.', 'math.', 'barstate.', 'syminfo.', 'timeframe.', 'str.'];

/** Names the script declares: `x = …`, `var float x = …`, `[a, b] = …`. */
export function declaredNames(script: string): Set<string> {
  const names = new Set<string>();
  for (const raw of script.split('\n')) {
    const line = stripComment(raw);
    const simple = /^(?:var\s+(?:\w+\s+)?)?([A-Za-z_]\w*)\s*=(?!=)/.exec(line);
    if (simple) names.add(simple[1]!);
    const tuple = /^\[([^\]]+)\]\s*=(?!=)/.exec(line);
    if (tuple) for (const n of tuple[1]!.split(',')) names.add(n.trim());
  }
  return names;
}

/** Identifiers of `condition` that are neither declared by the script nor Pine built-ins. */
export function undeclaredIdentifiers(condition: string, declared: Set<string>): string[] {
  const withoutStrings = condition.replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, '');
  const identifiers = withoutStrings.match(/[A-Za-z_][\w.]*/g) ?? [];
  return identifiers.filter(
    (id) =>
      !KEYWORDS.has(id) &&
      !BUILT_INS.has(id) &&
      !NAMESPACES.some((ns) => id.startsWith(ns)) &&
      !declared.has(id),
  );
}

/** `input.int/float(...)` calls that have no `title=`. */
export function inputsWithoutTitle(script: string): string[] {
  return script
    .split('\n')
    .map(stripComment)
    .filter((line) => /\binput\.\w+\(/.test(line) && !/\btitle\s*=\s*['"][^'"]+['"]/.test(line));
}
