package io.tailops.operator.apiproxy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.micrometer.core.instrument.MeterRegistry;
import io.tailops.operator.config.ApiServerProxySettings;
import io.tailops.operator.config.OperatorConfig;
import io.tailops.operator.doctor.Doctor;
import io.tailops.operator.status.EventSink;
import java.io.IOException;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API server proxy as the operator runs it ({@code APISERVER_PROXY}): started with the operator when its own
 * device is on, on the operator's Kubernetes client settings; reported in the status ConfigMap (through
 * {@link ApiServerProxyStatus}), doctor, and Events on the status ConfigMap.
 */
public final class OperatorApiServerProxy implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(OperatorApiServerProxy.class);
  /** Event reason: a grant asks for session recording and this operator has no Recorder. */
  public static final String REASON_RECORDING_UNAVAILABLE = "SessionRecordingUnavailable";

  private final ApiServerProxySettings settings;
  private final ApiServerProxyStatus status;
  private final ApiServerProxy proxy;

  private OperatorApiServerProxy(ApiServerProxySettings settings, ApiServerProxyStatus status, ApiServerProxy proxy) {
    this.settings = settings;
    this.status = status;
    this.proxy = proxy;
  }

  /**
   * Starts the proxy if {@code APISERVER_PROXY} asks for it and the operator has its own device; otherwise returns a
   * stopped one whose status says why.
   *
   * @param statusConfigMapName the ConfigMap Events about the proxy are recorded on
   */
  public static OperatorApiServerProxy start(OperatorConfig config, KubernetesClient client, MeterRegistry registry,
      EventSink events, Clock clock, String statusConfigMapName) throws IOException {
    ApiServerProxySettings settings = config.apiServerProxy();
    ApiServerProxyStatus status = new ApiServerProxyStatus(settings.mode(), clock, registry);
    if (!settings.enabled()) {
      return new OperatorApiServerProxy(settings, status, null);
    }
    if (!config.selfDevice()) {
      status.problem("the operator has no tailnet device of its own (OPERATOR_SELF_DEVICE=false; chart value "
          + "operatorConfig.device.enabled)");
      return new OperatorApiServerProxy(settings, status, null);
    }
    status.onNotice(n -> {
      try {
        ConfigMap cm = client.configMaps().inNamespace(config.namespace()).withName(statusConfigMapName).get();
        events.warning(cm, REASON_RECORDING_UNAVAILABLE, n.message());
      } catch (KubernetesClientException e) {
        LOG.debug("cannot record the recording notice as an Event: {}", e.getMessage());
      }
    });
    Upstream upstream = settings.mode() == ApiServerProxySettings.Mode.AUTH
        ? Upstream.withOperatorCredentials(client.getConfiguration(), clock)
        : Upstream.anonymous(client.getConfiguration());
    ApiServerProxy proxy = new ApiServerProxy(settings.mode(), upstream, new LocalApiWhoIs(settings.deviceSocket()),
        status).start(settings.port());
    return new OperatorApiServerProxy(settings, status, proxy);
  }

  public boolean running() {
    return proxy != null;
  }

  /** The loopback port the device's serve config forwards to (only when {@link #running()}). */
  public int port() {
    return proxy.port();
  }

  public ApiServerProxyStatus status() {
    return status;
  }

  /** The doctor line for the proxy (none when it is off). */
  public java.util.Optional<Doctor.Check> check() {
    if (!settings.enabled()) {
      return java.util.Optional.empty();
    }
    String name = "api server proxy";
    String mode = "APISERVER_PROXY=" + settings.mode().envValue();
    if (status.problem() != null) {
      return java.util.Optional.of(new Doctor.Check(name, Doctor.Status.FAIL, mode + ": not serving: "
          + status.problem(), proxy == null ? "set operatorConfig.device.enabled: true in the chart values"
          : "check the operator pod's tailscale container (its LocalAPI socket is shared with the operator at "
              + settings.deviceSocket() + ")"));
    }
    if (!status.notices().isEmpty()) {
      return java.util.Optional.of(new Doctor.Check(name, Doctor.Status.WARN, mode + ": "
          + status.notices().get(status.notices().size() - 1).message(), "remove the recorder settings from the "
          + "tailscale.com/cap/kubernetes grant until this operator supports the Recorder"));
    }
    String where = status.endpoint().isEmpty() ? "waiting for the operator device"
        : "kubectl server " + ApiServerProxyStatus.describe(status.endpoint());
    return java.util.Optional.of(new Doctor.Check(name, Doctor.Status.OK, mode + ": " + where, ""));
  }

  @Override
  public void close() {
    if (proxy != null) {
      proxy.close();
    }
  }
}
