package io.tailops.operator.apiproxy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.URLEncoder;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;

/**
 * {@link WhoIs} over the LocalAPI socket of the operator device's tailscaled (the {@code tailscale} container of the
 * operator pod shares it through a volume): {@code GET /localapi/v0/whois?addr=...} with the host name LocalAPI
 * insists on. Read access to the LocalAPI needs no credentials over the unix socket.
 */
public final class LocalApiWhoIs implements WhoIs {
  private static final int MAX_RESPONSE = 1 << 20;
  private final Path socket;

  public LocalApiWhoIs(Path socket) {
    this.socket = socket;
  }

  public Path socket() {
    return socket;
  }

  @Override
  public Optional<PeerIdentity> whoIs(String address) throws IOException {
    String request = "GET /localapi/v0/whois?addr=" + URLEncoder.encode(address, StandardCharsets.UTF_8)
        + " HTTP/1.1\r\nHost: local-tailscaled.sock\r\nConnection: close\r\n\r\n";
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(socket));
      OutputStream out = Channels.newOutputStream(ch);
      out.write(request.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = new java.io.BufferedInputStream(Channels.newInputStream(ch));
      HttpMessage head = HttpMessage.read(in).orElseThrow(() -> new IOException("LocalAPI closed the connection"));
      String text = new String(head.readBody(head.responseBody("GET"), in, MAX_RESPONSE), StandardCharsets.UTF_8);
      int status = head.status();
      if (status == 404) {
        return Optional.empty();
      }
      if (status != 200) {
        throw new IOException("LocalAPI whois answered " + status + ": " + text.strip());
      }
      return Optional.of(PeerIdentity.fromWhoIs(text));
    }
  }
}
