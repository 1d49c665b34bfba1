package io.tailops.operator.runtime;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.tailops.operator.doctor.Doctor;
import io.tailops.operator.k8s.TailscaleKeys;
import io.tailops.operator.status.ServedParents;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Every parent the operator is asked to serve, as doctor reports it: the running operator publishes what each parent's
 * last reconcile found ({@link ServedParents}) in the status ConfigMap's {@value #KEY} (one line per parent that is not
 * simply ready: failed, pending, ignored near misses, ready with a warning; and a count), and doctor, in the operator or
 * as the command, reads it back: one check per such parent, FAIL for a parent that cannot be served. Parents with no
 * proxy at all (an Ingress without a valid backend, an invalid hostname, API errors) are there like the others.
 */
public final class ParentReport {
  /** Key of the status ConfigMap. */
  public static final String KEY = "parents";
  /** At most this many lines in the ConfigMap (the status page lists them all). */
  static final int MAX_LINES = 1000;

  private ParentReport() {
  }

  /** The ConfigMap value: a count, then one line per parent that is not simply ready. */
  public static String text(List<ServedParents.Entry> parents) {
    long ready = parents.stream().filter(e -> e.state() == ServedParents.State.READY).count();
    long pending = parents.stream().filter(e -> e.state() == ServedParents.State.PENDING).count();
    long failed = parents.stream().filter(e -> e.state() == ServedParents.State.FAILED).count();
    long ignored = parents.stream().filter(e -> e.state() == ServedParents.State.IGNORED).count();
    StringBuilder b = new StringBuilder();
    b.append(parents.size() - ignored).append(" asked to be served: ").append(ready).append(" ready, ")
        .append(pending).append(" pending, ").append(failed).append(" failed; ").append(ignored)
        .append(" near misses ignored\n");
    int lines = 0;
    int left = 0;
    for (ServedParents.Entry e : parents) {
      Optional<String> line = line(e);
      if (line.isEmpty()) {
        continue;
      }
      if (lines++ >= MAX_LINES) {
        left++;
        continue;
      }
      b.append(line.get()).append('\n');
    }
    if (left > 0) {
      b.append("... and ").append(left).append(" more (the status page lists them all)\n");
    }
    return b.toString();
  }

  /** {@code fail Ingress ns/name: Reason: message}; empty for a ready parent without warnings. */
  static Optional<String> line(ServedParents.Entry e) {
    String who = e.describe() + ": ";
    return switch (e.state()) {
      case FAILED -> Optional.of("fail " + who + e.reason() + ": " + flat(e.message()));
      case PENDING -> Optional.of("warn " + who + e.reason() + ": " + flat(e.message()));
      case IGNORED -> Optional.of("warn " + who + "ignored: " + e.reason() + ": " + flat(e.message()));
      case READY -> e.warnings().isEmpty() ? Optional.empty() : Optional.of("warn " + who + "ready, but: "
          + e.warnings().get(0).reason() + ": " + flat(e.warnings().get(0).message())
          + (e.warnings().size() > 1 ? " (and " + (e.warnings().size() - 1) + " more warnings in its events)" : ""));
    };
  }

  private static String flat(String s) {
    return s == null ? "" : s.replace('\n', ' ');
  }

  /**
   * Doctor's checks from the published report: one per listed parent, and one summary. Without a report (the operator
   * is not running, or an older version) it says so and falls back to the Services' conditions.
   */
  public static List<Doctor.Check> checks(KubernetesClient client, String namespace) {
    return checks(client, namespace, java.util.Set.of());
  }

  /**
   * The same, without the lines of {@code selfReported} kinds (those with their own doctor checks, such as
   * {@code Connector}: one check per parent, not two).
   */
  public static List<Doctor.Check> checks(KubernetesClient client, String namespace,
      java.util.Set<String> selfReported) {
    List<Doctor.Check> out = new ArrayList<>();
    String report;
    try {
      ConfigMap cm = client.configMaps().inNamespace(namespace).withName(OperatorStatusPublisher.NAME).get();
      report = cm == null || cm.getData() == null ? null : cm.getData().get(KEY);
    } catch (KubernetesClientException e) {
      return List.of(new Doctor.Check("parents", Doctor.Status.WARN, "cannot read ConfigMap " + namespace + "/"
          + OperatorStatusPublisher.NAME + ": " + e.getMessage(), "check RBAC"));
    }
    if (report == null) {
      out.add(new Doctor.Check("parents", Doctor.Status.WARN, "the operator has not published the state of the "
          + "Services and Ingresses it serves (ConfigMap " + namespace + "/" + OperatorStatusPublisher.NAME
          + " has no " + KEY + ")", "make sure the operator is running; meanwhile only the Services' conditions are "
          + "checked"));
      out.addAll(serviceConditions(client));
      return out;
    }
    String[] lines = report.split("\n");
    out.add(new Doctor.Check("parents", Doctor.Status.OK, lines[0], ""));
    for (int i = 1; i < lines.length; i++) {
      String kind = lines[i].contains(" ") ? lines[i].substring(lines[i].indexOf(' ') + 1) : "";
      kind = kind.contains(" ") ? kind.substring(0, kind.indexOf(' ')) : kind;
      if (!selfReported.contains(kind)) {
        check(lines[i]).ifPresent(out::add);
      }
    }
    return out;
  }

  /** A published line as a check ({@code service ns/name}); empty for lines that are not about a parent. */
  static Optional<Doctor.Check> check(String line) {
    int sp = line.indexOf(' ');
    int colon = line.indexOf(": ");
    if (sp < 0 || colon < sp) {
      return Optional.empty();
    }
    String level = line.substring(0, sp);
    String who = line.substring(sp + 1, colon);
    String detail = line.substring(colon + 2);
    int kindEnd = who.indexOf(' ');
    if (kindEnd < 0) {
      return Optional.empty();
    }
    String kind = who.substring(0, kindEnd);
    String name = kind.toLowerCase(Locale.ROOT) + " " + who.substring(kindEnd + 1);
    String target = who.substring(kindEnd + 1);
    String describe = "kubectl describe " + kind.toLowerCase(Locale.ROOT) + " " + (target.contains("/")
        ? "-n " + target.substring(0, target.indexOf('/')) + " " + target.substring(target.indexOf('/') + 1)
        : target);
    if (level.equals("fail")) {
      return Optional.of(new Doctor.Check(name, Doctor.Status.FAIL, "not served: " + detail, "see its events: "
          + describe));
    }
    if (level.equals("warn")) {
      return Optional.of(new Doctor.Check(name, Doctor.Status.WARN, detail, detail.startsWith("ignored: ")
          ? "the message names the accepted form" : "see its events: " + describe));
    }
    return Optional.empty();
  }

  /** The Services whose {@code TailscaleProxyReady} condition is False (without a published report). */
  static List<Doctor.Check> serviceConditions(KubernetesClient client) {
    List<Doctor.Check> out = new ArrayList<>();
    try {
      for (Service svc : client.services().inAnyNamespace().list().getItems()) {
        Optional<Condition> c = svc.getStatus() == null || svc.getStatus().getConditions() == null ? Optional.empty()
            : svc.getStatus().getConditions().stream().filter(x -> TailscaleKeys.CONDITION_PROXY_READY
                .equals(x.getType())).findFirst();
        if (c.isPresent() && "False".equals(c.get().getStatus())) {
          out.add(new Doctor.Check("service " + svc.getMetadata().getNamespace() + "/" + svc.getMetadata().getName(),
              Doctor.Status.WARN, c.get().getReason() + ": " + c.get().getMessage(), "see kubectl describe svc -n "
                  + svc.getMetadata().getNamespace() + " " + svc.getMetadata().getName()));
        }
      }
    } catch (KubernetesClientException e) {
      out.add(new Doctor.Check("services", Doctor.Status.WARN, "cannot list Services: " + e.getMessage(),
          "check RBAC"));
    }
    return out;
  }
}
