package io.tailops.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** The summary table printed at the end of a run (Markdown: one row per figure, one column per N). */
final class SummaryTable {
  private SummaryTable() {
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

  static String render(List<Map<String, Object>> results) {
    Map<String, Function<Map<String, Object>, String>> rows = new LinkedHashMap<>();
    rows.put("operator start-up to first reconcile, empty cluster", r -> str(get(r,
        "startup_empty_cluster.start_to_first_reconcile_ms")) + " ms");
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
    rows.put("create: reconciles per Service / mean reconcile ms / mean busy reconciler threads (of 8)",
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
    rows.put("idle 15 s: operator writes / Tailscale calls", r -> str(get(r, "idle.work.operator_api_writes_total"))
        + " / " + calls(get(r, "idle.work.tailscale_calls")));
    rows.put("touch resync (label on every Service): writes / Tailscale calls",
        r -> str(get(r, "touch_resync.work.operator_api_writes_total")) + " / "
            + calls(get(r, "touch_resync.work.tailscale_calls")));
    rows.put("delete: device gone per Service, p50/p95/max s", r -> p3(get(r, "delete.per_service.device_gone_ms")));
    rows.put("delete: all devices gone, total", r -> secs(get(r, "delete.total_from_first_delete.all_devices_gone_ms")));
    rows.put("delete: all objects gone, total", r -> secs(get(r, "delete.total_from_first_delete.all_objects_gone_ms")));
    rows.put("delete: reconciles per Service / mean reconcile ms / mean busy reconciler threads (of 8)",
        r -> str(get(r, "delete.operator_reconciles.reconciles_per_service")) + " / "
            + str(get(r, "delete.operator_reconciles.mean_reconcile_ms")) + " / "
            + str(get(r, "delete.operator_reconciles.mean_busy_reconciler_threads")));
    rows.put("delete: device deletes per Service", r -> str(get(r, "delete.work.tailscale_device_deletes_per_service")));
    rows.put("delete: operator API writes per Service (without Events)",
        r -> str(get(r, "delete.work.operator_api_writes_per_service_excluding_events")));
    // One block of rows per restart variant.
    List<String> variants = new ArrayList<>();
    for (Map<String, Object> r : results) {
      Object rs = r.get("restart_resync");
      if (rs instanceof List<?> l) {
        for (Object o : l) {
          String v = str(((Map<?, ?>) o).get("jvm_variant"));
          if (!variants.contains(v)) {
            variants.add(v);
          }
        }
      }
    }
    for (String v : variants) {
      Function<Map<String, Object>, Map<String, Object>> restart = r -> {
        Object rs = r.get("restart_resync");
        if (rs instanceof List<?> l) {
          for (Object o : l) {
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) o;
            if (v.equals(m.get("jvm_variant"))) {
              return m;
            }
          }
        }
        return Map.of();
      };
      rows.put("restart [" + v + "]: to first reconcile / all reconciled", r -> str(get(restart.apply(r),
          "start_to_first_reconcile_ms")) + " ms / " + secs(get(restart.apply(r), "full_resync_ms")));
      rows.put("restart [" + v + "]: writes to Services/Secrets/STS (all writes) / Tailscale calls",
          r -> str(get(restart.apply(r), "work.operator_api_writes_services_secrets_statefulsets")) + " ("
              + str(get(restart.apply(r), "work.operator_api_writes_total")) + ") / "
              + calls(get(restart.apply(r), "work.tailscale_calls")));
      rows.put("footprint [" + v + "]: heap after GC / committed / RSS MiB / threads",
          r -> str(get(restart.apply(r), "footprint.heap_used_after_gc_mib")) + " / "
              + str(get(restart.apply(r), "footprint.heap_committed_mib")) + " / "
              + str(get(restart.apply(r), "footprint.rss_mib")) + " / "
              + str(get(restart.apply(r), "footprint.threads")));
    }
    rows.put("footprint with unrelated Services: heap after GC / RSS MiB",
        r -> get(r, "restart_with_unrelated_services") == null ? "-"
            : str(get(r, "restart_with_unrelated_services.unrelated_services")) + " Svcs: "
                + str(get(r, "restart_with_unrelated_services.footprint.heap_used_after_gc_mib")) + " / "
                + str(get(r, "restart_with_unrelated_services.footprint.rss_mib")));

    StringBuilder sb = new StringBuilder();
    sb.append("| figure |");
    for (Map<String, Object> r : results) {
      sb.append(" N = ").append(r.get("n")).append(" |");
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
