package io.tailops.operator.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The operator's settings, read from the same environment variables as the official operator (v1.94.2) plus this
 * operator's own ({@code OPERATOR_HTTP_PORT}, {@code OPERATOR_LEADER_ELECTION}, {@code OPERATOR_FUNNEL_NAMESPACES},
 * …). Parsing is strict where the official operator would crash and lenient where it is lenient; every error names
 * the variable and the accepted values.
 */
public record OperatorConfig(
    String namespace,
    LogMode logging,
    LogFormat logFormat,
    String proxyImage,
    String k8sProxyImage,
    String proxyPriorityClassName,
    List<String> proxyTags,
    String proxyFirewallMode,
    String proxyDefaultClass,
    boolean defaultLoadBalancer,
    String loginServer,
    String ingressClassName,
    Path clientIdFile,
    Path clientSecretFile,
    String operatorHostname,
    String operatorSecret,
    List<String> operatorInitialTags,
    int httpPort,
    boolean leaderElection,
    String leaseName,
    List<String> funnelNamespaces,
    ControlPlaneKind controlPlane,
    Path headscaleApiKeyFile,
    OrphanPolicy orphanDevicePolicy,
    Duration orphanGracePeriod,
    Duration deviceSweepInterval,
    Duration reauthMinInterval,
    boolean selfDevice,
    boolean selfHealing,
    ThreadSettings threads,
    String podName,
    ApiServerProxySettings apiServerProxy,
    SecuritySettings security,
    ConnectorSettings connectors,
    List<String> warnings) {

  public static final String DEFAULT_PROXY_IMAGE = "tailscale/tailscale:latest";
  /** {@code K8S_PROXY_IMAGE}: the image of ProxyGroups of type kube-apiserver (official default). */
  public static final String DEFAULT_K8S_PROXY_IMAGE = "tailscale/k8s-proxy:latest";
  public static final String DEFAULT_INGRESS_CLASS = "tailscale";
  public static final String SERVICE_ACCOUNT_NAMESPACE_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

  /**
   * {@code OPERATOR_LOGGING}: info and debug log JSON, dev logs plain text at debug level (as upstream); warn and error
   * log JSON at that level. Any other value logs at info with a warning, as the official operator (which ignores
   * values it does not know) would log at info.
   */
  public enum LogMode {
    INFO, DEBUG, DEV, WARN, ERROR
  }

  /** {@code OPERATOR_LOG_FORMAT}: overrides the format implied by {@code OPERATOR_LOGGING}. */
  public enum LogFormat {
    JSON, PLAIN
  }

  /** {@code OPERATOR_CONTROL_PLANE}: which control-plane API the operator talks to. */
  public enum ControlPlaneKind {
    TAILSCALE, HEADSCALE
  }

  /** {@code OPERATOR_ORPHAN_DEVICES}: what the periodic sweep does with orphaned proxy devices. */
  public enum OrphanPolicy {
    REPORT, DELETE
  }

  /** These settings with {@code s} as the {@link SecuritySettings}. */
  public OperatorConfig withSecurity(SecuritySettings s) {
    return new OperatorConfig(namespace, logging, logFormat, proxyImage, k8sProxyImage, proxyPriorityClassName,
        proxyTags, proxyFirewallMode, proxyDefaultClass, defaultLoadBalancer, loginServer, ingressClassName,
        clientIdFile, clientSecretFile, operatorHostname, operatorSecret, operatorInitialTags, httpPort, leaderElection,
        leaseName, funnelNamespaces, controlPlane, headscaleApiKeyFile, orphanDevicePolicy, orphanGracePeriod,
        deviceSweepInterval, reauthMinInterval, selfDevice, selfHealing, threads, podName, apiServerProxy, s,
        connectors, warnings);
  }

  /** Whether the given namespace may expose resources through Funnel. */
  public boolean funnelAllowedIn(String ns) {
    return funnelNamespaces.isEmpty() || funnelNamespaces.contains("*") || funnelNamespaces.contains(ns);
  }

  /** Reads the settings from the process environment. */
  public static OperatorConfig fromEnvironment() {
    return fromEnv(System.getenv());
  }

  /**
   * Reads the settings from {@code env}. Throws {@link ConfigException} listing every malformed variable (one per
   * line) so that a user sees all problems at once.
   */
  public static OperatorConfig fromEnv(Map<String, String> env) {
    Reader r = new Reader(env);
    String namespace = r.string("OPERATOR_NAMESPACE", null);
    if (namespace == null) {
      namespace = readServiceAccountNamespace();
      if (namespace == null) {
        r.errors.add("OPERATOR_NAMESPACE is not set and " + SERVICE_ACCOUNT_NAMESPACE_FILE
            + " cannot be read: set OPERATOR_NAMESPACE to the namespace the operator runs in (for example tailscale)");
        namespace = "tailscale";
      }
    }
    LogMode logging = r.enumOrWarn("OPERATOR_LOGGING", LogMode.class, LogMode.INFO,
        "logging at info, as the official operator does for a value it does not know");
    LogFormat logFormat = r.enumValue("OPERATOR_LOG_FORMAT", LogFormat.class,
        logging == LogMode.DEV ? LogFormat.PLAIN : LogFormat.JSON);
    String firewallMode = r.string("PROXY_FIREWALL_MODE", "");
    if (!firewallMode.isEmpty() && !java.util.Set.of("auto", "iptables", "nftables").contains(firewallMode)) {
      r.warnings.add("PROXY_FIREWALL_MODE=" + firewallMode + " is not auto, iptables or nftables: Services and "
          + "Ingresses get no proxy and say InvalidConfig until it is fixed (as with the official operator)");
    }
    String loginServer = r.string("OPERATOR_LOGIN_SERVER", "");
    if (loginServer.endsWith("/")) {
      loginServer = loginServer.substring(0, loginServer.length() - 1);
    }
    if (!loginServer.isEmpty() && !loginServer.startsWith("http://") && !loginServer.startsWith("https://")) {
      if (loginServer.contains("://") || loginServer.isBlank()) {
        r.errors.add("OPERATOR_LOGIN_SERVER=" + loginServer + " is not a URL: use http://host:port or https://host");
      } else {
        // The official chart accepts a bare host name (and the official operator then fails to reach it); a control
        // server is served over HTTPS, so this is what the user meant.
        r.warnings.add("OPERATOR_LOGIN_SERVER=" + loginServer + " has no scheme: using https://" + loginServer
            + " (set the full URL, e.g. https://" + loginServer + ", to silence this warning)");
        loginServer = "https://" + loginServer;
      }
    }
    String clientIdFile = r.string("CLIENT_ID_FILE", "");
    String clientSecretFile = r.string("CLIENT_SECRET_FILE", "");
    ControlPlaneKind controlPlane = r.enumValue("OPERATOR_CONTROL_PLANE", ControlPlaneKind.class,
        ControlPlaneKind.TAILSCALE);
    String headscaleKeyFile = r.string("HEADSCALE_API_KEY_FILE", "");
    if (controlPlane == ControlPlaneKind.HEADSCALE) {
      if (loginServer.isEmpty()) {
        r.errors.add("OPERATOR_CONTROL_PLANE=headscale needs OPERATOR_LOGIN_SERVER (the headscale server URL)");
      }
      if (headscaleKeyFile.isEmpty()) {
        r.errors.add("OPERATOR_CONTROL_PLANE=headscale needs HEADSCALE_API_KEY_FILE (a file holding a headscale API key)");
      }
    } else if (!r.string("CLIENT_ID", "").isEmpty() && clientIdFile.isEmpty()) {
      r.errors.add("CLIENT_ID is set (workload identity federation), which this operator does not support yet: "
          + "mount an OAuth client ID and secret and set CLIENT_ID_FILE and CLIENT_SECRET_FILE instead");
    } else if (clientIdFile.isEmpty() || clientSecretFile.isEmpty()) {
      r.errors.add("CLIENT_ID_FILE and CLIENT_SECRET_FILE must be set: paths of files holding the OAuth client ID "
          + "and secret (the Helm chart mounts the operator-oauth Secret at /oauth/client_id and /oauth/client_secret)");
    }
    ApiServerProxySettings.Mode apiProxyMode = apiServerProxyMode(r);
    boolean selfDevice = r.bool("OPERATOR_SELF_DEVICE", false);
    if (apiProxyMode != ApiServerProxySettings.Mode.OFF && !selfDevice) {
      r.warnings.add("APISERVER_PROXY=" + apiProxyMode.envValue() + " needs the operator's own tailnet device "
          + "(OPERATOR_SELF_DEVICE=true; chart value operatorConfig.device.enabled: true): the API server proxy stays "
          + "off");
    }
    int httpPort = r.intValue("OPERATOR_HTTP_PORT", 8080, 1, 65535);
    SecuritySettings security = security(r, loginServer);
    boolean approveRoutes = r.bool("HEADSCALE_APPROVE_ROUTES", false);
    if (approveRoutes && controlPlane != ControlPlaneKind.HEADSCALE) {
      r.warnings.add("HEADSCALE_APPROVE_ROUTES=true applies to headscale only (OPERATOR_CONTROL_PLANE=headscale); "
          + "with Tailscale, approve Connector routes with the policy's autoApprovers");
      approveRoutes = false;
    }

    OperatorConfig cfg = new OperatorConfig(
        namespace,
        logging,
        logFormat,
        r.string("PROXY_IMAGE", DEFAULT_PROXY_IMAGE),
        r.string("K8S_PROXY_IMAGE", DEFAULT_K8S_PROXY_IMAGE),
        r.string("PROXY_PRIORITY_CLASS_NAME", ""),
        r.list("PROXY_TAGS", List.of("tag:k8s")),
        firewallMode,
        r.string("PROXY_DEFAULT_CLASS", ""),
        r.bool("OPERATOR_DEFAULT_LOAD_BALANCER", false),
        loginServer,
        r.string("OPERATOR_INGRESS_CLASS_NAME", DEFAULT_INGRESS_CLASS),
        clientIdFile.isEmpty() ? null : Path.of(clientIdFile),
        clientSecretFile.isEmpty() ? null : Path.of(clientSecretFile),
        r.string("OPERATOR_HOSTNAME", "tailscale-operator"),
        r.string("OPERATOR_SECRET", "operator"),
        r.list("OPERATOR_INITIAL_TAGS", List.of("tag:k8s-operator")),
        httpPort,
        r.bool("OPERATOR_LEADER_ELECTION", true),
        r.string("OPERATOR_LEASE_NAME", "tailscale-operator"),
        r.list("OPERATOR_FUNNEL_NAMESPACES", List.of()),
        controlPlane,
        headscaleKeyFile.isEmpty() ? null : Path.of(headscaleKeyFile),
        r.enumValue("OPERATOR_ORPHAN_DEVICES", OrphanPolicy.class, OrphanPolicy.REPORT),
        r.duration("OPERATOR_ORPHAN_GRACE_PERIOD", Duration.ofHours(24)),
        r.duration("OPERATOR_DEVICE_SWEEP_INTERVAL", Duration.ofMinutes(2)),
        r.duration("OPERATOR_REAUTH_MIN_INTERVAL", Duration.ofMinutes(5)),
        selfDevice,
        r.bool("OPERATOR_SELF_HEALING", true),
        new ThreadSettings(r.intValue("OPERATOR_RECONCILE_THREADS", ThreadSettings.DEFAULTS.reconcile(), 1, 64),
            r.intValue("OPERATOR_DISPATCH_THREADS", ThreadSettings.DEFAULTS.dispatch(), 1, 16),
            r.intValue("OPERATOR_HTTP_THREADS", ThreadSettings.DEFAULTS.http(), 1, 16)),
        r.string("POD_NAME", ""),
        new ApiServerProxySettings(apiProxyMode, r.intValue("OPERATOR_APISERVER_PROXY_PORT",
            ApiServerProxySettings.DEFAULT_PORT, 0, 65535), Path.of(r.string("OPERATOR_DEVICE_SOCKET",
            ApiServerProxySettings.DEFAULT_DEVICE_SOCKET.toString()))),
        security,
        new ConnectorSettings(approveRoutes, r.duration("OPERATOR_ROUTE_CHECK_INTERVAL",
            ConnectorSettings.DEFAULT_ROUTE_CHECK_INTERVAL)),
        List.copyOf(r.warnings));
    if (!r.errors.isEmpty()) {
      throw new ConfigException(String.join("\n", r.errors));
    }
    return cfg;
  }

  /**
   * {@code APISERVER_PROXY} ({@code true}, {@code noauth}, {@code false}) or the deprecated {@code AUTH_PROXY}
   * ({@code true} = auth mode), never both, as upstream (which exits on both and panics on other values).
   */
  private static ApiServerProxySettings.Mode apiServerProxyMode(Reader r) {
    String apiServerProxy = r.string("APISERVER_PROXY", "");
    boolean authProxySet = r.string("AUTH_PROXY", null) != null;
    if (authProxySet && !apiServerProxy.isEmpty()) {
      r.errors.add("AUTH_PROXY (deprecated) and APISERVER_PROXY are mutually exclusive: unset AUTH_PROXY");
      return ApiServerProxySettings.Mode.OFF;
    }
    if (authProxySet) {
      r.warnings.add("AUTH_PROXY is deprecated: use APISERVER_PROXY=true (auth mode) or APISERVER_PROXY=noauth");
      return r.bool("AUTH_PROXY", false) ? ApiServerProxySettings.Mode.AUTH : ApiServerProxySettings.Mode.OFF;
    }
    return switch (apiServerProxy) {
      case "", "false" -> ApiServerProxySettings.Mode.OFF;
      case "true" -> ApiServerProxySettings.Mode.AUTH;
      case "noauth" -> ApiServerProxySettings.Mode.NOAUTH;
      default -> {
        r.errors.add("APISERVER_PROXY=" + apiServerProxy + " is not valid: use true, noauth or false");
        yield ApiServerProxySettings.Mode.OFF;
      }
    };
  }

  /** The {@link SecuritySettings}; a plain-HTTP login server off loopback is an error unless allowed. */
  private static SecuritySettings security(Reader r, String loginServer) {
    boolean allowHttp = r.bool("OPERATOR_LOGIN_SERVER_ALLOW_HTTP", false);
    SecuritySettings.refusedLoginServer(loginServer, allowHttp).ifPresent(r.errors::add);
    if (allowHttp && loginServer.regionMatches(true, 0, "http://", 0, 7)
        && SecuritySettings.refusedLoginServer(loginServer, false).isPresent()) {
      r.warnings.add("OPERATOR_LOGIN_SERVER=" + loginServer + " is plain HTTP and OPERATOR_LOGIN_SERVER_ALLOW_HTTP=true:"
          + " the operator's credentials and the auth keys it mints cross the network in clear text");
    }
    Duration keyExpiry = r.duration("OPERATOR_AUTH_KEY_EXPIRY", SecuritySettings.DEFAULT_AUTH_KEY_EXPIRY);
    if (keyExpiry.compareTo(SecuritySettings.MIN_AUTH_KEY_EXPIRY) < 0
        || keyExpiry.compareTo(SecuritySettings.MAX_AUTH_KEY_EXPIRY) > 0) {
      r.errors.add("OPERATOR_AUTH_KEY_EXPIRY=" + r.string("OPERATOR_AUTH_KEY_EXPIRY", "") + " is not valid: use a "
          + "duration from 1m to 90d (auth keys live that long unless used; an unused expired key is replaced)");
      keyExpiry = SecuritySettings.DEFAULT_AUTH_KEY_EXPIRY;
    }
    Duration keyGrace = r.duration("OPERATOR_UNUSED_KEY_GRACE_PERIOD", SecuritySettings.DEFAULT_UNUSED_KEY_GRACE);
    if (keyGrace.compareTo(Duration.ofSeconds(1)) < 0) {
      r.errors.add("OPERATOR_UNUSED_KEY_GRACE_PERIOD=" + r.string("OPERATOR_UNUSED_KEY_GRACE_PERIOD", "")
          + " is not valid: use a duration of at least 1s (longer than a key takes from its mint to its Secret)");
      keyGrace = SecuritySettings.DEFAULT_UNUSED_KEY_GRACE;
    }
    return new SecuritySettings(
        r.intValue("OPERATOR_ADMIN_PORT", SecuritySettings.DEFAULT_ADMIN_PORT, 0, 65535),
        r.duration("OPERATOR_DOCTOR_MIN_INTERVAL", SecuritySettings.DEFAULT_DOCTOR_MIN_INTERVAL),
        r.enumValue("OPERATOR_STATUS_PAGE", SecuritySettings.StatusPageAccess.class,
            SecuritySettings.StatusPageAccess.GRANT),
        allowHttp, keyExpiry, keyGrace, "");
  }

  private static String readServiceAccountNamespace() {
    try {
      Path p = Path.of(SERVICE_ACCOUNT_NAMESPACE_FILE);
      return Files.isReadable(p) ? Files.readString(p).trim() : null;
    } catch (Exception e) {
      return null;
    }
  }

  /** Reads typed values, collecting one error line per malformed variable. */
  private static final class Reader {
    private final Map<String, String> env;
    private final List<String> errors = new ArrayList<>();
    private final List<String> warnings = new ArrayList<>();

    Reader(Map<String, String> env) {
      this.env = env;
    }

    /** An unset or empty variable counts as unset, as upstream. */
    String string(String name, String def) {
      String v = env.get(name);
      return v == null || v.isEmpty() ? def : v;
    }

    /** Only the exact string {@code true} is true, as upstream (opt.Bool); other values other than false are errors. */
    boolean bool(String name, boolean def) {
      String v = string(name, null);
      if (v == null) {
        return def;
      }
      if (v.equals("true")) {
        return true;
      }
      if (v.equals("false")) {
        return false;
      }
      errors.add(name + "=" + v + " is not valid: use true or false");
      return def;
    }

    List<String> list(String name, List<String> def) {
      String v = string(name, null);
      if (v == null) {
        return def;
      }
      return Arrays.stream(v.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    int intValue(String name, int def, int min, int max) {
      String v = string(name, null);
      if (v == null) {
        return def;
      }
      try {
        int i = Integer.parseInt(v.trim());
        if (i < min || i > max) {
          throw new NumberFormatException();
        }
        return i;
      } catch (NumberFormatException e) {
        errors.add(name + "=" + v + " is not valid: use a whole number from " + min + " to " + max);
        return def;
      }
    }

    Duration duration(String name, Duration def) {
      String v = string(name, null);
      if (v == null) {
        return def;
      }
      Optional<Duration> d = Durations.parse(v);
      if (d.isEmpty()) {
        errors.add(name + "=" + v + " is not valid: use a duration such as 30s, 10m, 24h or 7d");
        return def;
      }
      return d.get();
    }

    /** Like {@link #enumValue}, but an unknown value is a warning (ending with {@code fallback}) instead of an error. */
    <E extends Enum<E>> E enumOrWarn(String name, Class<E> type, E def, String fallback) {
      String v = string(name, null);
      if (v == null) {
        return def;
      }
      for (E e : type.getEnumConstants()) {
        if (e.name().equalsIgnoreCase(v.trim())) {
          return e;
        }
      }
      List<String> accepted = Arrays.stream(type.getEnumConstants()).map(e -> e.name().toLowerCase()).toList();
      warnings.add(name + "=" + v + " is not one of " + String.join(", ", accepted) + ": " + fallback);
      return def;
    }

    <E extends Enum<E>> E enumValue(String name, Class<E> type, E def) {
      String v = string(name, null);
      if (v == null) {
        return def;
      }
      for (E e : type.getEnumConstants()) {
        if (e.name().equalsIgnoreCase(v.trim())) {
          return e;
        }
      }
      List<String> accepted = Arrays.stream(type.getEnumConstants()).map(e -> e.name().toLowerCase()).toList();
      errors.add(name + "=" + v + " is not valid: use one of " + String.join(", ", accepted));
      return def;
    }
  }
}
