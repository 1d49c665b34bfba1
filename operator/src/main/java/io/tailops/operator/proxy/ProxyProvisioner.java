package io.tailops.operator.proxy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.tailops.controlplane.AuthKey;
import io.tailops.controlplane.AuthKeyRequest;
import io.tailops.controlplane.ControlPlane;
import io.tailops.controlplane.ControlPlaneException;
import io.tailops.operator.k8s.TailscaleKeys;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates, updates and removes the objects of one proxy in the operator namespace — headless Service, config/state
 * Secret, StatefulSet — and mints or revokes its auth key and deletes its device (official behaviour §3.7, §6.2,
 * §7). Every write happens only when something differs, so a resync of an unchanged proxy makes no API call.
 */
public class ProxyProvisioner {
  /** On the config Secret: ID of the auth key minted for it, so that an unused key can be revoked. */
  public static final String AUTH_KEY_ID_ANNOTATION = "tailscale.com/auth-key-id";
  /** On the config Secret: the last device ID the proxy reported, kept across proxy restarts for cleanup. */
  public static final String DEVICE_ID_ANNOTATION = "tailscale.com/device-id";

  private static final Logger LOG = LoggerFactory.getLogger(ProxyProvisioner.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final KubernetesClient client;
  private final Supplier<ControlPlane> controlPlane;
  private final ProxyDefaults defaults;

  public ProxyProvisioner(KubernetesClient client, Supplier<ControlPlane> controlPlane, ProxyDefaults defaults) {
    this.client = client;
    this.controlPlane = controlPlane;
    this.defaults = defaults;
  }

  /** The outcome of a provisioning pass: the proxy's name and what it reported. */
  public record Provisioned(String statefulSetName, Secret secret, DeviceState device, boolean keyMinted) {
  }

  /** Ensures all objects of the proxy exist and match {@code spec}. */
  public Provisioned provision(ProxySpec spec, ProxyObjectStore store) throws ProvisionException {
    ParentRef parent = spec.parent();
    String name = proxyName(parent, store);

    // 1. Headless Service.
    Service desiredSvc = ProxyHeadlessService.build(spec, name, defaults);
    List<Service> services = store.headlessServices(parent);
    Optional<Service> liveSvc = services.stream().filter(s -> name.equals(s.getMetadata().getName())).findFirst();
    if (liveSvc.isEmpty()) {
      create(store, desiredSvc);
    } else if (!ProxyHeadlessService.matches(liveSvc.get(), desiredSvc)) {
      Service updated = new io.fabric8.kubernetes.api.model.ServiceBuilder(liveSvc.get())
          .editMetadata().addToLabels(desiredSvc.getMetadata().getLabels()).endMetadata()
          .editSpec().withSelector(desiredSvc.getSpec().getSelector())
          .withIpFamilyPolicy(desiredSvc.getSpec().getIpFamilyPolicy()).endSpec().build();
      update(store, updated, liveSvc.get());
    }

    // 2. Config/state Secret, with an auth key only while the proxy has no device.
    String secretName = ProxyNames.secretName(name, 0);
    Secret secret = store.secret(secretName).orElse(null);
    if (secret == null) {
      secret = getLive(Secret.class, secretName);
      if (secret != null) {
        store.created(secret);
      }
    }
    boolean minted = false;
    if (secret == null) {
      AuthKey key = mintKey(spec, name);
      minted = true;
      Map<String, String> data = ProxyConfigSecret.desiredData(spec, key.secret(), defaults);
      Secret fresh = ProxyConfigSecret.build(spec, secretName, data, defaults);
      fresh.getMetadata().setAnnotations(new LinkedHashMap<>(Map.of(AUTH_KEY_ID_ANNOTATION, key.id())));
      try {
        secret = client.secrets().inNamespace(defaults.namespace()).resource(fresh).create();
        store.created(secret);
      } catch (KubernetesClientException e) {
        revokeQuietly(key);
        if (e.getCode() == 409) {
          throw new ProvisionException("proxy Secret " + secretName + " appeared concurrently; retrying", "ProxyRetry",
              true, e);
        }
        throw apiError("creating proxy Secret " + secretName, e);
      }
    } else {
      secret = reconcileSecret(spec, secret, store);
    }

    // 3. StatefulSet.
    StatefulSet desiredSts = ProxyStatefulSet.build(spec, name, defaults);
    Optional<StatefulSet> liveSts = store.statefulSets(parent).stream()
        .filter(s -> name.equals(s.getMetadata().getName())).findFirst();
    if (liveSts.isEmpty()) {
      create(store, desiredSts);
    } else if (liveSts.get().getMetadata().getDeletionTimestamp() == null
        && !ProxyStatefulSet.hashOf(desiredSts).equals(ProxyStatefulSet.hashOf(liveSts.get()))) {
      StatefulSet live = liveSts.get();
      StatefulSet updated = new io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder(live)
          .editMetadata().withLabels(desiredSts.getMetadata().getLabels())
          .withAnnotations(desiredSts.getMetadata().getAnnotations()).endMetadata()
          .editSpec().withReplicas(desiredSts.getSpec().getReplicas())
          .withTemplate(desiredSts.getSpec().getTemplate()).endSpec().build();
      update(store, updated, live);
    }

    // 4. Metrics Service (and ServiceMonitor) when the ProxyClass enables metrics (§4.5).
    reconcileMetrics(spec, name, store);
    return new Provisioned(name, secret, DeviceState.from(secret), minted);
  }

  /**
   * Updates the operator-owned keys of an existing Secret: config (keeping or dropping the auth key), serve config.
   * The proxy writes its state keys into the same Secret, so a write based on an older copy conflicts now and then
   * (409); the decision is then made again on the current Secret (up to three times) instead of failing the
   * reconcile with a warning about a race that is nobody's fault.
   */
  private Secret reconcileSecret(ProxySpec spec, Secret secret, ProxyObjectStore store) throws ProvisionException {
    Secret current = secret;
    for (int attempt = 1; ; attempt++) {
      try {
        return reconcileSecretOnce(spec, current, store);
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 || attempt == 3) {
          throw apiError("updating proxy Secret " + secret.getMetadata().getName(), e);
        }
        LOG.debug("proxy Secret {} changed under us (409); deciding again on the current copy",
            secret.getMetadata().getName());
        current = getLive(Secret.class, secret.getMetadata().getName());
        if (current == null) {
          throw new ProvisionException("proxy Secret " + secret.getMetadata().getName() + " was deleted; retrying",
              "ProxyRetry", true, e);
        }
      }
    }
  }

  private Secret reconcileSecretOnce(ProxySpec spec, Secret secret, ProxyObjectStore store) {
    DeviceState state = DeviceState.from(secret);
    String authKey = null;
    if (!state.hasDevice()) {
      authKey = TailscaledConfig.authKeyOf(ProxyConfigSecret.value(secret, TailscaledConfig.CAP_107));
      if (authKey == null) {
        authKey = TailscaledConfig.authKeyOf(ProxyConfigSecret.value(secret, TailscaledConfig.CAP_95));
      }
    }
    Map<String, String> desired = ProxyConfigSecret.desiredData(spec, authKey, defaults);
    Map<String, String> changed = ProxyConfigSecret.changedKeys(secret, desired);
    Map<String, String> annotations = new LinkedHashMap<>();
    Map<String, String> live = secret.getMetadata().getAnnotations() == null ? Map.of()
        : secret.getMetadata().getAnnotations();
    if (state.hasDevice() && !state.deviceId().equals(live.get(DEVICE_ID_ANNOTATION))) {
      annotations.put(DEVICE_ID_ANNOTATION, state.deviceId());
    }
    if (changed.isEmpty() && annotations.isEmpty()) {
      return secret;
    }
    ObjectNode patch = JSON.createObjectNode();
    patch.putObject("metadata").put("resourceVersion", secret.getMetadata().getResourceVersion());
    if (!annotations.isEmpty()) {
      ObjectNode a = ((ObjectNode) patch.get("metadata")).putObject("annotations");
      annotations.forEach(a::put);
    }
    if (!changed.isEmpty()) {
      ObjectNode d = patch.putObject("data");
      ProxyConfigSecret.encode(changed).forEach(d::put);
    }
    Secret updated = client.secrets().inNamespace(defaults.namespace()).withName(secret.getMetadata().getName())
        .patch(PatchContext.of(PatchType.JSON_MERGE), patch.toString());
    store.updated(updated, secret);
    LOG.debug("updated proxy Secret {} keys {}", secret.getMetadata().getName(), changed.keySet());
    return updated;
  }

  private AuthKey mintKey(ProxySpec spec, String name) throws ProvisionException {
    try {
      String description = ("k8s proxy " + name);
      if (description.length() > 50) {
        description = description.substring(0, 50);
      }
      return controlPlane.get().createAuthKey(AuthKeyRequest.forProxy(spec.tags(), spec.ephemeral(), description));
    } catch (ControlPlaneException e) {
      throw new ProvisionException("failed to create an auth key for the proxy: " + e.userMessage(),
          "AuthKeyFailed", e.isTransient(), e);
    }
  }

  private void revokeQuietly(AuthKey key) {
    try {
      controlPlane.get().deleteAuthKey(key.id());
    } catch (Exception e) {
      LOG.warn("could not revoke unused auth key {}: {}", key.id(), e.getMessage());
    }
  }

  /**
   * One step of removing the proxy of {@code parent} (§6.2): StatefulSet first (foreground, waiting for its pods),
   * then the devices (404 is success), then the Secrets and headless Services.
   *
   * <p>It reads the proxy's objects from the API server, not from the informer caches: when the parent is deleted
   * while its proxy is being created, or right after the proxy's last write (its device ID), the caches may not have
   * the newest objects yet, and the cleanup would leave a Secret or a device behind for good (both found by
   * ControlPlaneFaultsProductionIT: an orphaned Secret at seed 2501, a device whose key was revoked as unused at seed
   * 2500). A few label-selected LISTs in the operator namespace per removal.
   *
   * @return true when nothing is left; false when waiting for the StatefulSet to go away
   */
  public boolean cleanup(ParentRef parent) throws ProvisionException {
    List<StatefulSet> sets = current(parent, client.apps().statefulSets());
    if (!sets.isEmpty()) {
      for (StatefulSet s : sets) {
        if (s.getMetadata().getDeletionTimestamp() == null) {
          try {
            client.apps().statefulSets().inNamespace(defaults.namespace()).withName(s.getMetadata().getName())
                .withPropagationPolicy(DeletionPropagation.FOREGROUND).delete();
          } catch (KubernetesClientException e) {
            if (e.getCode() != 404) {
              throw apiError("deleting proxy StatefulSet " + s.getMetadata().getName(), e);
            }
          }
        }
      }
      return false;
    }
    List<Secret> secrets = current(parent, client.secrets());
    for (Secret s : secrets) {
      String deviceId = DeviceState.from(s).deviceId();
      if (deviceId.isEmpty() && s.getMetadata().getAnnotations() != null) {
        deviceId = s.getMetadata().getAnnotations().getOrDefault(DEVICE_ID_ANNOTATION, "");
      }
      try {
        if (!deviceId.isEmpty()) {
          boolean existed = controlPlane.get().deleteDevice(deviceId);
          LOG.info("deleted device {} of {} ({})", deviceId, parent, existed ? "removed" : "already gone");
        } else {
          String keyId = s.getMetadata().getAnnotations() == null ? null
              : s.getMetadata().getAnnotations().get(AUTH_KEY_ID_ANNOTATION);
          String key = TailscaledConfig.authKeyOf(ProxyConfigSecret.value(s, TailscaledConfig.CAP_107));
          if (keyId != null && key != null) {
            controlPlane.get().deleteAuthKey(keyId);
            LOG.info("revoked unused auth key {} of {}", keyId, parent);
          }
        }
      } catch (ControlPlaneException e) {
        throw new ProvisionException("failed to delete the proxy's device " + deviceId + ": " + e.userMessage(),
            "DeviceDeleteFailed", e.isTransient(), e);
      }
    }
    for (Secret s : secrets) {
      deleteQuietly(s);
    }
    for (Service s : current(parent, client.services())) {
      deleteQuietly(s); // the headless Service and the metrics Service (its ServiceMonitor goes with it)
    }
    return true;
  }

  /** The objects of {@code parent}'s proxy as the API server has them now (by their child labels). */
  private <T extends HasMetadata, L extends io.fabric8.kubernetes.api.model.KubernetesResourceList<T>> List<T>
      current(ParentRef parent, io.fabric8.kubernetes.client.dsl.MixedOperation<T, L, ?> kind)
      throws ProvisionException {
    try {
      return kind.inNamespace(defaults.namespace()).withLabels(ChildLabels.of(parent)).list().getItems();
    } catch (KubernetesClientException e) {
      throw apiError("listing the proxy's objects of " + parent, e);
    }
  }

  private void deleteQuietly(HasMetadata obj) throws ProvisionException {
    try {
      client.resource(obj).withGracePeriod(0).delete();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw apiError("deleting " + obj.getKind() + " " + obj.getMetadata().getName(), e);
      }
    }
  }

  private void reconcileMetrics(ProxySpec spec, String name, ProxyObjectStore store) throws ProvisionException {
    Optional<Service> live = store.services(spec.parent()).stream()
        .filter(s -> ProxyMetrics.serviceName(name).equals(s.getMetadata().getName())).findFirst();
    if (!ProxyMetrics.enabled(spec.proxyClass())) {
      if (live.isPresent()) {
        deleteQuietly(live.get());
      }
      return;
    }
    Service desired = ProxyMetrics.service(spec, name, defaults.namespace());
    boolean serviceChanged = true;
    if (live.isEmpty()) {
      create(store, desired);
    } else if (!ProxyMetrics.matches(live.get(), desired)) {
      Service updated = new io.fabric8.kubernetes.api.model.ServiceBuilder(live.get())
          .editMetadata().withLabels(desired.getMetadata().getLabels())
          .withAnnotations(desired.getMetadata().getAnnotations()).endMetadata()
          .editSpec().withPorts(desired.getSpec().getPorts()).withSelector(desired.getSpec().getSelector()).endSpec()
          .build();
      update(store, updated, live.get());
    } else {
      serviceChanged = false;
    }
    // The ServiceMonitor follows the metrics Service (it is owned by it, so deleting the Service removes it). When the
    // Service is unchanged, one read tells whether the ServiceMonitor still needs creating (an earlier attempt may
    // have failed, e.g. right after the CRD was installed) or removing; no write when all is in place.
    Service current = store.services(spec.parent()).stream()
        .filter(s -> ProxyMetrics.serviceName(name).equals(s.getMetadata().getName())).findFirst().orElse(desired);
    boolean wanted = ProxyMetrics.serviceMonitorEnabled(spec.proxyClass()) && current.getMetadata().getUid() != null;
    try {
      var monitors = client.genericKubernetesResources(ProxyMetrics.SERVICE_MONITOR_API, "ServiceMonitor")
          .inNamespace(defaults.namespace());
      var monitor = monitors.withName(ProxyMetrics.serviceName(name));
      if (wanted) {
        if (serviceChanged || monitor.get() == null) {
          monitors.resource(ProxyMetrics.serviceMonitor(spec, current)).createOr(r -> r.update());
        }
      } else if (serviceChanged || monitor.get() != null) {
        monitor.delete();
      }
    } catch (KubernetesClientException e) {
      if (wanted) {
        throw apiError("creating the ServiceMonitor " + ProxyMetrics.serviceName(name), e);
      }
      LOG.debug("ServiceMonitor for {} not removed: {}", name, e.getMessage());
    }
  }

  /** The proxy's name: the existing StatefulSet's or headless Service's (adopting older proxies), else a new one. */
  String proxyName(ParentRef parent, ProxyObjectStore store) throws ProvisionException {
    List<StatefulSet> sets = store.statefulSets(parent);
    if (sets.size() > 1) {
      throw new ProvisionException("found " + sets.size() + " StatefulSets for " + parent
          + " in namespace " + defaults.namespace() + "; delete all but one", "ProxyConflict", false, null);
    }
    if (sets.size() == 1) {
      return sets.get(0).getMetadata().getName();
    }
    List<Service> svcs = store.headlessServices(parent);
    if (svcs.size() > 1) {
      throw new ProvisionException("found " + svcs.size() + " headless Services for " + parent
          + " in namespace " + defaults.namespace() + "; delete all but one", "ProxyConflict", false, null);
    }
    if (svcs.size() == 1) {
      return svcs.get(0).getMetadata().getName();
    }
    return ProxyNames.statefulSetName(parent);
  }

  private <T extends HasMetadata> T getLive(Class<T> type, String name) throws ProvisionException {
    try {
      return client.resources(type).inNamespace(defaults.namespace()).withName(name).get();
    } catch (KubernetesClientException e) {
      throw apiError("reading " + type.getSimpleName() + " " + name, e);
    }
  }

  private <T extends HasMetadata> void create(ProxyObjectStore store, T obj) throws ProvisionException {
    try {
      T created = client.resource(obj).create();
      store.created(created);
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        throw new ProvisionException(obj.getKind() + " " + obj.getMetadata().getName()
            + " already exists (the cache was behind); retrying", "ProxyRetry", true, e);
      }
      throw apiError("creating " + obj.getKind() + " " + obj.getMetadata().getName(), e);
    }
  }

  private <T extends HasMetadata> void update(ProxyObjectStore store, T obj, T previous) throws ProvisionException {
    try {
      T updated = client.resource(obj).update();
      store.updated(updated, previous);
    } catch (KubernetesClientException e) {
      throw apiError("updating " + obj.getKind() + " " + obj.getMetadata().getName(), e);
    }
  }

  static ProvisionException apiError(String what, KubernetesClientException e) {
    boolean transientFailure = e.getCode() == 409 || e.getCode() == 429 || e.getCode() >= 500 || e.getCode() == 0;
    String detail = e.getStatus() != null && e.getStatus().getMessage() != null ? e.getStatus().getMessage()
        : e.getMessage();
    return new ProvisionException(what + " failed: " + detail, "KubernetesApiError", transientFailure, e);
  }

  static String annotation(HasMetadata obj, String key) {
    return obj.getMetadata().getAnnotations() == null ? null : obj.getMetadata().getAnnotations().get(key);
  }

  /** For tests and diagnostics. */
  public ProxyDefaults defaults() {
    return defaults;
  }

  /** Keys of the Secret the operator owns, for callers that need to know. */
  public static List<String> operatorKeys() {
    return List.of(TailscaledConfig.CAP_95, TailscaledConfig.CAP_107, ProxyStatefulSet.SERVE_CONFIG_KEY,
        TailscaleKeys.SPEC_HASH);
  }
}
