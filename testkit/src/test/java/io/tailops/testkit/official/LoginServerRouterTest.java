package io.tailops.testkit.official;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The router in front of the two servers: routing by path, one request per connection, upgrades passed through. */
class LoginServerRouterTest {
  private HttpServer api;
  private ServerSocket control;
  private LoginServerRouter router;
  private final List<String> controlHeads = new ArrayList<>();

  @BeforeEach
  void start() throws IOException {
    api = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    api.createContext("/", ex -> {
      byte[] body = ("api " + ex.getRequestMethod() + " " + ex.getRequestURI() + " "
          + new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(200, body.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    });
    api.start();
    // a minimal control server: plain requests get "control <path>", an Upgrade gets 101 and then an echo
    control = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
    Thread t = new Thread(this::serveControl, "fake-control");
    t.setDaemon(true);
    t.start();
    router = LoginServerRouter.start(URI.create("http://127.0.0.1:" + api.getAddress().getPort()),
        URI.create("http://127.0.0.1:" + control.getLocalPort()));
  }

  private void serveControl() {
    while (!control.isClosed()) {
      try (Socket s = control.accept()) {
        BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
        StringBuilder head = new StringBuilder();
        String line;
        while ((line = in.readLine()) != null && !line.isEmpty()) {
          head.append(line).append('\n');
        }
        synchronized (controlHeads) {
          controlHeads.add(head.toString());
        }
        OutputStream out = s.getOutputStream();
        String path = head.toString().split(" ")[1];
        if (head.toString().toLowerCase().contains("upgrade: tailscale-control-protocol")) {
          out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: tailscale-control-protocol\r\n"
              + "Connection: upgrade\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
          out.flush();
          String echo;
          while ((echo = in.readLine()) != null) {
            out.write(("echo " + echo + "\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
          }
        } else {
          byte[] body = ("control " + path).getBytes(StandardCharsets.UTF_8);
          out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + body.length + "\r\n\r\n")
              .getBytes(StandardCharsets.ISO_8859_1));
          out.write(body);
          out.flush();
        }
      } catch (IOException e) {
        // next connection
      }
    }
  }

  @AfterEach
  void stop() throws IOException {
    router.close();
    api.stop(0);
    control.close();
  }

  @Test
  void routesByPathOneRequestPerConnection() throws Exception {
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    String base = router.baseUrl();
    // alternate between the two backends on a client that keeps connections alive
    for (int i = 0; i < 3; i++) {
      HttpResponse<String> token = client.send(HttpRequest.newBuilder(URI.create(base + "/api/v2/oauth/token"))
          .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(token.body()).isEqualTo("api POST /api/v2/oauth/token grant_type=client_credentials");
      HttpResponse<String> key = client.send(HttpRequest.newBuilder(URI.create(base + "/key?v=131")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(key.body()).isEqualTo("control /key?v=131");
    }
    HttpResponse<String> last = client.send(HttpRequest.newBuilder(URI.create(base + "/api/v2/device/1")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(last.headers().firstValue("Connection")).hasValue("close");
    assertThat(router.apiRequests()).isEqualTo(4);
    assertThat(router.controlRequests()).isEqualTo(3);
    synchronized (controlHeads) {
      assertThat(controlHeads).allSatisfy(h -> assertThat(h).contains("Connection: close"));
    }
  }

  @Test
  void passesAnUpgradeThroughAndKeepsPiping() throws Exception {
    try (Socket s = new Socket("127.0.0.1", Integer.parseInt(router.baseUrl().replaceAll(".*:", "")))) {
      OutputStream out = s.getOutputStream();
      out.write(("POST /ts2021 HTTP/1.1\r\nHost: x\r\nUpgrade: tailscale-control-protocol\r\nConnection: upgrade\r\n"
          + "X-Tailscale-Handshake: abc\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
      assertThat(in.readLine()).isEqualTo("HTTP/1.1 101 Switching Protocols");
      String line;
      while ((line = in.readLine()) != null && !line.isEmpty()) {
        assertThat(line).doesNotContainIgnoringCase("connection: close");
      }
      for (int i = 0; i < 3; i++) {
        out.write(("frame " + i + "\n").getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        assertThat(in.readLine()).isEqualTo("echo frame " + i);
      }
    }
    synchronized (controlHeads) {
      assertThat(controlHeads.get(0)).contains("X-Tailscale-Handshake: abc").contains("Connection: upgrade");
    }
  }

  @Test
  void apiPathsAreThoseUnderApiV2() {
    assertThat(LoginServerRouter.isApiPath("/api/v2/tailnet/-/keys")).isTrue();
    assertThat(LoginServerRouter.isApiPath("/api/v1/node")).isFalse();
    assertThat(LoginServerRouter.isApiPath("/ts2021")).isFalse();
    assertThat(LoginServerRouter.isApiPath("/key?v=131")).isFalse();
  }
}
