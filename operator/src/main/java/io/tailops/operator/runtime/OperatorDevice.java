package io.tailops.operator.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.tailops.controlplane.AuthKey;
import io.tailops.controlplane.AuthKeyRequest;
import io.tailops.controlplane.ControlPlane;
import io.tailops.controlplane.ControlPlaneException;
import io.tailops.operator.config.OperatorConfig;
import io.tailops.operator.proxy.DeviceState;
import io.tailops.operator.proxy.ProxyConfigSecret;
import io.tailops.operator.proxy.ProxySecrets;
import io.tailops.operator.proxy.ServeConfig;
import io.tailops.operator.proxy.TailscaledConfig;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's own tailnet device, the Java way: the operator pod has a {@code tailscale} container (the proxy
 * image, containerboot) that the operator configures through its device Secret ({@code OPERATOR_SECRET}, default
 * {@code operator}) exactly as it configures proxies: a tailscaled config with hostname {@code OPERATOR_HOSTNAME} and
 * an auth key minted with {@code OPERATOR_INITIAL_TAGS} (until the device exists), {@code ServerURL} for a custom
 * control server, and a serve config that publishes the status page (the loopback admin port's {@value #TAILNET_PATH},
 * which admits only callers with the status page grant by default) on the tailnet over HTTPS. The key
 * {@code leader} names the pod whose container may run (only the leader's does).
 */
public final class OperatorDevice implements AutoCloseable {
  public static final String LEADER_KEY = "leader";
  public static final String DEVICE_ID_ANNOTATION = "tailscale.com/device-id";
  public static final String REAUTH_AT = "tailscale.com/reauth-at";
  /** Path prefix on the admin port where the device's serve config sends tailnet requests for the status page. */
  public static final String TAILNET_PATH = "/tailnet";
  private static final Logger LOG = LoggerFactory.getLogger(OperatorDevice.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> STATE_KEYS = Set.of("_machinekey", "_profiles", "_current-profile",
      DeviceState.KEY_DEVICE_ID, DeviceState.KEY_DEVICE_FQDN, DeviceState.KEY_DEVICE_IPS,
      DeviceState.KEY_HTTPS_ENDPOINT);

  private final OperatorConfig config;
  private final KubernetesClient client;
  private final ControlPlane controlPlane;
  private final OperatorHealth health;
  private final Clock clock;
  private final String identity;
  private final int statusPort;
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "operator-device");
    t.setDaemon(true);
    return t;
  });
  private volatile DeviceState device = DeviceState.NONE;
  private volatile int apiServerProxyPort = -1;
  private volatile java.util.function.Consumer<String> apiServerProxyEndpoint = url -> { };

  public OperatorDevice(OperatorConfig config, KubernetesClient client, ControlPlane controlPlane,
      OperatorHealth health, Clock clock, String identity, int statusPort) {
    this.config = config;
    this.client = client;
    this.controlPlane = controlPlane;
    this.health = health;
    this.clock = clock;
    this.identity = identity;
    this.statusPort = statusPort;
  }

  /**
   * Publishes the Kubernetes API server proxy listening on loopback {@code port} on the device's HTTPS port 443 (HTTP
   * port 80 without certificates), where upstream serves it; the status page moves to 8443 (8080). {@code endpoint}
   * hears the URL kubectl uses once the device's name is known.
   */
  public OperatorDevice apiServerProxy(int port, java.util.function.Consumer<String> endpoint) {
    this.apiServerProxyPort = port;
    this.apiServerProxyEndpoint = endpoint;
    return this;
  }

  public OperatorDevice start(Duration period) {
    timer.scheduleWithFixedDelay(this::syncIfLeader, 0, period.toMillis(), TimeUnit.MILLISECONDS);
    return this;
  }

  /** What the device reported last (for the status page). */
  public DeviceState device() {
    return device;
  }

  private void syncIfLeader() {
    if (!health.isLeader()) {
      return;
    }
    try {
      sync();
    } catch (ControlPlaneException e) {
      LOG.info("operator device: {}", e.userMessage());
    } catch (KubernetesClientException e) {
      LOG.info("operator device Secret: {}", e.getMessage());
    } catch (RuntimeException e) {
      LOG.warn("operator device: {}", e.toString());
    }
  }

  /** Makes the device Secret say what it should; writes only what differs. */
  public void sync() throws ControlPlaneException {
    String name = config.operatorSecret();
    Secret secret = client.secrets().inNamespace(config.namespace()).withName(name).get();
    DeviceState state = DeviceState.from(secret);
    device = state;
    Map<String, String> ann = secret == null || secret.getMetadata().getAnnotations() == null ? Map.of()
        : secret.getMetadata().getAnnotations();
    String keyInConfig = secret == null ? null
        : TailscaledConfig.authKeyOf(ProxyConfigSecret.value(secret, TailscaledConfig.CAP_107));
    String knownDevice = ann.get(DEVICE_ID_ANNOTATION);
    // A key the device container has not used by the time it expires (OPERATOR_AUTH_KEY_EXPIRY) is replaced.
    Instant keyExpires = parse(ann.get(ProxySecrets.AUTH_KEY_EXPIRES));
    boolean keyExpired = keyInConfig != null && !state.hasDevice() && keyExpires != null
        && !clock.instant().isBefore(keyExpires);
    boolean needsKey = secret == null || keyExpired || !state.hasDevice() && keyInConfig == null
        && (knownDevice == null || controlPlane.getDevice(knownDevice).isEmpty());
    if (needsKey && secret != null && knownDevice != null) {
      Instant last = parse(ann.get(REAUTH_AT));
      if (last != null && Duration.between(last, clock.instant()).compareTo(config.reauthMinInterval()) < 0) {
        return;
      }
      LOG.info("the operator's device {} no longer exists; registering it again", knownDevice);
    }
    String key = keyInConfig;
    AuthKey minted = null;
    if (needsKey) {
      minted = controlPlane.createAuthKey(new AuthKeyRequest(config.operatorInitialTags(), false, false, true,
          io.tailops.operator.proxy.ProxyDefaults.from(config).authKeys().description("own device")).withExpiry(config.security().authKeyExpiry()));
      key = minted.secret();
    } else if (state.hasDevice()) {
      key = null;
    }
    Map<String, String> desired = new LinkedHashMap<>(new TailscaledConfig(config.loginServer().isEmpty() ? null
        : config.loginServer(), key, config.operatorHostname(), false).files());
    desired.put("serve-config", serveConfig(state));
    desired.put(LEADER_KEY, identity);
    if (secret == null) {
      client.secrets().inNamespace(config.namespace()).resource(new SecretBuilder().withNewMetadata().withName(name)
          .withNamespace(config.namespace()).addToLabels("app.kubernetes.io/name", "tailscale-operator")
          .addToLabels("app.kubernetes.io/component", "operator-device").withAnnotations(keyAnnotations(minted))
          .endMetadata().withData(ProxyConfigSecret.encode(desired)).build()).create();
      LOG.info("created the operator's device Secret {} (hostname {})", name, config.operatorHostname());
      return;
    }
    Map<String, String> changed = ProxyConfigSecret.changedKeys(secret, desired);
    ObjectNode patch = JSON.createObjectNode();
    ObjectNode meta = patch.putObject("metadata");
    meta.put("resourceVersion", secret.getMetadata().getResourceVersion());
    boolean annotate = state.hasDevice() && !state.deviceId().equals(knownDevice);
    if (annotate || needsKey) {
      ObjectNode a = meta.putObject("annotations");
      if (annotate) {
        a.put(DEVICE_ID_ANNOTATION, state.deviceId());
      }
      if (needsKey) {
        a.put(REAUTH_AT, clock.instant().toString());
        a.putNull(DEVICE_ID_ANNOTATION);
        a.putNull(ProxySecrets.AUTH_KEY_EXPIRES);
        keyAnnotations(minted).forEach(a::put);
      }
    }
    if (changed.isEmpty() && !annotate && !needsKey) {
      return;
    }
    ObjectNode data = patch.putObject("data");
    ProxyConfigSecret.encode(changed).forEach(data::put);
    if (needsKey && secret.getData() != null) {
      for (String k : secret.getData().keySet()) {
        if (STATE_KEYS.contains(k) || k.startsWith("profile-")) {
          data.putNull(k);
        }
      }
    }
    client.secrets().inNamespace(config.namespace()).withName(name).patch(PatchContext.of(PatchType.JSON_MERGE),
        patch.toString());
    String oldKey = ann.get(ProxySecrets.AUTH_KEY_ID);
    if (keyExpired && oldKey != null) {
      LOG.info("the operator device's auth key {} expired unused; replaced it with {}", oldKey, minted.id());
      try {
        controlPlane.deleteAuthKey(oldKey);
      } catch (ControlPlaneException e) {
        LOG.info("could not revoke the expired auth key {}: {}", oldKey, e.userMessage());
      }
    }
  }

  /** The ID and expiry of a key just minted, for the device Secret's annotations (none without a key). */
  private static Map<String, String> keyAnnotations(AuthKey minted) {
    return minted == null ? Map.of() : ProxySecrets.keyAnnotations(minted);
  }

  /**
   * HTTPS on 443 to the status page, or plain HTTP on 80 where the control plane issues no certificates. With the API
   * server proxy, 443 (80) goes to the proxy instead and the status page to 8443 (8080). The status page target is
   * the admin port's {@value #TAILNET_PATH}, where {@link StatusPageGate} decides who sees it; with
   * {@code OPERATOR_STATUS_PAGE=off} it is not published at all.
   */
  String serveConfig(DeviceState state) {
    boolean https = controlPlane.capabilities().httpsCertificates();
    int port = https ? 443 : 80;
    ServeConfig serve = new ServeConfig();
    if (apiServerProxyPort > 0) {
      serve(serve, state, https, port, "http://127.0.0.1:" + apiServerProxyPort);
      port = https ? 8443 : 8080;
      if (!state.fqdn().isEmpty()) {
        apiServerProxyEndpoint.accept((https ? "https://" : "http://") + state.fqdn());
      }
    }
    if (config.security().statusPage() != io.tailops.operator.config.SecuritySettings.StatusPageAccess.OFF) {
      serve(serve, state, https, port, "http://127.0.0.1:" + statusPort + TAILNET_PATH);
    }
    return serve.toJson();
  }

  private static void serve(ServeConfig serve, DeviceState state, boolean https, int port, String target) {
    String hostPort = https || state.fqdn().isEmpty() ? ServeConfig.hostPort(port) : state.fqdn() + ":" + port;
    serve.tcp(port, https).proxy(hostPort, "/", target);
  }

  private static Instant parse(String s) {
    try {
      return s == null ? null : Instant.parse(s);
    } catch (Exception e) {
      return null;
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
