package io.tailops.operator.runtime;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.tailops.operator.doctor.Doctor;
import io.tailops.operator.k8s.TailscaleKeys;
import io.tailops.operator.proxy.DerivedNames;
import io.tailops.operator.proxy.DeviceState;
import io.tailops.operator.reconcile.OperatorContext;
import io.tailops.operator.status.ServedParents;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The operator's status page: a plain server-rendered HTML page (no JavaScript, readable on a phone) with what is
 * exposed, each proxy's state and tailnet addresses, the credentials, recent errors, orphaned devices and the
 * {@code doctor} results (the running operator's cached ones, {@link DoctorResults}). Served on the loopback admin
 * port ({@code /status}) and, through the operator's own device, to the tailnet callers {@link StatusPageGate} admits.
 */
public final class StatusPage {
  /** One exposed resource as shown on the page. */
  public record Row(String kind, String namespace, String name, String hostname, String fqdn, List<String> ips,
      String state, String detail, String proxyClass, boolean funnel) {
  }

  private final OperatorContext ctx;
  private final OperatorHealth health;
  private final Supplier<DeviceState> operatorDevice;
  private final Supplier<List<DeviceSweeper.Orphan>> orphans;
  private final Supplier<List<Doctor.Check>> doctor;
  private final Clock clock;

  public StatusPage(OperatorContext ctx, OperatorHealth health, Supplier<DeviceState> operatorDevice,
      Supplier<List<DeviceSweeper.Orphan>> orphans, Supplier<List<Doctor.Check>> doctor) {
    this.ctx = ctx;
    this.health = health;
    this.operatorDevice = operatorDevice;
    this.orphans = orphans;
    this.doctor = doctor;
    this.clock = ctx.clock();
  }

  /**
   * Every parent the operator is asked to serve (of every kind), with or without a proxy, as its last reconcile found
   * it ({@link ServedParents}), with its proxy's tailnet name and addresses.
   */
  public List<Row> rows() {
    KubernetesClient client = ctx.client();
    Map<String, DeviceState> devices = new HashMap<>();
    for (Secret s : client.secrets().inNamespace(ctx.config().namespace())
        .withLabel(TailscaleKeys.LABEL_MANAGED, "true").list().getItems()) {
      var l = s.getMetadata().getLabels();
      devices.put(l.get(TailscaleKeys.LABEL_PARENT_TYPE) + "/" + l.get(TailscaleKeys.LABEL_PARENT_NAMESPACE) + "/"
          + l.get(TailscaleKeys.LABEL_PARENT_NAME), io.tailops.operator.proxy.ReplicaState.of(s).device());
    }
    List<Row> rows = new ArrayList<>();
    for (ServedParents.Entry e : ctx.parents().all()) {
      DeviceState d = e.proxy().isEmpty() ? DeviceState.NONE : devices.getOrDefault(e.parentType() + "/"
          + e.namespace() + "/" + DerivedNames.labelValue(e.name()), DeviceState.NONE);
      String state = switch (e.state()) {
        case READY -> "ready";
        case IGNORED -> "ignored";
        default -> e.reason();
      };
      String detail = e.state() == ServedParents.State.READY ? (e.warnings().isEmpty() ? e.message()
          : e.warnings().get(0).message()) : e.message();
      rows.add(new Row(e.kind(), e.namespace(), e.name(), e.hostname(), d.fqdn(), d.ips(), state, detail,
          e.proxyClass(), e.funnel()));
    }
    rows.sort((a, b) -> (a.namespace() + a.name()).compareTo(b.namespace() + b.name()));
    return rows;
  }

  public String html() {
    OperatorHealth h = health;
    StringBuilder b = new StringBuilder(8192);
    b.append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        .append("<title>").append(esc(ctx.config().operatorHostname())).append(" · Tailscale operator</title>")
        .append("<style>").append(CSS).append("</style></head><body>");
    b.append("<header><h1>").append(esc(ctx.config().operatorHostname())).append("</h1><p class=\"sub\">Tailscale "
        + "operator for Kubernetes · namespace ").append(esc(ctx.config().namespace())).append(" · ")
        .append(h.isLeader() ? "leader" : "standby").append("</p></header>");

    b.append("<section class=\"facts\">");
    String credClass = switch (h.credentialState()) {
      case VALID -> "ok";
      case UNKNOWN -> "pending";
      default -> "fail";
    };
    fact(b, "Credentials", credClass, switch (h.credentialState()) {
      case VALID -> "valid";
      case UNKNOWN -> "not checked yet";
      case INVALID -> "invalid since " + h.credentialsChangedAt() + ": " + h.credentialMessage();
      case UNAVAILABLE -> "unavailable since " + h.credentialsChangedAt() + ": " + h.credentialMessage();
    });
    fact(b, "Control plane", "info", ctx.controlPlane().capabilities().name() + (ctx.config().loginServer().isEmpty()
        ? "" : " at " + ctx.config().loginServer()));
    DeviceState self = operatorDevice.get();
    fact(b, "This device", self.isReady() ? "ok" : "pending", self.isReady() ? self.fqdn() + " "
        + String.join(", ", self.ips()) : "not on the tailnet yet");
    b.append("</section>");

    List<Row> rows = rows();
    long ready = rows.stream().filter(r -> "ready".equals(r.state())).count();
    b.append("<h2>Exposed on the tailnet <span class=\"count\">").append(ready).append(" of ").append(rows.size())
        .append(" ready</span></h2>");
    if (rows.isEmpty()) {
      b.append("<p class=\"empty\">Nothing yet. Annotate a Service with <code>tailscale.com/expose: \"true\"</code>, "
          + "use a LoadBalancer of class <code>tailscale</code>, or an Ingress of class <code>")
          .append(esc(ctx.config().ingressClassName())).append("</code>.</p>");
    } else {
      b.append("<table><thead><tr><th>Resource</th><th>Tailnet name</th><th>Addresses</th><th>State</th></tr></thead>"
          + "<tbody>");
      for (Row r : rows) {
        String cls = "ready".equals(r.state()) ? "ok" : r.state().contains("Pending") || "pending".equals(r.state())
            || "ignored".equals(r.state()) ? "pending" : "fail";
        b.append("<tr><td data-label=\"Resource\"><span class=\"kind\">").append(esc(r.kind())).append("</span> ")
            .append(esc(r.namespace())).append('/').append(esc(r.name()));
        if (r.proxyClass() != null) {
          b.append(" <span class=\"tag\">").append(esc(r.proxyClass())).append("</span>");
        }
        if (r.funnel()) {
          b.append(" <span class=\"tag funnel\">funnel</span>");
        }
        b.append("</td><td data-label=\"Tailnet name\">").append(r.fqdn().isEmpty() ? "<span class=\"muted\">"
            + esc(r.hostname()) + "</span>" : esc(r.fqdn())).append("</td><td data-label=\"Addresses\">")
            .append(esc(String.join(", ", r.ips()))).append("</td><td data-label=\"State\"><span class=\"badge ")
            .append(cls).append("\">").append(esc(r.state())).append("</span>");
        if (!"ready".equals(r.state())) {
          b.append("<div class=\"detail\">").append(esc(r.detail())).append("</div>");
        }
        b.append("</td></tr>");
      }
      b.append("</tbody></table>");
    }

    List<Doctor.Check> checks = doctor.get();
    long failed = checks.stream().filter(c -> c.status() == Doctor.Status.FAIL).count();
    b.append("<h2>Doctor <span class=\"count\">").append(checks.size()).append(" checks, ").append(failed)
        .append(" failed</span></h2><ul class=\"checks\">");
    for (Doctor.Check c : checks) {
      String cls = switch (c.status()) {
        case OK -> "ok";
        case WARN -> "pending";
        case FAIL -> "fail";
      };
      b.append("<li><span class=\"badge ").append(cls).append("\">").append(c.status().name().toLowerCase())
          .append("</span> <strong>").append(esc(c.name())).append("</strong> ").append(esc(c.detail()));
      if (!c.fix().isEmpty()) {
        b.append("<div class=\"detail\">Fix: ").append(esc(c.fix())).append("</div>");
      }
      b.append("</li>");
    }
    b.append("</ul>");

    List<DeviceSweeper.Orphan> orphaned = orphans.get();
    if (!orphaned.isEmpty()) {
      b.append("<h2>Orphaned devices</h2><ul class=\"checks\">");
      for (DeviceSweeper.Orphan o : orphaned) {
        b.append("<li>").append(esc(o.name())).append(" <span class=\"muted\">").append(esc(o.nodeId()))
            .append(" · last seen ").append(esc(String.valueOf(o.lastSeen()))).append(o.deleted() ? " · deleted"
                : o.registered() ? " · reported" : " · not registered by this operator: never deleted").append("</span></li>");
      }
      b.append("</ul>");
    }

    List<OperatorHealth.RecentError> errors = h.recentErrors();
    b.append("<h2>Recent errors</h2>");
    if (errors.isEmpty()) {
      b.append("<p class=\"empty\">None.</p>");
    } else {
      b.append("<ul class=\"checks\">");
      for (OperatorHealth.RecentError e : errors.subList(0, Math.min(20, errors.size()))) {
        b.append("<li><span class=\"muted\">").append(esc(e.at().toString())).append("</span> <strong>")
            .append(esc(e.object())).append("</strong> ").append(esc(e.message())).append("</li>");
      }
      b.append("</ul>");
    }
    b.append("<footer>Rendered ").append(esc(clock.instant().toString())).append(" · <a href=\"metrics\">metrics"
        + "</a> · <a href=\"doctor\">doctor</a></footer></body></html>");
    return b.toString();
  }

  private static void fact(StringBuilder b, String label, String cls, String value) {
    b.append("<div class=\"fact ").append(cls).append("\"><div class=\"label\">").append(esc(label))
        .append("</div><div class=\"value\">").append(esc(value)).append("</div></div>");
  }

  /** HTML-escapes text (names and messages come from users' objects). */
  public static String esc(String s) {
    if (s == null) {
      return "";
    }
    StringBuilder b = new StringBuilder(s.length());
    for (char c : s.toCharArray()) {
      switch (c) {
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '&' -> b.append("&amp;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&#39;");
        default -> b.append(c);
      }
    }
    return b.toString();
  }

  private static final String CSS = """
      :root{--ok:#1a7f37;--pending:#9a6700;--fail:#cf222e;--info:#0969da;--muted:#57606a;--line:#d0d7de}
      *{box-sizing:border-box}body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;
      max-width:1100px;padding:16px;color:#1f2328;background:#fff}h1{margin:0;font-size:1.5em}h2{font-size:1.1em;
      margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}.sub,.muted,.count{color:var(--muted)}
      .count{font-weight:normal;font-size:.9em}.facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(220px,
      1fr));gap:8px;margin-top:16px}.fact{border:1px solid var(--line);border-left:4px solid var(--info);
      border-radius:6px;padding:8px 10px}.fact.ok{border-left-color:var(--ok)}.fact.pending{border-left-color:
      var(--pending)}.fact.fail{border-left-color:var(--fail)}.label{font-size:.8em;color:var(--muted);
      text-transform:uppercase;letter-spacing:.04em}.value{word-break:break-word}table{width:100%;
      border-collapse:collapse}th,td{text-align:left;padding:8px;border-bottom:1px solid var(--line);vertical-align:top;
      word-break:break-word}th{font-size:.85em;color:var(--muted)}.badge{display:inline-block;padding:1px 8px;
      border-radius:10px;font-size:.85em;color:#fff;background:var(--info)}.badge.ok{background:var(--ok)}
      .badge.pending{background:var(--pending)}.badge.fail{background:var(--fail)}.kind{font-size:.8em;
      color:var(--muted)}.tag{font-size:.75em;border:1px solid var(--line);border-radius:4px;padding:0 4px}
      .tag.funnel{border-color:var(--pending);color:var(--pending)}.detail{font-size:.85em;color:var(--muted);
      margin-top:2px}ul.checks{list-style:none;padding:0;margin:0}ul.checks li{padding:6px 0;border-bottom:1px solid
      var(--line)}code{background:#f6f8fa;padding:1px 4px;border-radius:4px}footer{margin-top:32px;font-size:.8em;
      color:var(--muted)}@media (max-width:640px){thead{display:none}tr{display:block;border:1px solid var(--line);
      border-radius:6px;margin-bottom:10px}td{display:block;border:0;padding:4px 10px}td:before{content:
      attr(data-label);display:block;font-size:.75em;color:var(--muted)}}
      """;
}
