package io.tailops.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Order statistics of a set of durations in milliseconds (nearest-rank percentiles). */
record Stats(int count, double min, double p50, double p95, double p99, double max, double mean) {

  static Stats of(Collection<Double> values) {
    List<Double> v = new ArrayList<>(values);
    if (v.isEmpty()) {
      return new Stats(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
    }
    Collections.sort(v);
    double sum = 0;
    for (double d : v) {
      sum += d;
    }
    return new Stats(v.size(), v.get(0), rank(v, 50), rank(v, 95), rank(v, 99), v.get(v.size() - 1), sum / v.size());
  }

  private static double rank(List<Double> sorted, int pct) {
    int idx = (int) Math.ceil(pct / 100.0 * sorted.size()) - 1;
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, idx)));
  }

  Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("count", count);
    m.put("min_ms", round(min));
    m.put("p50_ms", round(p50));
    m.put("p95_ms", round(p95));
    m.put("p99_ms", round(p99));
    m.put("max_ms", round(max));
    m.put("mean_ms", round(mean));
    return m;
  }

  static Object round(double d) {
    if (Double.isNaN(d)) {
      return null;
    }
    return Math.round(d * 10) / 10.0;
  }

  /** "p50 / p95 / max" in seconds, for the summary table. */
  String short3() {
    if (count == 0) {
      return "-";
    }
    return String.format("%.2f / %.2f / %.2f", p50 / 1000, p95 / 1000, max / 1000);
  }
}
