package io.tailops.operator.apiproxy;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.internal.SSLUtils;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * The real API server as the proxy reaches it: the operator's own connection settings (its Kubernetes client's
 * {@link Config}: URL, CA, and in auth mode its credentials: client certificate, bearer token, or basic auth). In
 * noauth mode the credentials are left out (as upstream's {@code rest.AnonymousClientConfig}): the caller's own
 * {@code Authorization} header is what the API server sees.
 */
public final class Upstream {
  /** How often a token that comes from a file (the pod's service-account token, rotated by the kubelet) is re-read. */
  static final Duration TOKEN_REFRESH = Duration.ofMinutes(1);

  private final URI url;
  private final String host;
  private final int port;
  private final SSLContext tls;
  private final boolean withCredentials;
  private final Clock clock;
  private Config config;
  private String token;
  private Instant tokenRead = Instant.MIN;

  private Upstream(Config config, boolean withCredentials, Clock clock) {
    this.config = config;
    this.withCredentials = withCredentials;
    this.clock = clock;
    this.url = URI.create(config.getMasterUrl());
    if (url.getScheme() == null || url.getHost() == null) {
      throw new IllegalArgumentException("the API server proxy needs a URL with scheme and host, not "
          + config.getMasterUrl());
    }
    boolean https = "https".equalsIgnoreCase(url.getScheme());
    this.host = url.getHost();
    this.port = url.getPort() > 0 ? url.getPort() : https ? 443 : 80;
    try {
      this.tls = !https ? null : withCredentials ? SSLUtils.sslContext(config)
          : SSLUtils.sslContext(null, SSLUtils.trustManagers(config));
    } catch (Exception e) {
      throw new IllegalArgumentException("cannot set up TLS to the API server " + url + ": " + e.getMessage(), e);
    }
  }

  /** With the operator's credentials (auth mode). */
  public static Upstream withOperatorCredentials(Config config, Clock clock) {
    return new Upstream(config, true, clock);
  }

  /** Without any credentials (noauth mode). */
  public static Upstream anonymous(Config config) {
    return new Upstream(config, false, Clock.systemUTC());
  }

  public URI url() {
    return url;
  }

  /** {@code host:port} for the {@code Host} header. */
  String authority() {
    String h = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    return h + ":" + port;
  }

  /** A new connection to the API server (TLS handshake done for https). */
  Socket connect(Duration timeout) throws IOException {
    Socket raw = new Socket();
    try {
      raw.connect(new InetSocketAddress(host, port), (int) timeout.toMillis());
      raw.setTcpNoDelay(true);
      if (tls == null) {
        return raw;
      }
      SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket(raw, host, port, true);
      SSLParameters p = s.getSSLParameters();
      if (!config.isTrustCerts()) {
        p.setEndpointIdentificationAlgorithm("HTTPS");
      }
      p.setApplicationProtocols(new String[] {"http/1.1"}); // upgrades (exec, port-forward) need HTTP/1.1
      s.setSSLParameters(p);
      s.setSoTimeout((int) timeout.toMillis());
      s.startHandshake();
      s.setSoTimeout(0);
      return s;
    } catch (IOException | RuntimeException e) {
      raw.close();
      throw e;
    }
  }

  /**
   * The {@code Authorization} value carrying the operator's credentials, or null (noauth mode, or a client
   * certificate does the authenticating).
   */
  synchronized String authorization() {
    if (!withCredentials) {
      return null;
    }
    if (config.getOauthTokenProvider() != null) {
      return "Bearer " + config.getOauthTokenProvider().getToken();
    }
    if (notEmpty(config.getOauthToken())) {
      return "Bearer " + config.getOauthToken();
    }
    if (notEmpty(config.getAutoOAuthToken())) {
      Instant now = clock.instant();
      if (token == null || Duration.between(tokenRead, now).compareTo(TOKEN_REFRESH) >= 0) {
        try {
          config = config.refresh(); // re-reads the service-account token file or kubeconfig
        } catch (RuntimeException e) {
          // keep the token we have; the API server will say if it expired
        }
        if (notEmpty(config.getAutoOAuthToken())) {
          token = config.getAutoOAuthToken();
        }
        tokenRead = now;
      }
      return token == null ? null : "Bearer " + token;
    }
    if (notEmpty(config.getUsername()) && config.getPassword() != null) {
      return "Basic " + Base64.getEncoder().encodeToString((config.getUsername() + ":" + config.getPassword())
          .getBytes(StandardCharsets.UTF_8));
    }
    return null;
  }

  private static boolean notEmpty(String s) {
    return s != null && !s.isEmpty();
  }
}
