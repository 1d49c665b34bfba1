package io.tailops.local;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.tailops.api.v1alpha1.ProxyClass;
import io.tailops.operator.runtime.OperatorRuntime;
import io.tailops.testkit.tailscale.FakeTailscaleApi;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The README's run command: the operator end to end on this machine. Starts an {@link OperatorEnvironment} (a real
 * kube-apiserver + etcd + controller manager, a control plane, the proxy simulator, the operator); applies the
 * seed guide's examples from {@code examples/}; prints a table of what is exposed and keeps it current until Ctrl-C.
 */
@Command(name = "local-run", mixinStandardHelpOptions = true,
    description = "Run the operator end to end on a local embedded environment.")
public final class LocalRun implements Callable<Integer> {
  @Option(names = "--examples", description = "directory of manifests to apply (default: examples)")
  Path examples = Path.of("examples");

  @Option(names = "--work-dir", description = "where the kubeconfig and logs go (default: local-run)")
  Path workDir = Path.of("local-run");

  @Option(names = "--exit-when-ready", description = "print the table once everything is ready, then stop "
      + "(for scripts and CI)")
  boolean exitWhenReady;

  @Option(names = "--timeout", description = "how long to wait for the examples to be ready (default: 120s)")
  Duration timeout = Duration.ofSeconds(120);

  private final PrintStream out = System.out;

  public static void main(String[] args) {
    System.exit(new CommandLine(new LocalRun()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Files.createDirectories(workDir);
    out.println("==> starting kube-apiserver, etcd and kube-controller-manager (built from Go modules)");
    OperatorEnvironment env = OperatorEnvironment.create();
    env.env("OPERATOR_HOSTNAME", "k3s-tailscale-operator").env("OPERATOR_LOGGING", "info");
    KubernetesClient client = env.client();
    FakeTailscaleApi tailnet = env.tailnet();
    Path kubeconfig = workDir.toAbsolutePath().resolve("kubeconfig");
    Files.copy(env.kube().kubeconfig(), kubeconfig, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    out.println("==> starting the operator (log: " + workDir.resolve("operator.log") + ")");
    OperatorRuntime operator = env.startOperator();

    CountDownLatch stop = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      out.println("\n==> stopping");
      env.close();
      stop.countDown();
    }, "local-run-shutdown"));

    out.println("==> applying " + examples);
    List<HasMetadata> applied = apply(client, examples);
    out.println("    " + applied.size() + " objects");
    long deadline = System.nanoTime() + timeout.toNanos();
    List<Row> rows = List.of();
    while (System.nanoTime() < deadline) {
      rows = rows(client, applied);
      if (rows.stream().allMatch(Row::ready)) {
        break;
      }
      Thread.sleep(500);
    }
    printTable(rows, tailnet);
    out.println();
    out.println("kubectl works against it:  export KUBECONFIG=" + kubeconfig);
    out.println("                           kubectl get svc,ingress -A; kubectl get proxyclass; "
        + "kubectl get sts,secrets -n tailscale");
    out.println("operator metrics:          curl http://127.0.0.1:" + operator.httpPort() + "/metrics");
    if (exitWhenReady) {
      boolean ok = rows.stream().allMatch(Row::ready);
      System.exit(ok ? 0 : 1);
    }
    out.println("Ctrl-C stops everything.");
    List<Row> last = rows;
    while (stop.getCount() > 0) {
      Thread.sleep(2000);
      List<Row> now = rows(client, applied);
      if (!now.equals(last)) {
        out.println();
        printTable(now, tailnet);
        last = now;
      }
    }
    return 0;
  }

  /** Applies every YAML file of {@code dir} in name order (namespaces and ProxyClasses first). */
  static List<HasMetadata> apply(KubernetesClient client, Path dir) throws Exception {
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(p -> p.toString().endsWith(".yaml")).sorted((a, b) -> order(a) - order(b) != 0
          ? order(a) - order(b) : a.compareTo(b)).toList();
    }
    List<HasMetadata> applied = new ArrayList<>();
    for (Path f : files) {
      try (InputStream in = Files.newInputStream(f)) {
        for (HasMetadata obj : client.load(in).items()) {
          applied.add(client.resource(obj).forceConflicts().serverSideApply());
        }
      }
    }
    return applied;
  }

  private static int order(Path p) {
    String n = p.getFileName().toString();
    return n.startsWith("namespace") ? 0 : n.startsWith("proxyclass") ? 1 : 2;
  }

  /** One line of the table. */
  record Row(String resource, String hostname, String ips, String status, boolean ready) {
  }

  static List<Row> rows(KubernetesClient client, List<HasMetadata> applied) {
    List<Row> rows = new ArrayList<>();
    for (HasMetadata obj : applied) {
      String ns = obj.getMetadata().getNamespace();
      String name = obj.getMetadata().getName();
      if (obj instanceof Service) {
        Service svc = client.services().inNamespace(ns).withName(name).get();
        if (svc == null || !exposed(svc)) {
          continue;
        }
        Condition c = svc.getStatus() == null || svc.getStatus().getConditions() == null ? null
            : svc.getStatus().getConditions().stream().filter(x -> "TailscaleProxyReady".equals(x.getType()))
                .findFirst().orElse(null);
        String host = "";
        String ips = "";
        if (c != null && c.getMessage() != null && c.getMessage().contains("tailnet at ")) {
          String where = c.getMessage().substring(c.getMessage().indexOf("tailnet at ") + 11);
          int paren = where.indexOf(" (");
          host = paren < 0 ? where : where.substring(0, paren);
          if (paren >= 0) {
            ips = where.substring(paren + 2, where.indexOf(')', paren));
          }
        }
        if (svc.getStatus().getLoadBalancer() != null && svc.getStatus().getLoadBalancer().getIngress() != null
            && !svc.getStatus().getLoadBalancer().getIngress().isEmpty()) {
          ips = "EXTERNAL-IP " + String.join(", ", svc.getStatus().getLoadBalancer().getIngress().stream()
              .map(i -> i.getIp()).filter(Objects::nonNull).toList());
        }
        boolean ready = c != null && "True".equals(c.getStatus());
        rows.add(new Row("Service " + ns + "/" + name, host, ips, c == null ? "pending" : c.getReason()
            + (ready ? "" : ": " + c.getMessage()), ready));
      } else if (obj instanceof Ingress) {
        Ingress ing = client.network().v1().ingresses().inNamespace(ns).withName(name).get();
        var lb = ing == null || ing.getStatus() == null || ing.getStatus().getLoadBalancer() == null ? null
            : ing.getStatus().getLoadBalancer().getIngress();
        boolean ready = lb != null && !lb.isEmpty();
        rows.add(new Row("Ingress " + ns + "/" + name, ready ? "https://" + lb.get(0).getHostname() : "", "",
            ready ? "Ready (ports " + lb.get(0).getPorts().stream().map(p -> p.getPort().toString()).toList() + ")"
                : "pending", ready));
      } else if ("ProxyClass".equals(obj.getKind())) {
        ProxyClass pc = client.resources(ProxyClass.class).withName(name).get();
        Condition c = pc == null || pc.getStatus() == null ? null : pc.getStatus().getConditions().stream()
            .filter(x -> "ProxyClassReady".equals(x.getType())).findFirst().orElse(null);
        boolean ready = c != null && "True".equals(c.getStatus());
        rows.add(new Row("ProxyClass " + name, "", "", c == null ? "pending" : c.getReason(), ready));
      }
    }
    return rows;
  }

  private static boolean exposed(Service svc) {
    var a = svc.getMetadata().getAnnotations();
    return a != null && "true".equals(a.get("tailscale.com/expose"))
        || "LoadBalancer".equals(svc.getSpec().getType());
  }

  private void printTable(List<Row> rows, FakeTailscaleApi tailnet) {
    int w1 = Math.max(8, rows.stream().mapToInt(r -> r.resource().length()).max().orElse(0));
    int w2 = Math.max(16, rows.stream().mapToInt(r -> r.hostname().length()).max().orElse(0));
    int w3 = Math.max(11, rows.stream().mapToInt(r -> r.ips().length()).max().orElse(0));
    String fmt = "%-" + w1 + "s  %-" + w2 + "s  %-" + w3 + "s  %s%n";
    out.printf(fmt, "RESOURCE", "TAILNET HOSTNAME", "TAILNET IPS", "STATUS");
    for (Row r : rows) {
      out.printf(fmt, r.resource(), r.hostname(), r.ips(), r.status());
    }
    out.println("(" + tailnet.devices().size() + " devices in the tailnet " + tailnet.tailnetDomain() + ")");
  }
}
