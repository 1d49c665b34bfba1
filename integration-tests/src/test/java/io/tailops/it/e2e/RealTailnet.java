package io.tailops.it.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.tailops.local.OperatorEnvironment;
import io.tailops.testkit.headscale.HeadscaleNode;
import io.tailops.testkit.headscale.TailnetBinaries;
import io.tailops.testkit.podrunner.LocalPod;
import io.tailops.testkit.podrunner.LocalPodRunner;
import io.tailops.testkit.podrunner.PodNetwork;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The real tailnet the end-to-end tests share ({@link OperatorEnvironment.Mode#REAL}: real API server, headscale, the
 * local pod runner running the operator's proxies with the real containerboot/tailscaled, the tailnet client, the
 * operator in-process). Started once per test JVM by the first class that uses it and stopped when all tests are done
 * (JUnit's root store); each test class works in namespaces of its own.
 *
 * <p>Skips (never fails) only when the Go-built tailscale/headscale binaries are missing (the message names the build
 * command), and, for the tests that need them, when kernel-mode pods or the pod network are not available here (the
 * message says what is missing). Any other problem fails the tests.
 */
public final class RealTailnet implements BeforeAllCallback {

  private static final Logger log = LoggerFactory.getLogger(RealTailnet.class);

  /** Generous: proxies boot in seconds here, but CI machines are shared. */
  static final Duration TIMEOUT = Duration.ofSeconds(180);

  private static volatile Holder holder;

  private static final class Holder implements ExtensionContext.Store.CloseableResource, AutoCloseable {
    final OperatorEnvironment env;
    final String skip;

    Holder() {
      String reason = null;
      OperatorEnvironment e = null;
      try {
        TailnetBinaries.locate().requireTailscale().requireHeadscale();
      } catch (IllegalStateException ex) {
        reason = "end-to-end tests skipped, the tailscale/headscale binaries are not built (did the Go build "
            + "fail?): " + ex.getMessage();
      }
      if (reason == null && !PodNetwork.probe().bridge()) {
        reason = "end-to-end tests skipped, no pod network on this machine (needed for cluster IPs and proxies): "
            + PodNetwork.probe().reason();
      }
      if (reason == null) {
        // the proxies' logs outlive the run, for the CI report: target/e2e-pod-logs/<runner>/<ns>_<pod>_<uid>.log
        if (System.getProperty(LocalPodRunner.LOG_DIR_PROPERTY) == null) {
          System.setProperty(LocalPodRunner.LOG_DIR_PROPERTY,
              java.nio.file.Path.of("target", "e2e-pod-logs").toAbsolutePath().toString());
        }
        long t0 = System.nanoTime();
        e = OperatorEnvironment.create(OperatorEnvironment.Mode.REAL);
        e.env("OPERATOR_HOSTNAME", "e2e-operator").env("OPERATOR_LOGGING", "info")
            // the sweep that notices devices deleted in the control plane (default every 2 minutes)
            .env("OPERATOR_DEVICE_SWEEP_INTERVAL", "5s")
            // Connectors: the operator approves their routes in headscale, and looks again soon while they wait
            .env("HEADSCALE_APPROVE_ROUTES", "true").env("OPERATOR_ROUTE_CHECK_INTERVAL", "2s");
        e.startOperator();
        log.info("real tailnet for the end-to-end tests ready in {} ms: headscale {}, {}, pod runner logs in {}",
            (System.nanoTime() - t0) / 1_000_000, e.headscale().baseUrl(), e.network(), e.pods().logDir());
      } else {
        log.warn(reason);
      }
      this.env = e;
      this.skip = reason;
    }

    @Override
    public void close() {
      if (env != null) {
        env.close();
      }
    }
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    Holder h = context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
        .getOrComputeIfAbsent(RealTailnet.class, k -> new Holder(), Holder.class);
    holder = h;
    Assumptions.assumeTrue(h.skip == null, h.skip);
  }

  static OperatorEnvironment env() {
    return holder.env;
  }

  /** Skips the calling test unless kernel-mode pods (Service proxies) can run here. */
  static void requireKernelMode() {
    PodNetwork.Support s = PodNetwork.probe();
    Assumptions.assumeTrue(s.kernelMode(), "skipped: kernel-mode proxies (Services with TS_DEST_IP) need a network "
        + "namespace, TUN and netfilter, not available here: " + s.reason());
  }

  // ------------------------------------------------------------------------------------------------ helpers

  static Service clusterIpService(String ns, String name, int port, Map<String, String> annotations) {
    return new ServiceBuilder().withNewMetadata().withNamespace(ns).withName(name).withAnnotations(annotations)
        .endMetadata().withNewSpec().withType("ClusterIP").addToSelector("app", name)
        .addNewPort().withName("http").withPort(port).withNewTargetPort(8080).endPort().endSpec().build();
  }

  static Service service(String ns, String name) {
    return env().client().services().inNamespace(ns).withName(name).get();
  }

  static Optional<Condition> ready(Service svc) {
    if (svc == null || svc.getStatus() == null || svc.getStatus().getConditions() == null) {
      return Optional.empty();
    }
    return svc.getStatus().getConditions().stream().filter(c -> "TailscaleProxyReady".equals(c.getType()))
        .findFirst();
  }

  /** Waits for the Service's TailscaleProxyReady condition to satisfy {@code ok}; returns it. */
  static Condition awaitCondition(String ns, String name, Predicate<Condition> ok, String what) {
    await(what + " on Service " + ns + "/" + name).atMost(TIMEOUT).pollInterval(Duration.ofMillis(500))
        .until(() -> ready(service(ns, name)).filter(ok).isPresent());
    return ready(service(ns, name)).orElseThrow();
  }

  /** The headscale node whose DNS label is {@code givenName}, waiting until there is one that is online. */
  static HeadscaleNode awaitNode(String givenName) {
    return env().headscale().awaitNode(n -> givenName.equals(n.givenName()) && n.online(), "online node "
        + givenName, TIMEOUT);
  }

  static List<HeadscaleNode> nodes() {
    return env().headscale().nodes();
  }

  /** The single proxy StatefulSet's pod name ({@code <sts>-0}). */
  static String proxyPod(String type, String ns, String name) {
    return env().awaitProxy(type, ns, name) + "-0";
  }

  /** The pod the runner runs for a proxy, once containerboot printed "Startup complete". */
  static LocalPod awaitProxyPod(String type, String ns, String name) {
    return env().pods().awaitStartupComplete(proxyPod(type, ns, name), TIMEOUT);
  }

  static Map<String, String> secretData(String secretName) {
    Secret s = env().client().secrets().inNamespace(OperatorEnvironment.NAMESPACE).withName(secretName).get();
    Map<String, String> out = new LinkedHashMap<>();
    if (s != null && s.getData() != null) {
      s.getData().forEach((k, v) -> out.put(k, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
    }
    return out;
  }

  /**
   * GET {@code url} through the tailnet client until it answers 200 (paths take a few seconds to settle after a
   * proxy comes up); returns the response.
   */
  /**
   * A started HTTP server on a loopback port that answers every request with {@code <name> <path>}: the service a
   * tailnet device outside the cluster offers (the caller serves it on the device's tailnet port and stops it).
   */
  static HttpServer loopbackBackend(String name) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", exchange -> {
      byte[] body = (name + " " + exchange.getRequestURI().getPath()).getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    server.start();
    return server;
  }

  static HttpResponse<String> httpGet(String url) {
    HttpResponse<String>[] last = new HttpResponse[1];
    RuntimeException[] error = new RuntimeException[1];
    try {
      await("HTTP 200 from " + url + " through the tailnet client").atMost(TIMEOUT)
          .pollInterval(Duration.ofSeconds(1)).until(() -> {
            try {
              last[0] = env().tailnetClient().httpGet(url, Duration.ofSeconds(10));
              return last[0].statusCode() == 200;
            } catch (RuntimeException e) {
              error[0] = e;
              return false;
            }
          });
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError(e.getMessage() + "; last response: " + (last[0] == null ? "none" : last[0].statusCode()
          + " " + last[0].body()) + (error[0] == null ? "" : "; last error: " + error[0] + " / " + error[0].getCause()),
          e);
    }
    assertThat(last[0].statusCode()).isEqualTo(200);
    return last[0];
  }

  /** The MagicDNS name of a device label, e.g. {@code my-service.tailnet.test}. */
  static String fqdn(String label) {
    return label + "." + env().headscale().baseDomain();
  }
}
