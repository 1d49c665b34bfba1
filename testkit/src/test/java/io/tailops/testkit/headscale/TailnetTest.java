package io.tailops.testkit.headscale;

import io.tailops.testkit.WatchedProcess;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import com.sun.net.httpserver.HttpServer;

/**
 * Two real tailscaled nodes on one headscale: a client with SOCKS5 and HTTP proxies, and a "service" node that
 * exposes a Java HTTP server on the tailnet with a plain-HTTP serve config. Proves that they see each other, talk
 * directly over loopback, and that a request from the test reaches the backend through the tailnet.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TailnetTest {

  private static final Duration WAIT = Duration.ofSeconds(60);

  private static HeadscaleServer headscale;
  private static HttpServer backend;
  private static TailnetClient client;
  private static TailnetClient service;
  private static final AtomicInteger BACKEND_HITS = new AtomicInteger();

  @BeforeAll
  static void startTailnet() throws Exception {
    headscale = HeadscaleServer.builder().policy(HeadscaleServer.OPERATOR_POLICY).start();
    backend = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    backend.createContext("/", exchange -> {
      BACKEND_HITS.incrementAndGet();
      byte[] body = ("hello from the backend, path " + exchange.getRequestURI().getPath() + ", host "
          + exchange.getRequestHeaders().getFirst("Host")).getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    backend.start();
    client = TailnetClient.builder(headscale).hostname("e2e-client").tags("tag:e2e-client").start();
    service = TailnetClient.builder(headscale).hostname("svc").tags("tag:k8s").proxies(false).start();
    service.serveHttp(80, "http://127.0.0.1:" + backend.getAddress().getPort());
  }

  @AfterAll
  static void stopTailnet() {
    for (AutoCloseable c : new AutoCloseable[] {client, service, headscale}) {
      if (c != null) {
        try {
          c.close();
        } catch (Exception e) {
          // keep closing the others
        }
      }
    }
    if (backend != null) {
      backend.stop(0);
    }
  }

  @Test
  @Order(1)
  void bothNodesAreRegisteredAsTaggedNodes() {
    List<HeadscaleNode> nodes = headscale.nodes();
    assertThat(nodes).extracting(HeadscaleNode::givenName).containsExactlyInAnyOrder("e2e-client", "svc");
    HeadscaleNode svc = headscale.nodeNamed("svc").orElseThrow();
    assertThat(svc.tags()).containsExactly("tag:k8s");
    assertThat(svc.online()).isTrue();
    assertThat(svc.registerMethod()).isEqualTo("REGISTER_METHOD_AUTH_KEY");
    assertThat(svc.ipv4()).startsWith("100.64.");
    // the node's StableID as the client sees it is headscale's decimal node id (what containerboot stores)
    assertThat(service.nodeId()).isEqualTo(svc.id());
    assertThat(service.fqdn()).isEqualTo(svc.fqdn(headscale.baseDomain())).isEqualTo("svc.tailnet.test");
  }

  @Test
  @Order(2)
  void theNodesSeeEachOtherAndPingDirectlyOverLoopback() {
    TailnetStatus.Peer peer = client.awaitPeer("svc", WAIT);
    assertThat(peer.tags()).containsExactly("tag:k8s");
    assertThat(peer.dnsName()).isEqualTo("svc.tailnet.test.");
    assertThat(service.awaitPeer("e2e-client", WAIT).tags()).containsExactly("tag:e2e-client");

    String pong = client.ping("svc", Duration.ofSeconds(30));
    assertThat(pong).contains("pong from svc");
    assertThat(pong).containsPattern("via 127\\.0\\.0\\.1:\\d+"); // a direct path over loopback, not DERP
    // only loopback endpoints are advertised (TS_DEBUG_OMIT_LOCAL_ADDRS=1, STUN on 127.0.0.1), never eth0's addresses
    assertThat(advertisedEndpoints(client)).allMatch(a -> a.startsWith("127.0.0.1:"));
    assertThat(advertisedEndpoints(service)).allMatch(a -> a.startsWith("127.0.0.1:"));
    assertThat(client.status().magicDnsSuffix()).isEqualTo("tailnet.test");
  }

  /** The endpoints {@code node} advertises (its own {@code Self.Addrs}), once there are any. */
  private static List<String> advertisedEndpoints(TailnetClient node) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    List<String> addrs = node.status().self().addrs();
    while (addrs.isEmpty() && System.nanoTime() < deadline) {
      WatchedProcess.sleep(250);
      addrs = node.status().self().addrs();
    }
    assertThat(addrs).as("endpoints advertised by %s", node.hostname()).isNotEmpty();
    return addrs;
  }

  @Test
  @Order(3)
  void anHttpRequestThroughTheClientReachesTheBackendBehindTheServiceNode() {
    int before = BACKEND_HITS.get();
    HttpResponse<String> r = client.httpGet("http://svc.tailnet.test/hello");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("hello from the backend, path /hello, host svc.tailnet.test");
    // the short MagicDNS name works too (the serve handler adds the suffix to match)
    HttpResponse<String> shortName = client.httpGet("http://svc/short");
    assertThat(shortName.statusCode()).isEqualTo(200);
    assertThat(shortName.body()).startsWith("hello from the backend, path /short");
    assertThat(BACKEND_HITS.get()).isEqualTo(before + 2);
  }

  @Test
  @Order(4)
  void theSocks5ProxyCarriesTailnetNamesUnresolved() throws Exception {
    Proxy socks = new Proxy(Proxy.Type.SOCKS, client.socks5Address());
    try (Socket s = new Socket(socks)) {
      s.setSoTimeout(20_000);
      s.connect(InetSocketAddress.createUnresolved("svc.tailnet.test", 80), 20_000);
      OutputStream out = s.getOutputStream();
      out.write("GET /socks HTTP/1.1\r\nHost: svc.tailnet.test\r\nConnection: close\r\n\r\n"
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      String response = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      assertThat(response).startsWith("HTTP/1.1 200").contains("hello from the backend, path /socks");
    }
  }

  @Test
  @Order(5)
  void aDeletedNodeLeavesTheNetmap() {
    HeadscaleNode svc = headscale.nodeNamed("svc").orElseThrow();
    assertThat(headscale.deleteNode(svc.id())).isTrue();
    assertThat(headscale.deleteNode(svc.id())).isFalse();
    assertThat(headscale.node(svc.id())).isEmpty();
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (client.status().peer("svc").isPresent() && System.nanoTime() < deadline) {
      WatchedProcess.sleep(250);
    }
    assertThat(client.status().peer("svc")).isEmpty();
  }
}
