/**
 * A prom-client Histogram with one label whose values are known up front
 * (Check's outcomes), observed by index into plain arrays: prom-client's
 * own `observe`, even on a child from `labels()`, validates the labels,
 * hashes them into a string and looks that up on every call — about a
 * microsecond of each Check. The counts are read at scrape time and
 * reported in the shape prom-client's histogram reports (label sets in the
 * order they were first observed, cumulative buckets, `+Inf`, sum, count);
 * a test holds the scrape text equal to a prom-client Histogram fed the
 * same values. Registered like any prom-client metric.
 */
import { Histogram, type Registry } from "prom-client";

export interface OutcomeHistogramConfig<V extends string> {
  readonly name: string;
  readonly help: string;
  /** The label's name, and every value it can take (observeAt takes an index into them). */
  readonly label: string;
  readonly values: readonly V[];
  /** Upper bounds, increasing. */
  readonly buckets: readonly number[];
  readonly registers: Registry[];
}

/** One value of a prom-client metric as the registry formats it. */
interface ExportedValue {
  readonly labels: Record<string, string | number>;
  readonly sharedLabels: Record<string, string>;
  readonly value: number;
  readonly metricName: string;
  readonly exemplar: null | undefined;
}

export class OutcomeHistogram<V extends string> extends Histogram {
  readonly #name: string;
  readonly #help: string;
  readonly #label: string;
  readonly #values: readonly V[];
  readonly #bounds: readonly number[];
  /** Per label value: observations per bucket, not cumulative; the last slot counts those above every bound. */
  #counts: Float64Array[];
  #sums: Float64Array;
  /** Which label values were observed since the last reset. */
  #seen: Uint8Array;
  /** Label values in the order they were first observed (what prom-client lists). */
  #order: number[] = [];

  constructor(config: OutcomeHistogramConfig<V>) {
    super({ name: config.name, help: config.help, labelNames: [config.label], buckets: [...config.buckets], registers: config.registers });
    this.#name = config.name;
    this.#help = config.help;
    this.#label = config.label;
    this.#values = config.values;
    this.#bounds = [...config.buckets];
    this.#counts = config.values.map(() => new Float64Array(config.buckets.length + 1));
    this.#sums = new Float64Array(config.values.length);
    this.#seen = new Uint8Array(config.values.length);
  }

  /** The index of `value` for observeAt, or -1 when it is not one of the label's values. */
  indexOf(value: V): number {
    return this.#values.indexOf(value);
  }

  /** One observation under the label value at `index`. Non-finite values are ignored (prom-client would throw). */
  observeAt(index: number, value: number): void {
    const counts = this.#counts[index];
    if (counts === undefined || !Number.isFinite(value)) return;
    let b = 0;
    while (b < this.#bounds.length && value > (this.#bounds[b] ?? 0)) b++;
    if (this.#seen[index] === 0) {
      this.#seen[index] = 1;
      this.#order.push(index);
    }
    counts[b] = (counts[b] ?? 0) + 1;
    this.#sums[index] = (this.#sums[index] ?? 0) + value;
  }

  override reset(): void {
    super.reset();
    // prom-client's constructor calls reset before this class's fields exist.
    if (!(#seen in this)) return;
    this.#counts = this.#values.map(() => new Float64Array(this.#bounds.length + 1));
    this.#sums = new Float64Array(this.#values.length);
    this.#seen = new Uint8Array(this.#values.length);
    this.#order = [];
  }

  /** What the registry formats (prom-client's Histogram reports through this method; its get() reads it too). */
  async getForPromString(): Promise<{ name: string; help: string; type: "histogram"; values: ExportedValue[]; aggregator: "sum" }> {
    await Promise.resolve();
    const values: ExportedValue[] = [];
    for (const index of this.#order) values.push(...this.#export(index));
    return { name: this.#name, help: this.#help, type: "histogram", values, aggregator: "sum" };
  }

  #export(index: number): ExportedValue[] {
    const shared = { [this.#label]: this.#values[index] ?? "" };
    const counts = this.#counts[index] ?? new Float64Array(0);
    const out: ExportedValue[] = [];
    let cumulative = 0;
    this.#bounds.forEach((bound, b) => {
      cumulative += counts[b] ?? 0;
      out.push({ labels: { le: bound }, sharedLabels: shared, value: cumulative, metricName: `${this.#name}_bucket`, exemplar: null });
    });
    const count = cumulative + (counts[this.#bounds.length] ?? 0);
    out.push({ labels: { le: "+Inf" }, sharedLabels: shared, value: count, metricName: `${this.#name}_bucket`, exemplar: null });
    out.push({ labels: {}, sharedLabels: shared, value: this.#sums[index] ?? 0, metricName: `${this.#name}_sum`, exemplar: undefined });
    out.push({ labels: {}, sharedLabels: shared, value: count, metricName: `${this.#name}_count`, exemplar: undefined });
    return out;
  }
}
