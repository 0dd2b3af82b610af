/** What each benchmark returns; run.ts prints it as tables and writes it as JSON. */
export interface BenchTarget {
  readonly target: string;
  readonly value: string;
  readonly pass: boolean;
}

export interface BenchReport {
  readonly name: string;
  readonly summary: string;
  readonly rows: readonly Record<string, unknown>[];
  readonly targets: readonly BenchTarget[];
  readonly extra: Record<string, unknown>;
  /** True when the run itself went wrong (errors under load), so its figures mean nothing. */
  readonly failed: boolean;
}
