import { Counter, Gauge, type Registry } from "prom-client";

export interface CounterConfig<T extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly T[];
}

/**
 * The counter `name` of `registry`, registered by the first caller: parts
 * that share a registry (two gRPC ports, an app and its server) count into
 * one metric instead of failing on a second registration.
 */
export function sharedCounter<T extends string>(registry: Registry, config: CounterConfig<T>): Counter<T> {
  const existing = registry.getSingleMetric(config.name);
  if (existing instanceof Counter) return existing;
  return new Counter({ name: config.name, help: config.help, labelNames: config.labelNames, registers: [registry] });
}

/** The gauge `name` of `registry`, registered by the first caller (see sharedCounter). */
export function sharedGauge<T extends string>(registry: Registry, config: CounterConfig<T>): Gauge<T> {
  const existing = registry.getSingleMetric(config.name);
  if (existing instanceof Gauge) return existing;
  return new Gauge({ name: config.name, help: config.help, labelNames: config.labelNames, registers: [registry] });
}
