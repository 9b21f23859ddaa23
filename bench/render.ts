import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './lib/processes.ts';
import { renderReport } from './lib/report.ts';
import type { BenchResults } from './lib/results.ts';

/**
 * Re-renders BENCHMARKS.md from bench/results.json without measuring again (after editing bench/analysis.md
 * or the report layout): `pnpm exec tsx bench/render.ts`.
 */
const jsonFile = path.resolve(REPO_ROOT, process.env.BENCH_JSON ?? 'bench/results.json');
const outFile = path.resolve(REPO_ROOT, process.env.BENCH_OUT ?? 'BENCHMARKS.md');
const results = JSON.parse(readFileSync(jsonFile, 'utf8')) as BenchResults;
writeFileSync(outFile, renderReport(results));
console.log(`wrote ${path.relative(REPO_ROOT, outFile)} from ${path.relative(REPO_ROOT, jsonFile)}`);
