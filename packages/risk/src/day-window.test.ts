import { describe, expect, it } from 'vitest';
import { dayWindow } from './day-window.ts';

describe('dayWindow', () => {
  it('UTC day', () => {
    const w = dayWindow(Date.parse('2026-03-10T23:59:59.999Z'), 'UTC');
    expect(w.day).toBe('2026-03-10');
    expect(w.start.toISOString()).toBe('2026-03-10T00:00:00.000Z');
    expect(w.end.toISOString()).toBe('2026-03-11T00:00:00.000Z');
    expect(dayWindow(Date.parse('2026-03-11T00:00:00.000Z'), 'UTC').day).toBe('2026-03-11');
  });

  it('Asia/Seoul (UTC+9): the local day starts at 15:00 UTC the day before', () => {
    const w = dayWindow(Date.parse('2026-03-10T14:59:59Z'), 'Asia/Seoul');
    expect(w.day).toBe('2026-03-10');
    expect(w.start.toISOString()).toBe('2026-03-09T15:00:00.000Z');
    expect(w.end.toISOString()).toBe('2026-03-10T15:00:00.000Z');
    expect(dayWindow(Date.parse('2026-03-10T15:00:00Z'), 'Asia/Seoul').day).toBe('2026-03-11');
  });

  it('DST days are 23 and 25 hours long (America/New_York)', () => {
    const spring = dayWindow(Date.parse('2026-03-08T12:00:00Z'), 'America/New_York');
    expect(spring.start.toISOString()).toBe('2026-03-08T05:00:00.000Z');
    expect(spring.end.toISOString()).toBe('2026-03-09T04:00:00.000Z');
    const autumn = dayWindow(Date.parse('2026-11-01T12:00:00Z'), 'America/New_York');
    expect(autumn.end.getTime() - autumn.start.getTime()).toBe(25 * 3600_000);
  });

  it('half-hour offsets (Asia/Kolkata, UTC+5:30)', () => {
    const w = dayWindow(Date.parse('2026-06-01T20:00:00Z'), 'Asia/Kolkata');
    expect(w.day).toBe('2026-06-02');
    expect(w.start.toISOString()).toBe('2026-06-01T18:30:00.000Z');
  });
});
