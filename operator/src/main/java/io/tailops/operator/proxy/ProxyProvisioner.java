package io.tailops.operator.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.tailops.controlplane.AuthKey;
import io.tailops.controlplane.ControlPlane;
import io.tailops.controlplane.ControlPlaneException;
import io.tailops.operator.k8s.TailscaleKeys;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the objects of one proxy in the operator namespace what the operator wants ({@link DesiredProxy}) and removes
 * them again: creates what is missing, mints an auth key for each new replica Secret, and compares the fields the
 * operator owns in every live object with the desired ones ({@link Drift}), writing only where they differ. A difference
 * while the desired proxy is unchanged (the hash on the StatefulSet) is a hand edit: it is put back and reported.
 * Official behaviour §3.7, §6.2, §7.
 */
public class ProxyProvisioner {
  private static final Logger LOG = LoggerFactory.getLogger(ProxyProvisioner.class);

  private final ProxyWrites writes;
  private final ProxySecrets secrets;
  private final Supplier<ControlPlane> controlPlane;
  private final ProxyDefaults defaults;
  private final java.time.Clock clock;
  private final DeviceRegistry devices;

  /** A provisioner with a registry of its own in memory (tests). */
  public ProxyProvisioner(ProxyWrites writes, Supplier<ControlPlane> controlPlane, ProxyDefaults defaults) {
    this(writes, controlPlane, defaults, DeviceRegistry.inMemory(), java.time.Clock.systemUTC());
  }

  /** @param clock tells when an unused auth key has expired and must be replaced */
  public ProxyProvisioner(ProxyWrites writes, Supplier<ControlPlane> controlPlane, ProxyDefaults defaults,
      java.time.Clock clock) {
    this(writes, controlPlane, defaults, DeviceRegistry.inMemory(), clock);
  }

  /** @param devices where every device a proxy registered is remembered (the operator's {@link DeviceRegistry}) */
  public ProxyProvisioner(ProxyWrites writes, Supplier<ControlPlane> controlPlane, ProxyDefaults defaults,
      DeviceRegistry devices) {
    this(writes, controlPlane, defaults, devices, java.time.Clock.systemUTC());
  }

  /**
   * @param devices where every device a proxy registered is remembered (the operator's {@link DeviceRegistry})
   * @param clock tells when an unused auth key has expired and must be replaced
   */
  public ProxyProvisioner(ProxyWrites writes, Supplier<ControlPlane> controlPlane, ProxyDefaults defaults,
      DeviceRegistry devices, java.time.Clock clock) {
    this.writes = writes;
    this.secrets = new ProxySecrets(writes);
    this.controlPlane = controlPlane;
    this.defaults = defaults;
    this.clock = clock;
    this.devices = devices;
  }

  /** Ensures all objects of a {@link StandardProxy} exist and match {@code spec}. */
  public ObservedProxy provision(ProxySpec spec, ProxyObjectStore store) throws ProvisionException {
    return provision(spec, StandardProxy::build, store);
  }

  /** Ensures all objects of the proxy {@code blueprint} builds for {@code spec} exist and match. */
  public ObservedProxy provision(ProxySpec spec, ProxyBlueprint blueprint, ProxyObjectStore store)
      throws ProvisionException {
    ParentRef parent = spec.parent();
    Optional<String> fixed = blueprint.fixedName(parent);
    String name = fixed.isPresent() ? fixed.get() : proxyName(parent, store);
    DesiredProxy desired = blueprint.build(spec, name, defaults);
    Optional<StatefulSet> liveSts = store.statefulSets(parent).stream()
        .filter(s -> name.equals(s.getMetadata().getName())).findFirst();
    // The desired proxy is what the operator last enforced: any difference is somebody else's edit.
    boolean settled = liveSts.isPresent() && Objects.equals(ProxyStatefulSet.hashOf(liveSts.get()), desired.hash());
    List<String> reverted = new ArrayList<>();

    // 1. Headless Service (its desired form depends only on the parent: a difference is always a hand edit).
    if (desired.headlessService() != null) {
      Service want = desired.headlessService();
      Optional<Service> live = store.headlessServices(parent).stream()
          .filter(s -> name.equals(s.getMetadata().getName())).findFirst();
      if (live.isEmpty()) {
        create(want);
      } else {
        List<String> diff = headlessDifferences(want, live.get());
        if (!diff.isEmpty()) {
          update(new ServiceBuilder(live.get())
              .editMetadata().addToLabels(want.getMetadata().getLabels()).endMetadata()
              .editSpec().withSelector(want.getSpec().getSelector())
              .withIpFamilyPolicy(want.getSpec().getIpFamilyPolicy()).endSpec().build());
          reverted.add(describe(diff, live.get()));
        }
      }
    }

    // 1b. Further objects of the proxy (a ProxyGroup's ServiceAccount, Role, RoleBinding, ConfigMap).
    reconcileOwned(parent, desired, settled, store, reverted);

    // 2. One config Secret per replica, with an auth key only while its proxy has no device, and its state Secret
    // (the same Secret, or one created empty beside it).
    boolean minted = false;
    List<ReplicaState> replicas = new ArrayList<>();
    List<String> recovered = new ArrayList<>();
    for (DesiredProxy.Replica r : desired.replicas()) {
      Secret state = null;
      if (r.stateTemplate() != null) {
        state = ensureStateSecret(r.stateTemplate(), store);
      }
      Secret secret = cachedOrLive(r.secretName(), store);
      if (secret == null) {
        List<DeviceRegistry.Entry> previous = devices.ofReplica(r.secretName());
        if (!previous.isEmpty()) {
          // The replica's Secret was deleted by hand (the seed guide's fix for a logged-out proxy): its devices are
          // ours (registered for this very replica) and have no state to come back to. They go first, so that the
          // new registration gets the name instead of name-1, and the pod restarts into the new Secret.
          for (DeviceRegistry.Entry e : previous) {
            deleteDevice(parent, e.deviceId());
          }
          writes.restartPod(r.secretName());
        }
        secret = createSecret(spec, r, name);
        minted = true;
        if (!previous.isEmpty()) {
          recovered.add("the proxy Secret " + defaults.namespace() + "/" + r.secretName() + " was deleted: the operator "
              + "created it again with a new auth key, deleted the proxy's previous device " + previous.stream()
              .map(e -> e.deviceId() + (e.hostname().isEmpty() ? "" : " (" + e.hostname() + ")")).toList()
              + " so that the new one gets the name " + r.hostname() + ", and restarted the proxy");
        }
      } else {
        secret = enforceSecret(spec, name, r, secret, state, settled, reverted);
        rememberDevice(parent, r, r.stateTemplate() == null ? ReplicaState.of(secret) : ReplicaState.of(state, secret));
      }
      replicas.add(r.stateTemplate() == null ? ReplicaState.of(secret) : ReplicaState.of(state, secret));
    }

    // 3. The pods' own ServiceAccount, Role and RoleBinding (only their own state Secrets), before any pod starts.
    if (desired.access() != null) {
      reconcileAccess(desired.access(), store.accessObjects(parent), settled, reverted);
    }

    // 4. StatefulSet.
    if (liveSts.isEmpty()) {
      create(desired.statefulSet());
    } else if (liveSts.get().getMetadata().getDeletionTimestamp() == null) {
      StatefulSet live = liveSts.get();
      List<String> diff = statefulSetDifferences(desired.statefulSet(), live);
      if (!settled || !diff.isEmpty()) {
        StatefulSet want = desired.statefulSet();
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("/metadata/labels", want.getMetadata().getLabels());
        fields.put("/metadata/annotations", want.getMetadata().getAnnotations());
        fields.put("/spec/replicas", want.getSpec().getReplicas());
        fields.put("/spec/template", want.getSpec().getTemplate());
        try {
          writes.setFields(live, fields);
        } catch (KubernetesClientException e) {
          throw apiError("updating StatefulSet " + live.getMetadata().getName(), e);
        }
        if (settled) {
          reverted.add(describe(diff, live));
        }
      }
    }
    // 3b. Replicas beyond the desired count (a scale-down), once the StatefulSet has been told to stop their pods.
    removeSurplusReplicas(parent, name, desired.replicas().size(), store);

    // 5. Metrics Service (and ServiceMonitor) when the ProxyClass enables metrics (§4.5).
    reconcileMetrics(spec, desired, settled, store, reverted);
    return new ObservedProxy(name, replicas, minted, reverted, recovered, desired);
  }

  /** The Secret from the cache, else as the API server has it (a Secret whose labels were removed by hand). */
  private Secret cachedOrLive(String name, ProxyObjectStore store) throws ProvisionException {
    Secret secret = store.secret(name).orElse(null);
    if (secret == null) {
      secret = readLive(name);
      if (secret != null) {
        store.created(secret);
      }
    }
    return secret;
  }

  /**
   * A replica's separate state Secret: created empty (labels only) before its pod starts, its labels put back when
   * they were removed; its data is the proxy's.
   */
  private Secret ensureStateSecret(Secret template, ProxyObjectStore store) throws ProvisionException {
    Secret live = cachedOrLive(template.getMetadata().getName(), store);
    if (live == null) {
      try {
        return writes.create(template);
      } catch (KubernetesClientException e) {
        if (e.getCode() == 409) {
          throw new ProvisionException("state Secret " + template.getMetadata().getName() + " appeared concurrently; "
              + "retrying", "ProxyRetry", true, e);
        }
        throw apiError("creating state Secret " + template.getMetadata().getName(), e);
      }
    }
    if (!Drift.differences(template.getMetadata().getLabels(), live.getMetadata().getLabels(), "metadata.labels")
        .isEmpty()) {
      Map<String, String> labels = new LinkedHashMap<>(live.getMetadata().getLabels() == null ? Map.of()
          : live.getMetadata().getLabels());
      labels.putAll(template.getMetadata().getLabels());
      try {
        live = writes.setFields(live, Map.of("/metadata/labels", labels));
      } catch (KubernetesClientException e) {
        throw apiError("labelling state Secret " + template.getMetadata().getName(), e);
      }
    }
    return live;
  }

  /**
   * Creates the proxy's further objects that are missing, puts back the owned fields of those that differ (a hand edit
   * when the desired proxy is unchanged) and deletes those of its objects that are no longer wanted.
   */
  private void reconcileOwned(ParentRef parent, DesiredProxy desired, boolean settled, ProxyObjectStore store,
      List<String> reverted) throws ProvisionException {
    Map<String, HasMetadata> live = new LinkedHashMap<>();
    for (HasMetadata o : store.owned(parent)) {
      live.put(o.getKind() + "/" + o.getMetadata().getName(), o);
    }
    if (desired.access() != null) {
      // the pods' own account objects are reconciled as ProxyAccess, not as owned objects to be removed
      for (HasMetadata a : List.of(desired.access().serviceAccount(), desired.access().role(),
          desired.access().roleBinding())) {
        live.remove(a.getKind() + "/" + a.getMetadata().getName());
      }
    }
    for (DesiredProxy.Owned want : desired.owned()) {
      HasMetadata have = live.remove(want.key());
      JsonNode wantTree = Drift.tree(want.object());
      if (have == null) {
        try {
          writes.create(want.object());
          continue;
        } catch (KubernetesClientException e) {
          if (e.getCode() != 409) {
            throw apiError("creating " + want.key(), e);
          }
          // It exists but is not in the cache (its labels were removed, or it was made by someone else): the owned
          // fields go on it, as the official operator's create-or-update does.
          try {
            have = writes.read(want.object());
          } catch (KubernetesClientException e2) {
            throw apiError("reading " + want.key(), e2);
          }
          if (have == null) {
            throw new ProvisionException(want.key() + " was deleted while being created; retrying", "ProxyRetry",
                true, e);
          }
        }
      }
      JsonNode haveTree = Drift.tree(have);
      Map<String, Object> fields = new LinkedHashMap<>();
      List<String> diff = new ArrayList<>();
      for (String pointer : want.fields()) {
        JsonNode w = wantTree.at(pointer);
        JsonNode h = haveTree.at(pointer);
        List<String> d = Drift.differences(w.isMissingNode() ? null : w, h.isMissingNode() ? null : h,
            pointer.substring(1).replace('/', '.'));
        if (!d.isEmpty()) {
          diff.addAll(d);
          settable(pointer, w, haveTree, fields);
        }
      }
      if (!fields.isEmpty()) {
        try {
          writes.setFields(have, fields);
        } catch (KubernetesClientException e) {
          throw apiError("updating " + want.key(), e);
        }
        if (settled && !diff.isEmpty()) {
          reverted.add(describe(diff, have));
        }
      }
    }
    for (HasMetadata unwanted : live.values()) {
      LOG.info("deleting {} {} of {}: no longer part of the proxy", unwanted.getKind(),
          unwanted.getMetadata().getName(), parent);
      delete(unwanted);
    }
  }

  /**
   * Adds to {@code fields} the JSON pointer at which {@code value} can be set on {@code live} by a JSON patch "add":
   * the pointer itself when its parent exists, else the nearest ancestor that does (with the value wrapped).
   */
  static void settable(String pointer, JsonNode value, JsonNode live, Map<String, Object> fields) {
    String p = pointer;
    JsonNode v = value.isMissingNode() ? NullNode.getInstance() : value;
    while (true) {
      int slash = p.lastIndexOf('/');
      String parentPointer = p.substring(0, slash);
      if (slash == 0 || live.at(parentPointer).isObject()) {
        fields.put(p, v);
        return;
      }
      ObjectNode wrapped = JsonNodeFactory.instance.objectNode();
      wrapped.set(p.substring(slash + 1).replace("~1", "/").replace("~0", "~"), v);
      v = wrapped;
      p = parentPointer;
    }
  }

  /**
   * Records the replica's device in the registry; a device recorded earlier for the same replica and no longer its
   * own (its state was reset, by the healer or by hand) is deleted: it is ours and nothing uses it.
   */
  private void rememberDevice(ParentRef parent, DesiredProxy.Replica r, ReplicaState state)
      throws ProvisionException {
    String id = state.knownDeviceId();
    if (id.isEmpty()) {
      return;
    }
    devices.record(id, r.secretName(), parent, r.hostname());
    for (DeviceRegistry.Entry e : devices.ofReplica(r.secretName())) {
      if (!e.deviceId().equals(id)) {
        LOG.info("device {} of proxy replica {} was replaced by {}; deleting it", e.deviceId(), r.secretName(), id);
        deleteDevice(parent, e.deviceId());
      }
    }
  }

  /** Deletes a device of ours (404 is success) and forgets it. */
  private void deleteDevice(ParentRef parent, String deviceId) throws ProvisionException {
    try {
      boolean existed = controlPlane.get().deleteDevice(deviceId);
      LOG.info("deleted device {} of {} ({})", deviceId, parent, existed ? "removed" : "already gone");
    } catch (ControlPlaneException e) {
      throw new ProvisionException("failed to delete the proxy's device " + deviceId + ": " + e.userMessage(),
          "DeviceDeleteFailed", e.isTransient(), e);
    }
    devices.forget(deviceId);
  }

  /**
   * Creates the access objects that are missing and puts back the ones that differ (a RoleBinding's role cannot change:
   * it is recreated); removes those of an earlier name of the proxy.
   */
  private void reconcileAccess(ProxyAccess access, List<HasMetadata> live, boolean settled, List<String> reverted)
      throws ProvisionException {
    for (HasMetadata want : access.objects()) {
      Optional<HasMetadata> have = live.stream().filter(o -> o.getKind().equals(want.getKind())
          && o.getMetadata().getName().equals(want.getMetadata().getName())).findFirst();
      if (have.isEmpty()) {
        create(want);
        if (settled) {
          reverted.add("recreated the deleted " + want.getKind() + " " + want.getMetadata().getNamespace() + "/"
              + want.getMetadata().getName());
        }
        continue;
      }
      List<String> diff = ProxyAccess.differences(want, have.get());
      if (diff.isEmpty()) {
        continue;
      }
      if (want instanceof io.fabric8.kubernetes.api.model.rbac.RoleBinding && diff.stream()
          .anyMatch(d -> d.startsWith("roleRef"))) {
        delete(have.get());
        create(want);
      } else {
        HasMetadata replacement = want;
        replacement.getMetadata().setResourceVersion(have.get().getMetadata().getResourceVersion());
        update(replacement);
        replacement.getMetadata().setResourceVersion(null);
      }
      if (settled) {
        reverted.add(describe(diff, have.get()));
      }
    }
  }

  /** "reverted a manual change to spec.replicas of StatefulSet tailscale/ts-web-abcde". */
  static String describe(List<String> paths, HasMetadata obj) {
    return "reverted a manual change to " + Drift.describe(paths) + " of " + obj.getKind() + " "
        + obj.getMetadata().getNamespace() + "/" + obj.getMetadata().getName();
  }

  static List<String> headlessDifferences(Service want, Service live) {
    List<String> diff = new ArrayList<>(Drift.differences(want.getMetadata().getLabels(),
        live.getMetadata().getLabels(), "metadata.labels"));
    diff.addAll(Drift.differences(want.getSpec(), live.getSpec(), "spec"));
    return diff;
  }

  static List<String> statefulSetDifferences(StatefulSet want, StatefulSet live) {
    Map<String, String> annotations = new LinkedHashMap<>(want.getMetadata().getAnnotations() == null ? Map.of()
        : want.getMetadata().getAnnotations());
    annotations.remove(TailscaleKeys.SPEC_HASH);
    List<String> diff = new ArrayList<>(Drift.differences(want.getMetadata().getLabels(),
        live.getMetadata().getLabels(), "metadata.labels"));
    diff.addAll(Drift.differences(annotations, live.getMetadata().getAnnotations(), "metadata.annotations"));
    diff.addAll(Drift.differences(want.getSpec().getReplicas(), live.getSpec().getReplicas(), "spec.replicas"));
    diff.addAll(Drift.differences(want.getSpec().getTemplate(), live.getSpec().getTemplate(), "spec.template"));
    return diff;
  }

  private Secret createSecret(ProxySpec spec, DesiredProxy.Replica r, String name) throws ProvisionException {
    AuthKey key = mintKey(spec, name);
    Map<String, String> keys = r.operatorKeys().of(key.secret(), null);
    Secret fresh;
    if (r.configTemplate() == null) {
      fresh = ProxyConfigSecret.build(spec, r.secretName(), keys, defaults);
    } else {
      fresh = new SecretBuilder(r.configTemplate()).withData(ProxyConfigSecret.encode(keys)).build();
    }
    fresh.getMetadata().setAnnotations(ProxySecrets.keyAnnotations(key));
    try {
      return secrets.create(fresh);
    } catch (KubernetesClientException e) {
      revokeQuietly(key);
      if (e.getCode() == 409) {
        throw new ProvisionException("proxy Secret " + r.secretName() + " appeared concurrently; retrying",
            "ProxyRetry", true, e);
      }
      throw apiError("creating proxy Secret " + r.secretName(), e);
    }
  }

  /**
   * Puts the operator's keys of an existing Secret back to the desired config (keeping the auth key until the proxy has
   * a device, dropping it after) and records the reported device ID. A config key that differs from the desired one,
   * beyond the auth key, while the desired proxy is unchanged was edited by hand.
   */
  private Secret enforceSecret(ProxySpec spec, String name, DesiredProxy.Replica r, Secret secret, Secret stateSecret,
      boolean settled,
      List<String> reverted) throws ProvisionException {
    List<String> edited = new ArrayList<>();
    // An auth key the proxy has not used by the time it expires can no longer log it in: replace it with a fresh one
    // (and restart the pod into a login with it), then revoke the old one.
    ReplicaState before = r.stateTemplate() == null ? ReplicaState.of(secret) : ReplicaState.of(stateSecret, secret);
    AuthKey freshKey = unusedKeyExpired(before) ? mintKey(spec, name) : null;
    Secret result;
    try {
      result = secrets.change(secret, current -> {
        edited.clear();
        ReplicaState state = r.stateTemplate() == null ? ReplicaState.of(current)
            : ReplicaState.of(stateSecret, current);
        boolean replace = freshKey != null && !state.device().hasDevice() && state.authKeyPending();
        Map<String, String> desired = r.operatorKeys().of(state.device().hasDevice() ? null
            : replace ? freshKey.secret() : state.pendingAuthKey(), current);
        Map<String, String> changed = ProxyConfigSecret.changedKeys(current, desired);
        Map<String, String> withoutKey = r.operatorKeys().of(null, current);
        for (String k : changed.keySet()) {
          String live = ProxyConfigSecret.value(current, k);
          String liveWithoutKey = TailscaledConfig.withoutAuthKey(live);
          if (!Objects.equals(liveWithoutKey, withoutKey.get(k))) {
            edited.add("data[" + k + "]");
          }
        }
        SecretChange.Builder change = SecretChange.builder().data(changed);
        if (state.device().hasDevice() && !state.device().deviceId().equals(state.rememberedDeviceId())) {
          change.annotate(ProxySecrets.DEVICE_ID, state.device().deviceId());
        }
        if (replace) {
          change.annotate(ProxySecrets.AUTH_KEY_ID, freshKey.id());
          if (freshKey.expires() != null) {
            change.annotate(ProxySecrets.AUTH_KEY_EXPIRES, freshKey.expires().toString());
          }
        }
        return change.build();
      });
    } catch (KubernetesClientException e) {
      if (freshKey != null) {
        revokeQuietly(freshKey);
      }
      throw apiError("updating proxy Secret " + secret.getMetadata().getName(), e);
    }
    if (freshKey != null) {
      if (result != null && freshKey.id().equals(ReplicaState.of(result).authKeyId())) {
        if (before.authKeyId() != null) {
          revokeQuietly(new AuthKey(before.authKeyId(), "", null));
        }
        LOG.info("the auth key of proxy Secret {} expired unused at {}; replaced it with {} and restarted the pod",
            r.secretName(), before.authKeyExpires(), freshKey.id());
        writes.restartPod(r.secretName());
      } else {
        revokeQuietly(freshKey); // the proxy logged in meanwhile
      }
    }
    if (result == null) {
      throw new ProvisionException("proxy Secret " + secret.getMetadata().getName() + " was deleted; retrying",
          "ProxyRetry", true, null);
    }
    if (settled && !edited.isEmpty() && result != secret) {
      reverted.add(describe(edited, secret));
    }
    return result;
  }

  /**
   * Replicas beyond the desired count (a scaled-down proxy): each replica's device goes first (404 counts as gone),
   * then its Secrets (config and state). A replica is {@code <name>-<ordinal>} by its state Secret's name.
   */
  private void removeSurplusReplicas(ParentRef parent, String name, int replicas, ProxyObjectStore store)
      throws ProvisionException {
    for (ReplicaState r : ReplicaState.pair(store.secrets(parent))) {
      String n = r.secretName();
      if (!n.startsWith(name + "-")) {
        continue;
      }
      int ordinal;
      try {
        ordinal = Integer.parseInt(n.substring(name.length() + 1));
      } catch (NumberFormatException e) {
        continue;
      }
      if (ordinal < replicas) {
        continue;
      }
      LOG.info("removing replica {} of {} (scaled down to {})", ordinal, parent, replicas);
      removeDevice(parent, r);
      String configName = r.config() == null ? n : r.config().getMetadata().getName();
      for (String replicaName : new java.util.LinkedHashSet<>(List.of(n, configName))) {
        for (DeviceRegistry.Entry e : devices.ofReplica(replicaName)) {
          deleteDevice(parent, e.deviceId());
        }
      }
      deleteSecrets(r);
    }
  }

  private void deleteSecrets(ReplicaState r) throws ProvisionException {
    if (r.secret() != null) {
      delete(r.secret());
    }
    if (r.config() != null && r.config() != r.secret()) {
      delete(r.config());
    }
  }

  /** Whether the replica still waits to log in with an auth key that has expired. */
  private boolean unusedKeyExpired(ReplicaState r) {
    return !r.device().hasDevice() && r.authKeyPending() && r.authKeyExpires() != null
        && !clock.instant().isBefore(r.authKeyExpires());
  }

  private AuthKey mintKey(ProxySpec spec, String name) throws ProvisionException {
    try {
      return controlPlane.get().createAuthKey(defaults.authKeys().forProxy(spec.tags(), spec.ephemeral(), "proxy " + name));
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
   * then the devices (404 is success), then the Secrets and Services.
   *
   * <p>It reads the proxy's objects from the API server ({@link ProxyWrites#current}), not from the informer caches:
   * when the parent is deleted while its proxy is being created, or right after the proxy's last write (its device
   * ID), the caches may not have the newest objects yet, and the cleanup would leave a Secret or a device behind for
   * good (both found by ControlPlaneFaultsProductionIT: an orphaned Secret at seed 2501, a device whose key was
   * revoked as unused at seed 2500). A few label-selected LISTs in the operator namespace per removal.
   *
   * @return true when nothing is left; false when waiting for the StatefulSet to go away
   */
  public boolean cleanup(ParentRef parent) throws ProvisionException {
    return cleanup(parent, List.of());
  }

  /**
   * {@link #cleanup(ParentRef)} for a kind that creates further objects for its proxies (a ProxyGroup's
   * ServiceAccount, Role, RoleBinding and ConfigMaps): they are read from the API server too and deleted last.
   *
   * @param ownedTypes the further types (the kind's {@code ownedTypes()})
   */
  public boolean cleanup(ParentRef parent, List<Class<? extends HasMetadata>> ownedTypes) throws ProvisionException {
    List<StatefulSet> sets = current(StatefulSet.class, parent);
    if (!sets.isEmpty()) {
      for (StatefulSet s : sets) {
        if (s.getMetadata().getDeletionTimestamp() == null) {
          try {
            writes.delete(s, true);
          } catch (KubernetesClientException e) {
            throw apiError("deleting proxy StatefulSet " + s.getMetadata().getName(), e);
          }
        }
      }
      return false;
    }
    List<Secret> all = current(Secret.class, parent);
    for (ReplicaState r : ReplicaState.pair(all)) {
      removeDevice(parent, r);
    }
    // Devices the proxy registered whose Secret is gone (deleted by hand, then the parent deleted) are ours too.
    for (DeviceRegistry.Entry e : devices.ofParent(parent)) {
      deleteDevice(parent, e.deviceId());
    }
    for (Secret s : all) {
      delete(s);
    }
    for (Service s : current(Service.class, parent)) {
      delete(s); // the headless Service and the metrics Service (its ServiceMonitor goes with it)
    }
    // Further objects: a ProxyGroup's ServiceAccount, Role, RoleBinding and ConfigMaps (its kind's owned types), and
    // the proxy pods' own ServiceAccount, Role and RoleBinding (ProxyAccess); the pods are gone.
    Set<Class<? extends HasMetadata>> further = new java.util.LinkedHashSet<>(ownedTypes);
    further.addAll(ProxyAccess.TYPES);
    for (Class<? extends HasMetadata> type : further) {
      for (HasMetadata o : current(type, parent)) {
        delete(o);
      }
    }
    return true;
  }

  /**
   * The parent's proxy objects of {@code kind} as the API server has them: what carries its child labels, less what
   * another controller made for the same parent ({@link ChildLabels#isProxyObjectOf}): a proxy removed because the
   * parent moved to a ProxyGroup must not take the group's objects for it with it.
   */
  private <T extends HasMetadata> List<T> current(Class<T> kind, ParentRef parent) throws ProvisionException {
    try {
      return writes.current(kind, parent).stream().filter(o -> ChildLabels.isProxyObjectOf(o, parent)).toList();
    } catch (KubernetesClientException e) {
      throw apiError("listing the proxy's " + kind.getSimpleName() + "s of " + parent, e);
    }
  }

  /** Deletes the replica's device, or revokes its never-used auth key. */
  private void removeDevice(ParentRef parent, ReplicaState r) throws ProvisionException {
    String deviceId = r.knownDeviceId();
    try {
      if (!deviceId.isEmpty()) {
        boolean existed = controlPlane.get().deleteDevice(deviceId);
        LOG.info("deleted device {} of {} ({})", deviceId, parent, existed ? "removed" : "already gone");
        devices.forget(deviceId);
      } else if (r.authKeyId() != null && r.authKeyPending()) {
        controlPlane.get().deleteAuthKey(r.authKeyId());
        LOG.info("revoked unused auth key {} of {}", r.authKeyId(), parent);
      }
    } catch (ControlPlaneException e) {
      throw new ProvisionException("failed to delete the proxy's device " + deviceId + ": " + e.userMessage(),
          "DeviceDeleteFailed", e.isTransient(), e);
    }
  }

  private void delete(HasMetadata obj) throws ProvisionException {
    try {
      writes.delete(obj, false);
    } catch (KubernetesClientException e) {
      throw apiError("deleting " + obj.getKind() + " " + obj.getMetadata().getName(), e);
    }
  }

  private void reconcileMetrics(ProxySpec spec, DesiredProxy desired, boolean settled, ProxyObjectStore store,
      List<String> reverted) throws ProvisionException {
    String metricsName = ProxyMetrics.serviceName(desired.name());
    Optional<Service> live = store.services(spec.parent()).stream()
        .filter(s -> metricsName.equals(s.getMetadata().getName())).findFirst();
    Service want = desired.metricsService();
    if (want == null) {
      if (live.isPresent()) {
        delete(live.get());
      }
      return;
    }
    boolean serviceChanged = true;
    if (live.isEmpty()) {
      create(want);
    } else {
      List<String> diff = new ArrayList<>(Drift.differences(want.getMetadata().getLabels(),
          live.get().getMetadata().getLabels(), "metadata.labels"));
      diff.addAll(Drift.differences(want.getMetadata().getAnnotations(), live.get().getMetadata().getAnnotations(),
          "metadata.annotations"));
      diff.addAll(Drift.differences(want.getSpec(), live.get().getSpec(), "spec"));
      if (!diff.isEmpty()) {
        update(new ServiceBuilder(live.get())
            .editMetadata().withLabels(want.getMetadata().getLabels())
            .withAnnotations(want.getMetadata().getAnnotations()).endMetadata()
            .editSpec().withPorts(want.getSpec().getPorts()).withSelector(want.getSpec().getSelector()).endSpec()
            .build());
        if (settled) {
          reverted.add(describe(diff, live.get()));
        }
      } else {
        serviceChanged = false;
      }
    }
    // The ServiceMonitor follows the metrics Service (it is owned by it, so deleting the Service removes it). When the
    // Service is unchanged, one read tells whether the ServiceMonitor still needs creating (an earlier attempt may
    // have failed, e.g. right after the CRD was installed) or removing; no write when all is in place.
    Service current = store.services(spec.parent()).stream()
        .filter(s -> metricsName.equals(s.getMetadata().getName())).findFirst().orElse(want);
    boolean wanted = ProxyMetrics.serviceMonitorEnabled(spec) && current.getMetadata().getUid() != null;
    try {
      if (wanted) {
        if (serviceChanged || !writes.serviceMonitorExists(metricsName)) {
          writes.applyServiceMonitor(ProxyMetrics.serviceMonitor(spec, current));
        }
      } else if (serviceChanged || writes.serviceMonitorExists(metricsName)) {
        writes.deleteServiceMonitor(metricsName);
      }
    } catch (KubernetesClientException e) {
      if (wanted) {
        throw apiError("creating the ServiceMonitor " + metricsName, e);
      }
      LOG.debug("ServiceMonitor for {} not removed: {}", desired.name(), e.getMessage());
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

  private Secret readLive(String name) throws ProvisionException {
    try {
      return writes.readSecret(name);
    } catch (KubernetesClientException e) {
      throw apiError("reading Secret " + name, e);
    }
  }

  private <T extends HasMetadata> void create(T obj) throws ProvisionException {
    try {
      writes.create(obj);
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        throw new ProvisionException(obj.getKind() + " " + obj.getMetadata().getName()
            + " already exists (the cache was behind); retrying", "ProxyRetry", true, e);
      }
      throw apiError("creating " + obj.getKind() + " " + obj.getMetadata().getName(), e);
    }
  }

  private <T extends HasMetadata> void update(T obj) throws ProvisionException {
    try {
      writes.update(obj);
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

  /** For tests and diagnostics. */
  public ProxyDefaults defaults() {
    return defaults;
  }
}
