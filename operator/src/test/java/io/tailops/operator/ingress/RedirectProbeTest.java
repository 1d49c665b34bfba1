package io.tailops.operator.ingress;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** The redirect probe on the process's shared outbound HTTP client: its own wait bounds connect and response. */
class RedirectProbeTest {
  @Test
  void aBackendThatRedirectsToHttpsIsReportedAndOneThatServesIsNot() throws Exception {
    HttpServer backend = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    backend.createContext("/redirects", exchange -> {
      exchange.getResponseHeaders().add("Location", "https://app.example.com/");
      exchange.sendResponseHeaders(301, -1);
      exchange.close();
    });
    backend.createContext("/serves", exchange -> {
      exchange.sendResponseHeaders(200, -1);
      exchange.close();
    });
    backend.start();
    try {
      RedirectProbe probe = new RedirectProbe(Duration.ofSeconds(5), UnaryOperator.identity());
      String base = "http://127.0.0.1:" + backend.getAddress().getPort();
      assertThat(probe.httpsRedirect(base + "/redirects")).contains("https://app.example.com/");
      assertThat(probe.httpsRedirect(base + "/serves")).isEmpty();
      assertThat(probe.httpsRedirect("https://127.0.0.1:1/")).as("only http:// targets are probed").isEmpty();
    } finally {
      backend.stop(0);
    }
  }

  /** A backend that accepts the connection and never answers costs the reconcile the probe's timeout, not more. */
  @Test
  void aBackendThatNeverAnswersIsGivenUpAfterTheTimeout() throws Exception {
    List<Socket> held = new ArrayList<>();
    try (ServerSocket silent = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      Thread acceptor = new Thread(() -> {
        try {
          while (true) {
            held.add(silent.accept()); // read nothing, answer nothing
          }
        } catch (java.io.IOException e) {
          // closed
        }
      });
      acceptor.setDaemon(true);
      acceptor.start();
      RedirectProbe probe = new RedirectProbe(Duration.ofMillis(300), UnaryOperator.identity());
      long start = System.nanoTime();
      assertThat(probe.httpsRedirect("http://127.0.0.1:" + silent.getLocalPort() + "/")).isEmpty();
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    } finally {
      for (Socket s : held) {
        s.close();
      }
    }
  }
}
