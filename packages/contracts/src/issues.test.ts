import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fieldIssues, issueLines, issueSummary } from './issues.ts';

const schema = z.object({ a: z.object({ b: z.number() }), c: z.string() });
const errorOf = (value: unknown) => {
  const parsed = schema.safeParse(value);
  if (parsed.success) throw new Error('expected a failure');
  return parsed.error;
};

describe('zod issue formatting', () => {
  it('gives dotted paths and one summary line', () => {
    const error = errorOf({ a: { b: 'x' }, c: 1 });
    expect(fieldIssues(error).map((i) => i.path)).toEqual(['a.b', 'c']);
    expect(issueSummary(error)).toMatch(/^a\.b: .+; c: .+$/);
  });

  it('names the whole value with root, or gives just the message', () => {
    const error = errorOf('not an object');
    expect(fieldIssues(error, { root: '(body)' })[0]?.path).toBe('(body)');
    expect(issueLines(error)[0]).toBe(error.issues[0]?.message);
  });

  it('keeps at most limit issues', () => {
    expect(fieldIssues(errorOf({}), { limit: 1 })).toHaveLength(1);
  });
});
