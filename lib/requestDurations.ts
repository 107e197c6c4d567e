/**
 * `http_request_duration_seconds`, the API's one per-request histogram, kept outside prom-client:
 * prom-client validates and hashes the label set on every `observe()`, even on a labelled child,
 * which was the largest item of the per-request instrumentation (~0.8 us of a 48 us
 * `GET /votes/{id}` in a perf profile). Here a series is found once per (route, method, status)
 * and an observation adds to two numbers and one bucket. It renders the same Prometheus text
 * exposition prom-client would, appended to the registry's at scrape time.
 */

export type Recorder = (method: string, status: number, seconds: number) => void;

interface Series {
  readonly labels: string;
  /** Observations per bucket, not cumulative; the last slot is +Inf. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

const escapeLabel = (value: string) =>
  value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

export class RequestDurations {
  readonly #series: Series[] = [];
  readonly #routes = new Map<string, Recorder>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {}

  /** The recorder of one route pattern (e.g. `/votes/:id`); the same one for the same route. */
  route(route: string): Recorder {
    let recorder = this.#routes.get(route);
    if (recorder) return recorder;
    // Per route, series by method then by status: two small map lookups, no string building.
    const byMethod = new Map<string, Map<number, Series>>();
    recorder = (method, status, seconds) => {
      let byStatus = byMethod.get(method);
      if (!byStatus) {
        byStatus = new Map();
        byMethod.set(method, byStatus);
      }
      let series = byStatus.get(status);
      if (!series) {
        series = this.#newSeries(method, route, status);
        byStatus.set(status, series);
      }
      const { buckets } = this;
      let slot = 0;
      while (slot < buckets.length && seconds > (buckets[slot] as number)) slot++;
      series.counts[slot] = (series.counts[slot] as number) + 1;
      series.sum += seconds;
      series.count++;
    };
    this.#routes.set(route, recorder);
    return recorder;
  }

  #newSeries(method: string, route: string, status: number): Series {
    const series: Series = {
      labels: `method="${escapeLabel(method)}",route="${escapeLabel(route)}",status="${status}"`,
      counts: new Float64Array(this.buckets.length + 1),
      sum: 0,
      count: 0,
    };
    this.#series.push(series);
    return series;
  }

  /** The Prometheus text exposition of every series observed so far. */
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const series of this.#series) {
      let cumulative = 0;
      this.buckets.forEach((bound, i) => {
        cumulative += series.counts[i] as number;
        lines.push(`${this.name}_bucket{le="${bound}",${series.labels}} ${cumulative}`);
      });
      lines.push(`${this.name}_bucket{le="+Inf",${series.labels}} ${series.count}`);
      lines.push(`${this.name}_sum{${series.labels}} ${series.sum}`);
      lines.push(`${this.name}_count{${series.labels}} ${series.count}`);
    }
    return `${lines.join("\n")}\n`;
  }
}
