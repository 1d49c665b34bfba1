package io.tailops.operator.config;

import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;

/**
 * Who may reach what the operator serves, and which control servers it may talk to:
 *
 * <ul>
 *   <li>{@code OPERATOR_ADMIN_PORT} (default 8082): the loopback-only port of the status page and {@code doctor}
 *       ({@code kubectl port-forward}, and the operator device's serve config); the cluster-facing
 *       {@code OPERATOR_HTTP_PORT} serves only health probes and metrics;
 *   <li>{@code OPERATOR_DOCTOR_MIN_INTERVAL} (default 30s): doctor runs at most once in this interval, however many
 *       callers ask;
 *   <li>{@code OPERATOR_STATUS_PAGE} (default {@code grant}): who sees the status page on the tailnet;
 *   <li>{@code OPERATOR_LOGIN_SERVER_ALLOW_HTTP} (default false): whether a plain-HTTP login server that is not on
 *       loopback is accepted;
 *   <li>{@code OPERATOR_AUTH_KEY_EXPIRY} (default 30m, 1m to 90d): the lifetime of every auth key the operator mints.
 *   <li>{@code OPERATOR_UNUSED_KEY_GRACE_PERIOD} (default 5m, 1s to 90d): how old an auth key this operator minted must
 *       be before the key sweep revokes it when no Secret holds it (a key younger than that may still be on its way
 *       from the mint to its Secret).
 * </ul>
 *
 * <p>{@code keyMark} is not a setting: the operator derives it at start-up from its namespace's UID and ends the
 * description of every key it mints with it, so that it can tell its own keys from any other client's ({@code ""}
 * until then, and when the namespace cannot be read: keys then carry no mark and are never swept).
 */
public record SecuritySettings(int adminPort, Duration doctorMinInterval, StatusPageAccess statusPage,
    boolean loginServerAllowHttp, Duration authKeyExpiry, Duration unusedKeyGrace, String keyMark) {
  public static final Duration DEFAULT_UNUSED_KEY_GRACE = Duration.ofMinutes(5);

  public SecuritySettings {
    keyMark = keyMark == null ? "" : keyMark;
  }

  /** Settings without a key mark and with the default grace period. */
  public SecuritySettings(int adminPort, Duration doctorMinInterval, StatusPageAccess statusPage,
      boolean loginServerAllowHttp, Duration authKeyExpiry) {
    this(adminPort, doctorMinInterval, statusPage, loginServerAllowHttp, authKeyExpiry, DEFAULT_UNUSED_KEY_GRACE, "");
  }

  /** These settings with {@code mark} as the key mark. */
  public SecuritySettings withKeyMark(String mark) {
    return new SecuritySettings(adminPort, doctorMinInterval, statusPage, loginServerAllowHttp, authKeyExpiry,
        unusedKeyGrace, mark);
  }

  public static final int DEFAULT_ADMIN_PORT = 8082;
  public static final Duration DEFAULT_DOCTOR_MIN_INTERVAL = Duration.ofSeconds(30);

  /** {@code OPERATOR_STATUS_PAGE}: who may see the status page through the operator's tailnet device. */
  public enum StatusPageAccess {
    /** Only callers with the capability {@link #CAPABILITY} in a grant to the operator's device. */
    GRANT,
    /** Every tailnet peer that the policy lets reach the device (the behaviour before this setting). */
    TAILNET,
    /** Not published on the tailnet. */
    OFF;

    /** The grant capability that admits a caller in {@link #GRANT} mode. */
    public static final String CAPABILITY = "tailops.io/cap/status";

    public String envValue() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public static final Duration DEFAULT_AUTH_KEY_EXPIRY = Duration.ofMinutes(30);
  public static final Duration MIN_AUTH_KEY_EXPIRY = Duration.ofMinutes(1);
  public static final Duration MAX_AUTH_KEY_EXPIRY = Duration.ofDays(90);

  public static final SecuritySettings DEFAULTS = new SecuritySettings(DEFAULT_ADMIN_PORT,
      DEFAULT_DOCTOR_MIN_INTERVAL, StatusPageAccess.GRANT, false, DEFAULT_AUTH_KEY_EXPIRY);

  /**
   * Why {@code loginServer} may not be used: a plain {@code http://} URL whose host is not a loopback address (the
   * operator would send its OAuth client secret or headscale API key, and receive the auth keys it mints, in clear).
   * Empty when it is fine: HTTPS, loopback, or explicitly allowed.
   */
  public static Optional<String> refusedLoginServer(String loginServer, boolean allowHttp) {
    if (loginServer == null || !loginServer.regionMatches(true, 0, "http://", 0, 7) || allowHttp) {
      return Optional.empty();
    }
    String host;
    try {
      host = URI.create(loginServer).getHost();
    } catch (IllegalArgumentException e) {
      host = null;
    }
    if (host != null && isLoopback(host)) {
      return Optional.empty();
    }
    return Optional.of("OPERATOR_LOGIN_SERVER=" + loginServer + " is plain HTTP to a host that is not this machine's "
        + "loopback: the operator would send its credentials (OAuth client secret or headscale API key) and receive "
        + "the auth keys it mints in clear text. Use https://, or accept the risk with "
        + "OPERATOR_LOGIN_SERVER_ALLOW_HTTP=true (chart value loginServerAllowHttp: true), e.g. for a control server "
        + "reached only inside the cluster");
  }

  /** {@code localhost}, an address of 127.0.0.0/8, or {@code ::1} (no name resolution). */
  static boolean isLoopback(String host) {
    String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    if (h.equalsIgnoreCase("localhost")) {
      return true;
    }
    if (h.matches("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}")) {
      return true;
    }
    return h.equals("::1") || h.equals("0:0:0:0:0:0:0:1");
  }
}
