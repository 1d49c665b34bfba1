package io.tailops.local;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.tailops.api.v1alpha1.Connector;
import io.tailops.api.v1alpha1.ConnectorSpec;
import io.tailops.api.v1alpha1.ProxyClass;
import io.tailops.api.v1alpha1.SubnetRouter;
import io.tailops.operator.runtime.OperatorRuntime;
import io.tailops.testkit.podrunner.LocalPodRunner;
import io.tailops.testkit.podrunner.PodNetwork;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The README's run command: the operator end to end on this machine. By default on a real tailnet
 * ({@link OperatorEnvironment.Mode#REAL}): a real kube-apiserver + etcd + controller manager, headscale as the control
 * plane, the operator's proxy Pods run with the real containerboot/tailscaled by the local pod runner, local HTTP
 * backends behind the examples' Services, and a tailnet client whose HTTP proxy reaches them; it applies the seed
 * guide's examples from {@code examples/}, prints a table of what is exposed and, for each example, a {@code curl}
 * through the tailnet client that works from another shell, and keeps the table current until Ctrl-C. With
 * {@code --simulated}: the fake Tailscale API and the proxy simulator instead (no root, no Go-built tailnet binaries).
 */
@Command(name = "local-run", mixinStandardHelpOptions = true,
    description = "Run the operator end to end on a local embedded environment.")
public final class LocalRun implements Callable<Integer> {
  /** Added to every Ingress applied on headscale, which issues no HTTPS certificates. */
  static final String PLAIN_HTTP = "tailscale.com/http";
  static final String TAILNET_FQDN = "tailscale.com/tailnet-fqdn";
  static final String EGRESS_NAMESPACE = "egress-demo";
  static final String EGRESS_NAME = "tailnet-client";

  @Option(names = "--examples", description = "directory of manifests to apply (default: examples)")
  Path examples = Path.of("examples");

  @Option(names = "--work-dir", description = "where the kubeconfig and logs go (default: local-run)")
  Path workDir = Path.of("local-run");

  @Option(names = "--exit-when-ready", description = "print the table once everything is ready (on the real stack: "
      + "and every curl answers), then stop; exit code 0 if so, 1 otherwise (for scripts and CI)")
  boolean exitWhenReady;

  @Option(names = "--simulated", description = "use the fake Tailscale API and the proxy simulator instead of "
      + "headscale and real proxies")
  boolean simulated;

  @Option(names = "--timeout", description = "how long to wait for the examples to be ready (default: 120s "
      + "simulated, 300s real)")
  Duration timeout;

  private final PrintStream out;

  public LocalRun() {
    this(System.out);
  }

  /** A run command that prints to {@code out} (for tests). */
  public LocalRun(PrintStream out) {
    this.out = out;
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new LocalRun()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Files.createDirectories(workDir);
    Duration wait = timeout != null ? timeout : simulated ? Duration.ofSeconds(120) : Duration.ofSeconds(300);
    OperatorEnvironment env;
    if (simulated) {
      out.println("==> starting kube-apiserver, etcd and kube-controller-manager (built from Go modules), the fake "
          + "Tailscale API and the proxy simulator");
      env = OperatorEnvironment.create();
    } else {
      PodNetwork.Support support = PodNetwork.probe();
      out.println("==> starting kube-apiserver, etcd, kube-controller-manager, headscale, the local pod runner "
          + "(real containerboot/tailscaled) and a tailnet client (all built from Go modules)");
      if (!support.kernelMode()) {
        out.println("    note: " + (support.bridge() ? "kernel-mode Service proxies cannot run here (" + support.reason()
            + "); Services stay pending, Ingresses work" : "no pod network here (" + support.reason() + "); use "
            + "--simulated, or run as root"));
      }
      if (System.getProperty(LocalPodRunner.LOG_DIR_PROPERTY) == null) {
        // the proxies' logs stay after the run: <work-dir>/pod-logs/<runner>/<namespace>_<pod>_<uid>.log
        System.setProperty(LocalPodRunner.LOG_DIR_PROPERTY, workDir.toAbsolutePath().resolve("pod-logs").toString());
      }
      env = OperatorEnvironment.create(OperatorEnvironment.Mode.REAL);
      out.println("    headscale " + env.headscale().baseUrl() + " (MagicDNS " + env.headscale().baseDomain()
          + "), pod network " + (env.network() == null ? "none" : env.network().bridge() + " "
          + env.network().podCidr() + ", Services " + env.network().serviceCidr()));
      out.println("    tailnet client " + OperatorEnvironment.CLIENT_HOSTNAME + " (" + env.tailnetClient().ipv4()
          + "), HTTP proxy " + proxyUrl(env));
    }
    CountDownLatch stop = new CountDownLatch(1);
    OperatorEnvironment running = env;
    Thread hook = new Thread(() -> {
      out.println("\n==> stopping");
      running.close();
      stop.countDown();
    }, "local-run-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);

    env.env("OPERATOR_HOSTNAME", "k3s-tailscale-operator").env("OPERATOR_LOGGING", "info");
    // The run's Connector: a subnet router for the pod network, approved by the operator on headscale and by the
    // policy's autoApprovers on the fake tailnet.
    String podRange = env.isReal() && env.network() != null ? env.network().podCidr() : "10.244.0.0/24";
    if (env.isReal()) {
      env.env("HEADSCALE_APPROVE_ROUTES", "true").env("OPERATOR_ROUTE_CHECK_INTERVAL", "5s");
    } else {
      env.tailnet().autoApproveRoutes(podRange, "tag:k8s");
    }
    KubernetesClient client = env.client();
    Path kubeconfig = workDir.toAbsolutePath().resolve("kubeconfig");
    Files.copy(env.kube().kubeconfig(), kubeconfig, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    out.println("==> starting the operator (log: " + workDir.resolve("operator.log") + ")");
    OperatorRuntime operator = env.startOperator();

    out.println("==> applying " + examples);
    List<String> annotated = new ArrayList<>();
    List<HasMetadata> applied = apply(client, examples, env.isReal() ? annotated : null);
    out.println("    " + applied.size() + " objects");
    if (!annotated.isEmpty()) {
      out.println("    headscale issues no HTTPS certificates: added " + PLAIN_HTTP + ": \"true\" to the Ingress"
          + (annotated.size() > 1 ? "es " : " ") + String.join(", ", annotated) + " (served over plain HTTP on port "
          + "80 of the tailnet, still encrypted by WireGuard; the files in " + examples + " are unchanged)");
    }
    applied.add(client.resource(subnetRouter(podRange)).create());
    out.println("==> added the Connector " + CONNECTOR + ": a subnet router for the pod network " + podRange
        + (env.isReal() ? " (the operator approves its route in headscale: HEADSCALE_APPROVE_ROUTES=true)" : ""));
    String podBackend = null;
    if (env.isReal()) {
      startBackends(env, applied);
      if (env.network() != null) {
        podBackend = podNetworkBackend(env);
        env.tailnetClient().tailscale("set", "--accept-routes=true");
        out.println("    a local HTTP server on the pod-network address " + podBackend + ", reached through the "
            + "Connector (the tailnet client accepts routes)");
      }
      applied.add(egressExample(env, client));
    }

    long deadline = System.nanoTime() + wait.toNanos();
    List<Row> rows = List.of();
    while (System.nanoTime() < deadline) {
      rows = rows(client, applied);
      if (rows.stream().allMatch(Row::ready)) {
        break;
      }
      Thread.sleep(500);
    }
    printTable(rows, env);
    boolean curlsOk = true;
    if (env.isReal()) {
      List<Curl> curls = new ArrayList<>(curls(client, applied, rows));
      if (podBackend != null) {
        curls.add(new Curl("Connector " + CONNECTOR + ": a pod-network address through the subnet router",
            "http://" + podBackend + "/", "hello from the pod network"));
      }
      out.println();
      out.println("Try it from another shell (through the tailnet client " + OperatorEnvironment.CLIENT_HOSTNAME
          + "):");
      for (Curl c : curls) {
        boolean ok = verify(env, c, deadline);
        curlsOk &= ok;
        out.println("  # " + c.what() + (ok ? "" : "   (NOT answering yet)"));
        out.println("  curl " + (c.inCluster() ? "" : "--proxy " + proxyUrl(env) + " ") + c.url());
      }
      if (curls.isEmpty()) {
        out.println("  (nothing is exposed yet)");
        curlsOk = false;
      }
    }
    out.println();
    out.println("kubectl works against it:  export KUBECONFIG=" + kubeconfig);
    out.println("                           kubectl get svc,ingress -A; kubectl get proxyclass,connector; "
        + "kubectl get sts,pods,secrets -n tailscale");
    out.println("operator metrics:          curl http://127.0.0.1:" + operator.httpPort() + "/metrics");
    out.println("status page, doctor:       http://127.0.0.1:" + operator.adminPort() + "/status, curl http://127.0.0.1:"
        + operator.adminPort() + "/doctor");
    if (env.isReal()) {
      out.println("proxy logs:                " + env.pods().logDir() + " (one file per pod, kept)");
      out.println("tailnet:                   " + env.pods().binaries().tailscale() + " --socket="
          + env.tailnetClient().socket() + " status");
    }
    if (exitWhenReady) {
      boolean ok = rows.stream().allMatch(Row::ready) && curlsOk;
      Runtime.getRuntime().removeShutdownHook(hook);
      out.println("\n==> stopping");
      env.close();
      return ok ? 0 : 1;
    }
    out.println("Ctrl-C stops everything.");
    List<Row> last = rows;
    while (stop.getCount() > 0) {
      Thread.sleep(2000);
      List<Row> now = rows(client, applied);
      if (!now.equals(last)) {
        out.println();
        printTable(now, env);
        last = now;
      }
    }
    return 0;
  }

  /** Name of the Connector the run adds. */
  static final String CONNECTOR = "local-subnet-router";

  static Connector subnetRouter(String cidr) {
    Connector c = new Connector();
    c.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName(CONNECTOR).build());
    ConnectorSpec spec = new ConnectorSpec();
    spec.setSubnetRouter(new SubnetRouter(List.of(cidr)));
    c.setSpec(spec);
    return c;
  }

  /** An HTTP server on a free pod-network address of this machine; returns {@code address:port}. */
  private static String podNetworkBackend(OperatorEnvironment env) throws java.io.IOException {
    String ip = env.network().podAddress();
    com.sun.net.httpserver.HttpServer server = com.sun.net.httpserver.HttpServer.create(
        new java.net.InetSocketAddress(ip, 0), 0);
    server.createContext("/", exchange -> {
      byte[] body = ("hello from the pod network (" + ip + "), path " + exchange.getRequestURI().getPath() + "\n")
          .getBytes(java.nio.charset.StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, body.length);
      try (var o = exchange.getResponseBody()) {
        o.write(body);
      }
    });
    server.start();
    return ip + ":" + server.getAddress().getPort();
  }

  private static String proxyUrl(OperatorEnvironment env) {
    var a = env.tailnetClient().httpProxyAddress();
    return "http://" + a.getHostString() + ":" + a.getPort();
  }

  /**
   * Applies every YAML file of {@code dir} in name order (namespaces and ProxyClasses first). When {@code plainHttp}
   * is not null, Ingresses get {@value #PLAIN_HTTP}: "true" (their names are added to it).
   */
  static List<HasMetadata> apply(KubernetesClient client, Path dir, List<String> plainHttp) throws Exception {
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(p -> p.toString().endsWith(".yaml")).sorted((a, b) -> order(a) - order(b) != 0
          ? order(a) - order(b) : a.compareTo(b)).toList();
    }
    List<HasMetadata> applied = new ArrayList<>();
    for (Path f : files) {
      try (InputStream in = Files.newInputStream(f)) {
        for (HasMetadata obj : client.load(in).items()) {
          if (plainHttp != null && obj instanceof Ingress ing) {
            Map<String, String> a = new LinkedHashMap<>(ing.getMetadata().getAnnotations() == null ? Map.of()
                : ing.getMetadata().getAnnotations());
            a.put(PLAIN_HTTP, "true");
            ing.getMetadata().setAnnotations(a);
            plainHttp.add(ing.getMetadata().getNamespace() + "/" + ing.getMetadata().getName());
          }
          applied.add(client.resource(obj).forceConflicts().serverSideApply());
        }
      }
    }
    return applied;
  }

  static List<HasMetadata> apply(KubernetesClient client, Path dir) throws Exception {
    return apply(client, dir, null);
  }

  private static int order(Path p) {
    String n = p.getFileName().toString();
    return n.startsWith("namespace") ? 0 : n.startsWith("proxyclass") ? 1 : 2;
  }

  /**
   * The egress example (not in {@code examples/}, which are the seed guide's): the tailnet client serves an HTTP page on
   * its tailnet port 80, and a Service {@value #EGRESS_NAMESPACE}/{@value #EGRESS_NAME} with
   * {@code tailscale.com/tailnet-fqdn} set to its MagicDNS name makes it reachable from the cluster.
   */
  private Service egressExample(OperatorEnvironment env, KubernetesClient client) throws Exception {
    com.sun.net.httpserver.HttpServer page = com.sun.net.httpserver.HttpServer.create(
        new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    page.createContext("/", exchange -> {
      byte[] body = ("hello from the tailnet device " + OperatorEnvironment.CLIENT_HOSTNAME + ", path "
          + exchange.getRequestURI().getPath() + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, body.length);
      try (var o = exchange.getResponseBody()) {
        o.write(body);
      }
    });
    page.start();
    // TCP forwarding: the requests come to the device's tailnet address, not to its MagicDNS name
    env.tailnetClient().tailscale("serve", "--bg", "--tcp=80", "tcp://127.0.0.1:" + page.getAddress().getPort());
    client.resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata()
        .withName(EGRESS_NAMESPACE).endMetadata().build()).serverSideApply();
    String fqdn = env.tailnetClient().fqdn().replaceAll("\\.$", "");
    Service svc = client.resource(new io.fabric8.kubernetes.api.model.ServiceBuilder().withNewMetadata()
        .withNamespace(EGRESS_NAMESPACE).withName(EGRESS_NAME).addToAnnotations(TAILNET_FQDN, fqdn).endMetadata()
        .withNewSpec().addNewPort().withName("http").withPort(80).endPort().endSpec().build()).serverSideApply();
    out.println("    egress example: Service " + EGRESS_NAMESPACE + "/" + EGRESS_NAME + " with " + TAILNET_FQDN + ": "
        + fqdn + " (the tailnet client serves a page on its tailnet port 80)");
    return svc;
  }

  /** A local HTTP backend behind every TCP port of every Service applied (the examples' apps). */
  private void startBackends(OperatorEnvironment env, List<HasMetadata> applied) {
    List<String> started = new ArrayList<>();
    for (HasMetadata obj : applied) {
      if (!(obj instanceof Service svc) || svc.getSpec().getPorts() == null) {
        continue;
      }
      String ns = svc.getMetadata().getNamespace();
      String name = svc.getMetadata().getName();
      for (ServicePort p : svc.getSpec().getPorts()) {
        if (p.getProtocol() != null && !"TCP".equals(p.getProtocol())) {
          continue;
        }
        env.backend(ns, name, p.getPort(), "hello from " + ns + "/" + name + " (port " + p.getPort() + "), path");
        started.add(ns + "/" + name + ":" + p.getPort());
      }
    }
    if (!started.isEmpty()) {
      out.println("    local HTTP backends behind the Services' cluster IPs: " + String.join(", ", started));
    }
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
        if (svc != null && egress(svc)) {
          Condition c = readyCondition(svc);
          boolean ready = c != null && "True".equals(c.getStatus());
          rows.add(new Row("Service " + ns + "/" + name + " (egress)", "-> " + svc.getMetadata().getAnnotations()
              .get(TAILNET_FQDN), ready ? String.join(", ", proxyPodAddresses(client, svc)) : "",
              c == null ? "pending" : c.getReason() + (ready ? "" : ": " + c.getMessage()), ready));
          continue;
        }
        if (svc == null || !exposed(svc)) {
          continue;
        }
        Condition c = readyCondition(svc);
        String host = tailnetHost(c);
        String ips = "";
        if (c != null && c.getMessage() != null && c.getMessage().contains("tailnet at ")) {
          String where = c.getMessage().substring(c.getMessage().indexOf("tailnet at ") + 11);
          int paren = where.indexOf(" (");
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
        boolean http = ready && lb.get(0).getPorts() != null && lb.get(0).getPorts().stream()
            .allMatch(p -> p.getPort() == 80);
        rows.add(new Row("Ingress " + ns + "/" + name, ready ? (http ? "http://" : "https://")
            + lb.get(0).getHostname() : "", "", ready ? "Ready (ports " + lb.get(0).getPorts().stream()
            .map(p -> p.getPort().toString()).toList() + ")" : "pending", ready));
      } else if (obj instanceof Connector) {
        Connector cn = client.resources(Connector.class).withName(name).get();
        Condition c = cn == null || cn.getStatus() == null ? null : cn.getStatus().getConditions().stream()
            .filter(x -> "ConnectorReady".equals(x.getType())).findFirst().orElse(null);
        boolean ready = c != null && "True".equals(c.getStatus());
        String what = cn == null || cn.getStatus() == null ? "" : " (routes " + cn.getStatus().getSubnetRoutes()
            + (Boolean.TRUE.equals(cn.getStatus().getIsExitNode()) ? ", exit node" : "") + ")";
        rows.add(new Row("Connector " + name, cn == null || cn.getStatus() == null
            || cn.getStatus().getHostname() == null ? "" : cn.getStatus().getHostname(), cn == null
            || cn.getStatus() == null || cn.getStatus().getTailnetIPs() == null ? ""
            : String.join(", ", cn.getStatus().getTailnetIPs()), c == null ? "pending" : c.getReason()
            + (ready ? what : ": " + c.getMessage()), ready));
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

  private static Condition readyCondition(Service svc) {
    return svc.getStatus() == null || svc.getStatus().getConditions() == null ? null
        : svc.getStatus().getConditions().stream().filter(x -> "TailscaleProxyReady".equals(x.getType()))
            .findFirst().orElse(null);
  }

  /** The MagicDNS name in the Service's ready condition ("... reachable on the tailnet at NAME (IPS)"). */
  private static String tailnetHost(Condition c) {
    if (c == null || c.getMessage() == null || !c.getMessage().contains("tailnet at ")) {
      return "";
    }
    String where = c.getMessage().substring(c.getMessage().indexOf("tailnet at ") + 11);
    int paren = where.indexOf(" (");
    int semi = where.indexOf(';');
    int end = paren >= 0 ? paren : semi >= 0 ? semi : where.length();
    return where.substring(0, end).strip();
  }

  private static boolean egress(Service svc) {
    var a = svc.getMetadata().getAnnotations();
    return a != null && a.containsKey(TAILNET_FQDN);
  }

  /**
   * What the cluster's DNS answers for an egress Service: its ExternalName is the proxy's headless Service, whose name
   * resolves to the ready addresses of its EndpointSlices (the proxy pod).
   */
  static List<String> proxyPodAddresses(KubernetesClient client, Service svc) {
    String ext = svc.getSpec().getExternalName();
    if (!"ExternalName".equals(svc.getSpec().getType()) || ext == null) {
      return List.of();
    }
    String[] parts = ext.split("\\.");
    return client.discovery().v1().endpointSlices().inNamespace(parts[1])
        .withLabel("kubernetes.io/service-name", parts[0]).list().getItems().stream()
        .flatMap(es -> es.getEndpoints().stream())
        .filter(e -> e.getConditions() == null || !Boolean.FALSE.equals(e.getConditions().getReady()))
        .flatMap(e -> e.getAddresses().stream()).toList();
  }

  private static boolean exposed(Service svc) {
    var a = svc.getMetadata().getAnnotations();
    return a != null && "true".equals(a.get("tailscale.com/expose"))
        || "LoadBalancer".equals(svc.getSpec().getType());
  }

  /**
   * A request that should work through the tailnet client (or, {@code inCluster}, from a pod in the cluster, as this
   * machine is on the pod network), and what it shows.
   */
  record Curl(String what, String url, String expect, boolean inCluster) {
    Curl(String what, String url, String expect) {
      this(what, url, expect, false);
    }
  }

  /** For every exposed example: its URL on the tailnet (by MagicDNS name), per Service port or Ingress. */
  static List<Curl> curls(KubernetesClient client, List<HasMetadata> applied, List<Row> rows) {
    List<Curl> out = new ArrayList<>();
    for (HasMetadata obj : applied) {
      String ns = obj.getMetadata().getNamespace();
      String name = obj.getMetadata().getName();
      if (obj instanceof Service) {
        Service svc = client.services().inNamespace(ns).withName(name).get();
        if (svc != null && egress(svc)) {
          for (String address : proxyPodAddresses(client, svc)) {
            out.add(new Curl("Service " + ns + "/" + name + " (egress to " + svc.getMetadata().getAnnotations()
                .get(TAILNET_FQDN) + ") from a pod: " + name + "." + ns + " resolves to the egress proxy pod "
                + address, "http://" + address + ":80/", "hello from the tailnet device", true));
          }
          continue;
        }
        if (svc == null || !exposed(svc)) {
          continue;
        }
        String host = tailnetHost(readyCondition(svc));
        if (host.isEmpty() || svc.getSpec().getPorts() == null) {
          continue;
        }
        boolean funnel = svc.getMetadata().getAnnotations() != null
            && "true".equals(svc.getMetadata().getAnnotations().get("tailscale.com/funnel"));
        for (ServicePort p : svc.getSpec().getPorts()) {
          String what = "Service " + ns + "/" + name + " port " + p.getPort()
              + ("LoadBalancer".equals(svc.getSpec().getType()) ? " (LoadBalancer)" : "")
              + (funnel ? ", plain HTTP to the backend (headscale has no Funnel or HTTPS)" : "");
          out.add(new Curl(what, "http://" + host + ":" + p.getPort() + "/", "hello from " + ns + "/" + name));
        }
      } else if (obj instanceof Ingress) {
        Ingress ing = client.network().v1().ingresses().inNamespace(ns).withName(name).get();
        var lb = ing == null || ing.getStatus() == null || ing.getStatus().getLoadBalancer() == null ? null
            : ing.getStatus().getLoadBalancer().getIngress();
        if (lb == null || lb.isEmpty() || lb.get(0).getHostname() == null) {
          continue;
        }
        boolean http = lb.get(0).getPorts() != null && lb.get(0).getPorts().stream().allMatch(p -> p.getPort() == 80);
        out.add(new Curl("Ingress " + ns + "/" + name + (http ? " (plain HTTP on port 80)" : ""),
            (http ? "http://" : "https://") + lb.get(0).getHostname() + "/", "hello from "));
      }
    }
    return out;
  }

  /** Requests {@code c.url()} through the tailnet client until it answers 200 with the backend's text. */
  private static boolean verify(OperatorEnvironment env, Curl c, long deadlineNanos) {
    long until = Math.max(deadlineNanos, System.nanoTime() + Duration.ofSeconds(30).toNanos());
    while (true) {
      try {
        HttpResponse<String> r = c.inCluster() ? java.net.http.HttpClient.newHttpClient().send(
            java.net.http.HttpRequest.newBuilder(java.net.URI.create(c.url())).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofString()) : env.tailnetClient().httpGet(c.url(), Duration.ofSeconds(10));
        if (r.statusCode() == 200 && r.body().contains(c.expect())) {
          return true;
        }
      } catch (java.io.IOException | RuntimeException e) {
        // not yet
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
      if (System.nanoTime() > until) {
        return false;
      }
      try {
        Thread.sleep(1000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
  }

  private void printTable(List<Row> rows, OperatorEnvironment env) {
    int w1 = Math.max(8, rows.stream().mapToInt(r -> r.resource().length()).max().orElse(0));
    int w2 = Math.max(16, rows.stream().mapToInt(r -> r.hostname().length()).max().orElse(0));
    int w3 = Math.max(11, rows.stream().mapToInt(r -> r.ips().length()).max().orElse(0));
    String fmt = "%-" + w1 + "s  %-" + w2 + "s  %-" + w3 + "s  %s%n";
    out.printf(fmt, "RESOURCE", "TAILNET HOSTNAME", "TAILNET IPS", "STATUS");
    for (Row r : rows) {
      out.printf(fmt, r.resource(), r.hostname(), r.ips(), r.status());
    }
    if (env.isReal()) {
      int nodes;
      try {
        nodes = env.headscale().nodes().size();
      } catch (RuntimeException e) {
        nodes = -1;
      }
      out.println("(" + (nodes < 0 ? "?" : Integer.toString(nodes)) + " nodes in the headscale tailnet "
          + env.headscale().baseDomain() + ", " + env.pods().pods().size() + " proxy pods running)");
    } else {
      out.println("(" + env.tailnet().devices().size() + " devices in the tailnet " + env.tailnet().tailnetDomain()
          + ")");
    }
  }
}
