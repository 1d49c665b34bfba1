package io.tailops.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The tables printed at the end of a run (Markdown): per N, the comparison of every variant with the official
 * operator and the ratios; then every figure, one column per N and variant. Also renders a results JSON again
 * ({@link #main}).
 */
final class SummaryTable {
  private SummaryTable() {
  }

  /** Prints the tables of results JSON files: {@code SummaryTable results-...-n100.json results-...-n1000.json}. */
  @SuppressWarnings("unchecked")
  public static void main(String[] args) throws java.io.IOException {
    com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
    List<Map<String, Object>> results = new ArrayList<>();
    for (String a : args) {
      results.add(json.readValue(new java.io.File(a), Map.class));
    }
    System.out.println(render(results));
  }

  @SuppressWarnings("unchecked")
  static Object get(Map<String, Object> m, String path) {
    Object cur = m;
    for (String p : path.split("\\.")) {
      if (!(cur instanceof Map)) {
        return null;
      }
      cur = ((Map<String, Object>) cur).get(p);
    }
    return cur;
  }

  static String secs(Object ms) {
    return ms instanceof Number n ? String.format("%.1f s", n.doubleValue() / 1000) : "-";
  }

  static String p3(Object stats) {
    if (!(stats instanceof Map<?, ?> s) || s.get("p50_ms") == null) {
      return "-";
    }
    return String.format("%.2f / %.2f / %.2f", num(s.get("p50_ms")) / 1000, num(s.get("p95_ms")) / 1000,
        num(s.get("max_ms")) / 1000);
  }

  static double num(Object o) {
    return o instanceof Number n ? n.doubleValue() : Double.NaN;
  }

  /** Tailscale calls as "3 (POST keys 3)". */
  static String calls(Object map) {
    if (!(map instanceof Map<?, ?> m)) {
      return "-";
    }
    long total = 0;
    List<String> parts = new ArrayList<>();
    for (Map.Entry<?, ?> e : m.entrySet()) {
      long c = (long) num(e.getValue());
      total += c;
      String k = e.getKey().toString().replace("/api/v2/", "").replace("tailnet/-/", "");
      parts.add(k + " " + c);
    }
    return total + (parts.isEmpty() ? "" : " (" + String.join(", ", parts) + ")");
  }

  static String str(Object o) {
    return o == null ? "-" : o.toString();
  }

  /** A figure of the comparison table: its name, where it is in a run's map, and how it is shown. */
  record Figure(String name, String path, Function<Object, String> format) {
  }

  /** The rows of the comparison with the official operator (issue 21's table). */
  static final List<Figure> COMPARISON = List.of(
      new Figure("every Service has its LB IP", "create.total_from_first_create.all_lb_ips_ms", SummaryTable::secs),
      new Figure("client sends the N creates", "create.client_create_duration_ms", SummaryTable::secs),
      new Figure("operator writes per Service created (excl. Events)",
          "create.work.operator_api_writes_per_service_excluding_events", SummaryTable::str),
      new Figure("operator reads while creating (total)", "create.work.operator_api_reads_total", SummaryTable::str),
      new Figure("key mints per Service", "create.work.tailscale_key_mints_per_service", SummaryTable::str),
      new Figure("writes on a restart resync", "restart_resync.work.operator_api_writes_total", SummaryTable::str),
      new Figure("operator CPU while creating (user+sys)", "create.operator_process.operator_cpu_seconds",
          o -> o instanceof Number n ? String.format("%.2f s", n.doubleValue()) : "-"),
      new Figure("operator CPU per Service created", "create.operator_process.operator_cpu_ms_per_service",
          o -> o instanceof Number n ? String.format("%.1f ms", n.doubleValue()) : "-"),
      new Figure("RSS after creating, " + Benchmark.IDLE_SECONDS + " s idle", "idle_after_create.footprint.rss_mib",
          SummaryTable::mib),
      new Figure("of which file-backed (binary, libraries, mapped archive)", "idle_after_create.footprint.rss_file_mib",
          SummaryTable::mib),
      new Figure("RSS right after start-up (canary reconciled, 3 s quiet)",
          "startup_empty_cluster.footprint_after_startup.rss_mib", SummaryTable::mib),
      new Figure("peak RSS (create, idle)", "idle_after_create.footprint.rss_peak_mib", SummaryTable::mib),
      new Figure("threads after creating", "idle_after_create.footprint.threads", SummaryTable::str),
      new Figure("spawn → first reconcile", "startup_empty_cluster.start_to_first_reconcile_ms", SummaryTable::secs),
      new Figure("spawn → first proxy StatefulSet", "startup_empty_cluster.start_to_first_statefulset_ms",
          SummaryTable::secs),
      new Figure("restart: spawn → every Service reconciled", "restart_resync.full_resync_ms", SummaryTable::secs),
      new Figure("delete: every device gone", "delete.total_from_first_delete.all_devices_gone_ms",
          SummaryTable::secs),
      new Figure("delete: devices gone when the delete phase was cut short", "delete.devices_gone",
          SummaryTable::str));

  static String mib(Object o) {
    return o instanceof Number n ? String.format("%.0f MiB", n.doubleValue()) : "-";
  }

  /** ours / official, e.g. "0.45×"; "-" when either is missing or the official figure is 0. */
  static String ratio(Object ours, Object official) {
    if (!(ours instanceof Number a) || !(official instanceof Number b)) {
      return "-";
    }
    if (b.doubleValue() == 0) {
      return a.doubleValue() == 0 ? "=" : "-";
    }
    return String.format("%.2f×", a.doubleValue() / b.doubleValue());
  }

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> runs(Map<String, Object> perN) {
    Object r = perN.get("runs");
    return r instanceof List<?> l ? (List<Map<String, Object>>) l : List.of();
  }

  /**
   * For each N: the comparison table (one column per operator variant, then, with the official operator in the run,
   * ours / official for each of ours); then the detailed table of every figure (one column per N and variant).
   */
  static String render(List<Map<String, Object>> results) {
    StringBuilder sb = new StringBuilder();
    for (Map<String, Object> perN : results) {
      List<Map<String, Object>> runs = runs(perN);
      Map<String, Object> official = runs.stream().filter(r -> "official".equals(r.get("operator"))).findFirst()
          .orElse(null);
      List<Map<String, Object>> ours = runs.stream().filter(r -> "ours".equals(r.get("operator"))).toList();
      sb.append("N = ").append(perN.get("n")).append(" (load average at start ")
          .append(str(get(perN, "machine.load_average_at_start"))).append(", at end ")
          .append(str(perN.get("load_average_at_end"))).append(")\n\n| figure |");
      runs.forEach(r -> sb.append(' ').append(r.get("variant")).append(" |"));
      if (official != null) {
        ours.forEach(r -> sb.append(' ').append(r.get("variant")).append(" / official |"));
      }
      sb.append("\n|---|");
      runs.forEach(r -> sb.append("---|"));
      if (official != null) {
        ours.forEach(r -> sb.append("---|"));
      }
      sb.append('\n');
      for (Figure f : COMPARISON) {
        sb.append("| ").append(f.name()).append(" |");
        for (Map<String, Object> r : runs) {
          sb.append(' ').append(f.format().apply(get(r, f.path()))).append(" |");
        }
        if (official != null) {
          for (Map<String, Object> r : ours) {
            sb.append(' ').append(ratio(get(r, f.path()), get(official, f.path()))).append(" |");
          }
        }
        sb.append('\n');
      }
      sb.append('\n');
    }
    List<Map<String, Object>> columns = new ArrayList<>();
    for (Map<String, Object> perN : results) {
      columns.addAll(runs(perN));
    }
    sb.append(details(columns));
    return sb.toString();
  }

  /** Every figure, one column per run (N and variant). */
  static String details(List<Map<String, Object>> results) {
    Map<String, Function<Map<String, Object>, String>> rows = new LinkedHashMap<>();
    rows.put("start-up to first reconcile / first StatefulSet, empty cluster", r -> secs(get(r,
        "startup_empty_cluster.start_to_first_reconcile_ms")) + " / " + secs(get(r,
        "startup_empty_cluster.start_to_first_statefulset_ms")));
    rows.put("after start-up: RSS MiB / threads / CPU s", r -> str(get(r,
        "startup_empty_cluster.footprint_after_startup.rss_mib")) + " / " + str(get(r,
        "startup_empty_cluster.footprint_after_startup.threads")) + " / " + str(get(r,
        "startup_empty_cluster.footprint_after_startup.cpu_seconds")));
    rows.put("create: client sends N creates", r -> secs(get(r, "create.client_create_duration_ms")));
    rows.put("create: objects (STS+Secret+headless Svc) per Service, p50/p95/max s",
        r -> p3(get(r, "create.per_service.objects_ms")));
    rows.put("create: all objects, total", r -> secs(get(r, "create.total_from_first_create.all_objects_ms")));
    rows.put("create: device reported (simulator) per Service, p50/p95/max s",
        r -> p3(get(r, "create.per_service.device_reported_ms")));
    rows.put("create: all devices reported, total",
        r -> secs(get(r, "create.total_from_first_create.all_devices_reported_ms")));
    rows.put("create: LB IP per Service, p50/p95/max s", r -> p3(get(r, "create.per_service.lb_ip_ms")));
    rows.put("create: LB IP after device reported (operator), p50/p95/max s",
        r -> p3(get(r, "create.per_service.operator_share_after_device_ms (lb ip - device reported)")));
    rows.put("create: all LB IPs, total", r -> secs(get(r, "create.total_from_first_create.all_lb_ips_ms")));
    rows.put("create: operator CPU s until all LB IPs / until quiet / ms per Service", r -> str(get(r,
        "create.operator_process.operator_cpu_seconds_until_all_lb_ips")) + " / " + str(get(r,
        "create.operator_process.operator_cpu_seconds")) + " / " + str(get(r,
        "create.operator_process.operator_cpu_ms_per_service")));
    rows.put("create: reconciles per Service / mean reconcile ms / mean busy reconciler threads",
        r -> str(get(r, "create.operator_reconciles.reconciles_per_service")) + " / "
            + str(get(r, "create.operator_reconciles.mean_reconcile_ms")) + " / "
            + str(get(r, "create.operator_reconciles.mean_busy_reconciler_threads")));
    rows.put("create: operator API writes per Service (without Events)",
        r -> str(get(r, "create.work.operator_api_writes_per_service_excluding_events")) + " ("
            + str(get(r, "create.work.operator_api_writes_per_service")) + ")");
    rows.put("create: operator API reads (GET/LIST/WATCH), total",
        r -> str(get(r, "create.work.operator_api_reads_total")));
    rows.put("create: key mints per Service", r -> str(get(r, "create.work.tailscale_key_mints_per_service")));
    rows.put("create: Tailscale calls per Service (no token/sweep)",
        r -> str(get(r, "create.work.tailscale_calls_per_service_excluding_token_and_sweep")));
    rows.put("idle " + Benchmark.IDLE_SECONDS + " s: operator writes / Tailscale calls / CPU s",
        r -> str(get(r, "idle_after_create.work.operator_api_writes_total")) + " / "
            + calls(get(r, "idle_after_create.work.tailscale_calls")) + " / "
            + str(get(r, "idle_after_create.operator_cpu_seconds")));
    rows.put("idle: heap MiB / RSS MiB / peak RSS MiB / threads",
        r -> str(get(r, "idle_after_create.footprint.heap_used_mib")) + " / "
            + str(get(r, "idle_after_create.footprint.rss_mib")) + " / "
            + str(get(r, "idle_after_create.footprint.rss_peak_mib")) + " / "
            + str(get(r, "idle_after_create.footprint.threads")));
    rows.put("restart: to first reconcile / all reconciled", r -> secs(get(r,
        "restart_resync.start_to_first_reconcile_ms")) + " / " + secs(get(r, "restart_resync.full_resync_ms")));
    rows.put("restart: writes to Services/Secrets/STS (all writes) / Tailscale calls",
        r -> str(get(r, "restart_resync.work.operator_api_writes_services_secrets_statefulsets")) + " ("
            + str(get(r, "restart_resync.work.operator_api_writes_total")) + ") / "
            + calls(get(r, "restart_resync.work.tailscale_calls")));
    rows.put("restart: heap after GC / committed / RSS MiB / threads",
        r -> str(get(r, "restart_resync.footprint.heap_used_after_gc_mib")) + " / "
            + str(get(r, "restart_resync.footprint.heap_committed_mib")) + " / "
            + str(get(r, "restart_resync.footprint.rss_mib")) + " / "
            + str(get(r, "restart_resync.footprint.threads")));
    rows.put("touch resync (label on every Service): writes / Tailscale calls / CPU s",
        r -> str(get(r, "touch_resync.work.operator_api_writes_total")) + " / "
            + calls(get(r, "touch_resync.work.tailscale_calls")) + " / "
            + str(get(r, "touch_resync.operator_cpu_seconds")));
    rows.put("delete: device gone per Service, p50/p95/max s", r -> p3(get(r, "delete.per_service.device_gone_ms")));
    rows.put("delete: all devices gone, total", r -> secs(get(r, "delete.total_from_first_delete.all_devices_gone_ms")));
    rows.put("delete: all objects gone, total", r -> secs(get(r, "delete.total_from_first_delete.all_objects_gone_ms")));
    rows.put("delete: reconciles per Service / mean reconcile ms / mean busy reconciler threads",
        r -> str(get(r, "delete.operator_reconciles.reconciles_per_service")) + " / "
            + str(get(r, "delete.operator_reconciles.mean_reconcile_ms")) + " / "
            + str(get(r, "delete.operator_reconciles.mean_busy_reconciler_threads")));
    rows.put("delete: device deletes per Service / operator CPU s",
        r -> str(get(r, "delete.work.tailscale_device_deletes_per_service")) + " / "
            + str(get(r, "delete.operator_cpu_seconds")));
    rows.put("delete: operator API writes per Service (without Events)",
        r -> str(get(r, "delete.work.operator_api_writes_per_service_excluding_events")));
    rows.put("footprint with unrelated Services: heap after GC / RSS MiB",
        r -> get(r, "restart_with_unrelated_services") == null ? "-"
            : str(get(r, "restart_with_unrelated_services.unrelated_services")) + " Svcs: "
                + str(get(r, "restart_with_unrelated_services.footprint.heap_used_after_gc_mib")) + " / "
                + str(get(r, "restart_with_unrelated_services.footprint.rss_mib")));

    StringBuilder sb = new StringBuilder();
    sb.append("| figure |");
    for (Map<String, Object> r : results) {
      sb.append(" N = ").append(r.get("n")).append(' ').append(r.get("variant")).append(" |");
    }
    sb.append("\n|---|");
    results.forEach(r -> sb.append("---|"));
    sb.append('\n');
    rows.forEach((name, f) -> {
      sb.append("| ").append(name).append(" |");
      for (Map<String, Object> r : results) {
        String cell;
        try {
          cell = f.apply(r);
        } catch (RuntimeException e) {
          cell = "-";
        }
        sb.append(' ').append(cell).append(" |");
      }
      sb.append('\n');
    });
    return sb.toString();
  }
}
