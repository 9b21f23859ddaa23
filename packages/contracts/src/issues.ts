import type { z } from 'zod';

/** One zod issue as answered in `error.details` and written in logs: a dotted path and the message. */
export interface FieldIssue {
  path: string;
  message: string;
}

export interface IssueFormat {
  /** Path shown for an issue about the whole value (e.g. `(body)`); by default it has none. */
  root?: string;
  /** At most this many issues (a hostile payload can produce hundreds). */
  limit?: number;
}

/** The issues of a failed parse, each with its dotted path (`root` when it is about the whole value). */
export function fieldIssues(error: z.ZodError, format: IssueFormat = {}): FieldIssue[] {
  const issues = format.limit === undefined ? error.issues : error.issues.slice(0, format.limit);
  return issues.map((i) => ({ path: i.path.join('.') || (format.root ?? ''), message: i.message }));
}

/** `path: message` per issue (just the message when there is no path). */
export function issueLines(error: z.ZodError, format: IssueFormat = {}): string[] {
  return fieldIssues(error, format).map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
}

/** The issues on one line, `a.b: message; c: message`, for an error message or a signal's reason. */
export function issueSummary(error: z.ZodError, format: IssueFormat = {}): string {
  return issueLines(error, format).join('; ');
}
