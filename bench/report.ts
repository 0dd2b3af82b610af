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
  /** Figures over time, printed as a third table when present (the soak's memory). */
  readonly timeline?: readonly Record<string, unknown>[];
  readonly extra: Record<string, unknown>;
  /** True when the run itself went wrong (errors under load), so its figures mean nothing. */
  readonly failed: boolean;
  /** Why it failed, when not "some requests failed". */
  readonly failure?: string;
}
