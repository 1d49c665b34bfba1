package io.tailops.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.tailops.operator.apiproxy.ApiServerProxy;
import io.tailops.operator.apiproxy.ApiServerProxyStatus;
import io.tailops.operator.apiproxy.LocalApiWhoIs;
import io.tailops.operator.apiproxy.Upstream;
import io.tailops.operator.config.ApiServerProxySettings.Mode;
import io.tailops.testkit.kube.KubeBinaries;
import io.tailops.testkit.tailscale.FakeLocalApi;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Protocol upgrades through the API server proxy ({@code kubectl exec}/{@code attach}/{@code port-forward} become
 * WebSocket or SPDY tunnels after a 101). There is no kubelet here, so the proxy's upstream is a stand-in that speaks
 * the upgrades as the API server does when it hands a session to a kubelet: a real {@code kubectl exec} runs through
 * the proxy against it, and a raw SPDY session echoes bytes both ways. The device's serve config is played by a small
 * relay that adds {@code X-Forwarded-For}, as serve does.
 */
public class ApiServerProxyUpgradeIT {
  static final String ALICE = "100.64.0.10";
  static final String CAROL = "100.64.0.13";
  static FakeLocalApi localApi;
  static StandIn standIn;
  static ApiServerProxy proxy;
  static ServeStandIn serve;

  @BeforeAll
  static void start() throws IOException {
    localApi = FakeLocalApi.start(Path.of("/tmp", "tsop-lapu-" + ProcessHandle.current().pid() + ".sock"))
        .user(ALICE, "alice-laptop.tailnet.test", "alice@example.com",
            "{\"tailscale.com/cap/kubernetes\":[{\"impersonate\":{\"groups\":[\"devs\"]}}]}")
        .user(CAROL, "carol-laptop.tailnet.test", "carol@example.com",
            "{\"tailscale.com/cap/kubernetes\":[{\"recorder\":[\"tag:rec\"],\"recorderAddrs\":[\"100.64.0.99:80\"],"
                + "\"enforceRecorder\":true}]}");
    standIn = new StandIn();
    Config upstream = new ConfigBuilder(Config.empty()).withMasterUrl("http://127.0.0.1:" + standIn.port())
        .withOauthToken("operator-token").build();
    proxy = new ApiServerProxy(Mode.AUTH, Upstream.withOperatorCredentials(upstream, Clock.systemUTC()),
        new LocalApiWhoIs(localApi.socket()), new ApiServerProxyStatus(Mode.AUTH, Clock.systemUTC(), null)).start(0);
    serve = new ServeStandIn(proxy.port(), ALICE);
  }

  @AfterAll
  static void stop() throws IOException {
    for (AutoCloseable c : new AutoCloseable[] {serve, proxy, standIn, localApi}) {
      try {
        if (c != null) {
          c.close();
        }
      } catch (Exception e) {
        // keep closing
      }
    }
  }

  @Test
  void kubectlExecRunsThroughTheProxyOverAWebSocketImpersonatingTheCaller() throws Exception {
    Path kubeconfig = Files.createTempFile("kubeconfig-", ".yaml");
    Files.writeString(kubeconfig, kubeconfigYaml("http://127.0.0.1:" + serve.port(), null));
    Process p = new ProcessBuilder(KubeBinaries.locate().require(KubeBinaries.KUBECTL).kubectl().toString(),
        "--kubeconfig", kubeconfig.toString(), "exec", "-n", "team-a", "web-0", "--", "echo", "hi")
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(out).as(out).isEqualTo("hello from the stand-in kubelet\n");
    assertThat(p.exitValue()).isZero();
    String exec = standIn.heads.stream().filter(h -> h.contains("/pods/web-0/exec?")).findFirst().orElseThrow();
    assertThat(exec).startsWith("GET /api/v1/namespaces/team-a/pods/web-0/exec?command=echo&command=hi")
        .containsIgnoringCase("\r\nUpgrade: websocket\r\n").contains("\r\nConnection: Upgrade\r\n")
        .contains("\r\nImpersonate-User: alice@example.com\r\n").contains("\r\nImpersonate-Group: devs\r\n")
        .contains("\r\nAuthorization: Bearer operator-token\r\n").doesNotContain("X-Forwarded-For");
  }

  @Test
  void aSpdyPortForwardSessionIsATwoWayTunnel() throws Exception {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
      s.setSoTimeout(30_000);
      OutputStream out = s.getOutputStream();
      out.write(("POST /api/v1/namespaces/team-a/pods/web-0/portforward HTTP/1.1\r\nHost: op.tailnet.test\r\n"
          + "Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\n"
          + "X-Forwarded-For: " + ALICE + "\r\nAuthorization: Bearer stolen\r\nImpersonate-User: system:admin\r\n"
          + "Content-Length: 0\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = s.getInputStream();
      String head = readHead(in);
      assertThat(head).startsWith("HTTP/1.1 101 Switching Protocols\r\n").contains("Upgrade: SPDY/3.1");
      for (String word : List.of("first frame", "second frame")) {
        out.write(word.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        assertThat(new String(in.readNBytes(word.length()), StandardCharsets.ISO_8859_1)).isEqualTo(word);
      }
    }
    String pf = standIn.heads.stream().filter(h -> h.contains("/portforward")).findFirst().orElseThrow();
    assertThat(pf).contains("\r\nUpgrade: SPDY/3.1\r\n").contains("\r\nImpersonate-User: alice@example.com\r\n")
        .contains("\r\nAuthorization: Bearer operator-token\r\n").doesNotContain("stolen").doesNotContain("system:admin");
  }

  @Test
  void anEnforcedRecordingThatCannotBeMadeStopsTheSessionBeforeTheUpstream() throws Exception {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
      s.setSoTimeout(30_000);
      s.getOutputStream().write(("POST /api/v1/namespaces/team-a/pods/carols-pod/exec?command=sh HTTP/1.1\r\n"
          + "Host: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Forwarded-For: " + CAROL + "\r\n\r\n")
          .getBytes(StandardCharsets.ISO_8859_1));
      String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(answer).startsWith("HTTP/1.1 403 Forbidden\r\n").contains("forbidden: 'kubectl exec' session must "
          + "be recorded, but this operator cannot record sessions yet (no Recorder support)");
    }
    assertThat(standIn.heads).noneMatch(h -> h.contains("carols-pod"));
  }

  /** A kubeconfig for {@code server} without credentials, optionally through {@code proxyUrl}. */
  public static String kubeconfigYaml(String server, String proxyUrl) {
    return """
        apiVersion: v1
        kind: Config
        clusters:
        - name: tailnet
          cluster:
            server: %s%s
        contexts:
        - name: tailnet
          context:
            cluster: tailnet
            user: tailnet
        current-context: tailnet
        users:
        - name: tailnet
          user: {}
        """.formatted(server, proxyUrl == null ? "" : "\n    proxy-url: " + proxyUrl);
  }

  static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    while (!b.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) {
        throw new IOException("closed after " + b.toString(StandardCharsets.ISO_8859_1));
      }
      b.write(c);
    }
    return b.toString(StandardCharsets.ISO_8859_1);
  }

  static void pipe(InputStream in, OutputStream out, Socket a, Socket b) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[8192];
      try {
        int r;
        while ((r = in.read(buf)) >= 0) {
          out.write(buf, 0, r);
          out.flush();
        }
      } catch (IOException e) {
        // one side went away
      } finally {
        try {
          a.close();
          b.close();
        } catch (IOException e) {
          // closing anyway
        }
      }
    }, "pipe");
    t.setDaemon(true);
    t.start();
  }

  /** Plays the device's serve config: one request per connection, {@code X-Forwarded-For} set, then raw bytes. */
  static final class ServeStandIn implements AutoCloseable {
    final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());

    ServeStandIn(int proxyPort, String callerIp) throws IOException {
      Thread t = new Thread(() -> {
        while (!server.isClosed()) {
          try {
            Socket c = server.accept();
            Socket p = new Socket(InetAddress.getLoopbackAddress(), proxyPort);
            String head = readHead(c.getInputStream());
            boolean upgrade = head.toLowerCase().contains("\r\nupgrade:");
            String extra = "X-Forwarded-For: " + callerIp + "\r\n" + (upgrade ? "" : "Connection: close\r\n");
            String edited = head.substring(0, head.length() - 2) + extra + "\r\n";
            p.getOutputStream().write(edited.getBytes(StandardCharsets.ISO_8859_1));
            pipe(c.getInputStream(), p.getOutputStream(), c, p);
            pipe(p.getInputStream(), c.getOutputStream(), c, p);
          } catch (IOException e) {
            // next
          }
        }
      }, "serve-stand-in");
      t.setDaemon(true);
      t.start();
    }

    int port() {
      return server.getLocalPort();
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }

  /**
   * The API server's side of a session as far as the proxy can tell: the pod lookup kubectl makes first, and the
   * upgrade to a WebSocket ({@code v5.channel.k8s.io}: stdout on channel 1, the exit status on channel 3) or to
   * SPDY/3.1 (echoing whatever arrives). Keeps every request head it receives.
   */
  static final class StandIn implements AutoCloseable {
    final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    final List<String> heads = new CopyOnWriteArrayList<>();

    StandIn() throws IOException {
      Thread t = new Thread(() -> {
        while (!server.isClosed()) {
          try {
            Socket s = server.accept();
            Thread h = new Thread(() -> handle(s), "stand-in-conn");
            h.setDaemon(true);
            h.start();
          } catch (IOException e) {
            // next
          }
        }
      }, "stand-in");
      t.setDaemon(true);
      t.start();
    }

    int port() {
      return server.getLocalPort();
    }

    void handle(Socket s) {
      try (s) {
        InputStream in = s.getInputStream();
        OutputStream out = s.getOutputStream();
        while (true) {
          String head;
          try {
            head = readHead(in);
          } catch (IOException e) {
            return;
          }
          heads.add(head);
          String lower = head.toLowerCase();
          if (lower.contains("\r\nupgrade: websocket")) {
            String key = header(head, "Sec-WebSocket-Key");
            String accept = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1").digest(
                (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.ISO_8859_1)));
            out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: " + accept + "\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
            frame(out, 0x82, channel(1, "hello from the stand-in kubelet\n"));
            frame(out, 0x82, channel(3, "{\"metadata\":{},\"status\":\"Success\"}"));
            frame(out, 0x88, new byte[] {0x03, (byte) 0xe8});
            out.flush();
            return;
          }
          if (lower.contains("\r\nupgrade: spdy/3.1")) {
            out.write("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n"
                .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            in.transferTo(out);
            return;
          }
          String body;
          int status;
          String path = head.substring(head.indexOf(' ') + 1, head.indexOf(' ', head.indexOf(' ') + 1));
          path = path.contains("?") ? path.substring(0, path.indexOf('?')) : path;
          if (path.equals("/api")) { // discovery, as kubectl asks first
            status = 200;
            body = "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"],\"serverAddressByClientCIDRs\":[{\"clientCIDR\":"
                + "\"0.0.0.0/0\",\"serverAddress\":\"127.0.0.1\"}]}";
          } else if (path.equals("/apis")) {
            status = 200;
            body = "{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":[]}";
          } else if (path.equals("/api/v1")) {
            status = 200;
            body = "{\"kind\":\"APIResourceList\",\"groupVersion\":\"v1\",\"resources\":[{\"name\":\"pods\","
                + "\"singularName\":\"pod\",\"namespaced\":true,\"kind\":\"Pod\",\"verbs\":[\"get\",\"list\"],"
                + "\"shortNames\":[\"po\"]},{\"name\":\"pods/exec\",\"singularName\":\"\",\"namespaced\":true,"
                + "\"kind\":\"PodExecOptions\",\"verbs\":[\"create\",\"get\"]}]}";
          } else if (head.startsWith("GET /api/v1/namespaces/team-a/pods/web-0 ")) {
            status = 200;
            body = "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"web-0\",\"namespace\":\"team-a\"},"
                + "\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"nginx\"}]},\"status\":{\"phase\":\"Running\"}}";
          } else {
            status = 404;
            body = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"NotFound\",\"code\":404}";
          }
          byte[] b = body.getBytes(StandardCharsets.UTF_8);
          out.write(("HTTP/1.1 " + status + (status == 200 ? " OK" : " Not Found")
              + "\r\nContent-Type: application/json\r\nContent-Length: " + b.length + "\r\n\r\n")
              .getBytes(StandardCharsets.ISO_8859_1));
          out.write(b);
          out.flush();
        }
      } catch (Exception e) {
        // the session ended
      }
    }

    static String header(String head, String name) {
      for (String line : head.split("\r\n")) {
        int c = line.indexOf(':');
        if (c > 0 && line.substring(0, c).equalsIgnoreCase(name)) {
          return line.substring(c + 1).strip();
        }
      }
      return "";
    }

    static byte[] channel(int ch, String data) {
      byte[] d = data.getBytes(StandardCharsets.UTF_8);
      byte[] out = new byte[d.length + 1];
      out[0] = (byte) ch;
      System.arraycopy(d, 0, out, 1, d.length);
      return out;
    }

    static void frame(OutputStream out, int first, byte[] payload) throws IOException {
      out.write(first);
      out.write(payload.length); // all payloads here are < 126 bytes
      out.write(payload);
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }
}
