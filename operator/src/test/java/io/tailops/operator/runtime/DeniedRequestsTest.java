package io.tailops.operator.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Requests the API server denies are named (verb, resource, namespace), counted and kept; others are not. */
class DeniedRequestsTest {
  private HttpServer server;
  private final AtomicInteger requests = new AtomicInteger();
  private final OperatorMetrics metrics = new OperatorMetrics();
  private final DeniedRequests denied = new DeniedRequests(metrics);
  private KubernetesClient client;

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", x -> {
      requests.incrementAndGet();
      boolean allowed = x.getRequestURI().getPath().contains("/allowed");
      byte[] body = (allowed ? "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"allowed\"}}"
          : "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"Forbidden\",\"code\":403,"
              + "\"message\":\"forbidden\"}").getBytes(StandardCharsets.UTF_8);
      x.getResponseHeaders().set("Content-Type", "application/json");
      x.sendResponseHeaders(allowed ? 200 : 403, body.length);
      x.getResponseBody().write(body);
      x.close();
    });
    server.start();
    client = denied.installOn(new KubernetesClientBuilder().withConfig(new ConfigBuilder()
        .withMasterUrl("http://127.0.0.1:" + server.getAddress().getPort()).withRequestRetryBackoffLimit(0)
        .build())).build();
  }

  @AfterEach
  void stop() {
    client.close();
    server.stop(0);
  }

  @Test
  void deniedRequestsAreNamedCountedAndKept() {
    assertThatThrownBy(() -> client.v1().events().inAnyNamespace().withField("reason", "x").list())
        .isInstanceOf(KubernetesClientException.class);
    assertThatThrownBy(() -> client.services().inNamespace("web").withName("app").get())
        .isInstanceOf(KubernetesClientException.class);
    assertThatThrownBy(() -> client.configMaps().inNamespace("tailscale").resource(new ConfigMapBuilder()
        .withNewMetadata().withName("status").endMetadata().build()).create())
        .isInstanceOf(KubernetesClientException.class);
    assertThatThrownBy(() -> client.services().inNamespace("web").watch(new Watcher<Service>() {
      @Override
      public void eventReceived(Action action, Service resource) {
      }

      @Override
      public void onClose(WatcherException cause) {
      }
    })).isInstanceOf(KubernetesClientException.class);
    client.configMaps().inNamespace("tailscale").withName("allowed").get();

    assertThat(denied.recent()).extracting(d -> d.request().toString()).containsExactly(
        "list events",
        "get services in namespace web named app",
        "create configmaps in namespace tailscale",
        "watch services in namespace web");
    assertThat(denied.total()).isEqualTo(4);
    assertThat(metrics.scrape()).contains("tailscale_operator_kube_requests_denied_total{resource=\"events\","
        + "verb=\"list\"} 1.0");
  }

  @Test
  void attributesFollowTheApiServersRules() {
    assertThat(DeniedRequests.attributes("PATCH", URI.create(
        "https://k/apis/apps/v1/namespaces/tailscale/statefulsets/ts-web-abcde"))).hasToString(
        "patch apps/statefulsets in namespace tailscale named ts-web-abcde");
    assertThat(DeniedRequests.attributes("PUT", URI.create(
        "https://k/apis/tailscale.com/v1alpha1/proxyclasses/prod/status"))).hasToString(
        "update tailscale.com/proxyclasses/status named prod");
    assertThat(DeniedRequests.attributes("GET", URI.create(
        "https://k/api/v1/namespaces/tailscale/secrets?labelSelector=a%3Db&watch=true"))).hasToString(
        "watch secrets in namespace tailscale");
    assertThat(DeniedRequests.attributes("DELETE", URI.create("https://k/api/v1/namespaces/tailscale/pods")))
        .hasToString("deletecollection pods in namespace tailscale");
    assertThat(DeniedRequests.attributes("GET", URI.create("https://k/api/v1/namespaces/web")))
        .hasToString("get namespaces in namespace web named web");
    assertThat(DeniedRequests.attributes("GET", URI.create("https://k/version"))).hasToString("get /version");
  }
}
