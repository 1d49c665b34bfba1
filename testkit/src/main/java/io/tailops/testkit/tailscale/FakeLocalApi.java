package io.tailops.testkit.tailscale;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.URLDecoder;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stand-in for a tailscaled's LocalAPI on a unix socket, answering {@code GET /localapi/v0/whois?addr=IP} with
 * identities the test registers ({@code apitype.WhoIsResponse}: {@code Node.Name}, {@code Node.Tags},
 * {@code UserProfile.LoginName}, {@code CapMap}) and 404 {@code no match for IP:port} otherwise, as tailscaled does.
 * Checks the {@code Host: local-tailscaled.sock} LocalAPI insists on.
 */
public final class FakeLocalApi implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Path socket;
  private final ServerSocketChannel server;
  private final Map<String, String> identities = new ConcurrentHashMap<>();
  private final AtomicInteger whoisCalls = new AtomicInteger();
  private volatile boolean closed;

  private FakeLocalApi(Path socket) throws IOException {
    this.socket = socket;
    Files.deleteIfExists(socket);
    server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(socket));
    Thread t = new Thread(this::loop, "fake-localapi");
    t.setDaemon(true);
    t.start();
  }

  /** Listens on {@code socket} (kept short: unix socket paths are limited to about 107 bytes). */
  public static FakeLocalApi start(Path socket) {
    try {
      return new FakeLocalApi(socket);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public Path socket() {
    return socket;
  }

  public int whoisCalls() {
    return whoisCalls.get();
  }

  /** A user's device: {@code CapMap} is the raw JSON of the peer's capabilities (e.g. {@code {}}). */
  public FakeLocalApi user(String ip, String nodeFqdn, String loginName, String capMapJson) {
    identities.put(ip, whois(nodeFqdn, List.of(), loginName, capMapJson));
    return this;
  }

  /** A tagged device. */
  public FakeLocalApi tagged(String ip, String nodeFqdn, List<String> tags, String capMapJson) {
    identities.put(ip, whois(nodeFqdn, tags, "tagged-devices", capMapJson));
    return this;
  }

  public FakeLocalApi forget(String ip) {
    identities.remove(ip);
    return this;
  }

  private static String whois(String fqdn, List<String> tags, String login, String capMapJson) {
    try {
      ObjectNode root = JSON.createObjectNode();
      ObjectNode node = root.putObject("Node");
      node.put("ID", 1);
      node.put("StableID", "n" + Math.abs(fqdn.hashCode()));
      node.put("Name", fqdn + ".");
      if (tags.isEmpty()) {
        node.putNull("Tags");
      } else {
        ArrayNode t = node.putArray("Tags");
        tags.forEach(t::add);
      }
      ObjectNode up = root.putObject("UserProfile");
      up.put("ID", 2);
      up.put("LoginName", login);
      up.put("DisplayName", login);
      root.set("CapMap", JSON.readTree(capMapJson));
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void loop() {
    while (!closed) {
      try {
        SocketChannel ch = server.accept();
        Thread t = new Thread(() -> handle(ch), "fake-localapi-conn");
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        if (!closed) {
          continue;
        }
        return;
      }
    }
  }

  private void handle(SocketChannel ch) {
    try (ch) {
      InputStream in = Channels.newInputStream(ch);
      OutputStream out = Channels.newOutputStream(ch);
      ByteArrayOutputStream head = new ByteArrayOutputStream();
      while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
        int b = in.read();
        if (b < 0) {
          return;
        }
        head.write(b);
      }
      String text = head.toString(StandardCharsets.ISO_8859_1);
      String requestLine = text.substring(0, text.indexOf("\r\n"));
      String target = requestLine.split(" ")[1];
      int status;
      String body;
      if (!text.toLowerCase().contains("\r\nhost: local-tailscaled.sock")) {
        status = 403;
        body = "invalid localapi request";
      } else if (!target.startsWith("/localapi/v0/whois?addr=")) {
        status = 404;
        body = "404 page not found";
      } else {
        whoisCalls.incrementAndGet();
        String addr = URLDecoder.decode(target.substring(target.indexOf('=') + 1), StandardCharsets.UTF_8);
        String ip = addr.contains(":") && addr.indexOf(':') == addr.lastIndexOf(':')
            ? addr.substring(0, addr.indexOf(':')) : addr;
        String found = identities.get(ip);
        status = found == null ? 404 : 200;
        body = found == null ? "no match for IP:port" : found;
      }
      byte[] b = (body + "\n").getBytes(StandardCharsets.UTF_8);
      out.write(("HTTP/1.1 " + status + (status == 200 ? " OK" : " Error") + "\r\nContent-Type: "
          + (status == 200 ? "application/json" : "text/plain; charset=utf-8") + "\r\nContent-Length: " + b.length
          + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      out.write(b);
      out.flush();
    } catch (IOException e) {
      // the client went away
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      server.close();
      Files.deleteIfExists(socket);
    } catch (IOException e) {
      // closing anyway
    }
  }
}
