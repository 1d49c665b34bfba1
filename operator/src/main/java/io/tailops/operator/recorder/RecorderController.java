package io.tailops.operator.recorder;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.config.ControllerConfigurationOverrider;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.tailops.api.v1alpha1.Recorder;
import io.tailops.api.v1alpha1.RecorderStatus;
import io.tailops.api.v1alpha1.RecorderTailnetDevice;
import io.tailops.controlplane.AuthKey;
import io.tailops.controlplane.AuthKeyRequest;
import io.tailops.controlplane.ControlPlaneException;
import io.tailops.controlplane.Device;
import io.tailops.operator.k8s.StoreWithoutManagedFields;
import io.tailops.operator.k8s.TailscaleKeys;
import io.tailops.operator.pipeline.KubernetesParentWrites;
import io.tailops.operator.proxy.Drift;
import io.tailops.operator.proxy.ProvisionException;
import io.tailops.operator.proxy.ProxySecrets;
import io.tailops.operator.reconcile.Backoff;
import io.tailops.operator.reconcile.OperatorContext;
import io.tailops.operator.reconcile.RetryingReconcile;
import io.tailops.operator.status.Problem;
import io.tailops.operator.status.ProblemReporter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@link Recorder}s as the official operator does ({@code tsrecorder.go}, v1.94.2): a focused controller,
 * because the proxy pipeline's {@code DesiredProxy} does not carry ServiceAccounts, Roles and RoleBindings (yet),
 * and a Recorder runs tsrecorder rather than containerboot (no tailscaled config Secret, no hostname claim, no
 * ProxyClass). Shared with the pipeline: {@link RetryingReconcile} (backoff, {@code Retry-After}, metrics),
 * {@link Drift} (hand edits reverted with a {@code ManualChangeReverted} event), {@link KubernetesParentWrites}
 * (status written once, only when it differs), {@link ProblemReporter} (an Event per problem, once).
 *
 * <p>One reconcile: finalizer (JOSDK, {@code tailscale.com/finalizer}) → validation ({@code RecorderInvalid}) →
 * auth-key Secrets (one freshly minted key per replica, short-lived and marked as for proxies, its ID and expiry
 * recorded; replaced when it expires unused, {@link RecorderKeys}) → state Secrets, ServiceAccount, Role, RoleBinding,
 * StatefulSet → ServiceAccounts of a former custom name and surplus replicas' Secrets (and devices) removed → devices
 * from the state Secrets → {@code RecorderReady=True/RecorderCreated}. Deletion removes every replica's device from
 * the tailnet (404 is success), revokes the keys of replicas that never logged in, then removes the objects.
 */
public final class RecorderController implements Reconciler<Recorder>, Cleaner<Recorder> {
  public static final String NAME = "recorder";
  private static final Logger LOG = LoggerFactory.getLogger(RecorderController.class);
  private static final String SELECTOR = RecorderPlanner.LABEL_MANAGED_BY + "=" + RecorderPlanner.MANAGED_BY + ","
      + RecorderPlanner.LABEL_NAME + "=" + RecorderPlanner.APP;

  private final OperatorContext ctx;
  private final String namespace;
  private final RecorderPlanner planner;
  private final RetryingReconcile<Recorder> retries;
  private final ProblemReporter problems;
  private final Backoff cleanupBackoff = new Backoff(Duration.ofSeconds(1), Duration.ofMinutes(5));
  /** Per object (kind/name): the desired state last written, to tell a hand edit from a new desire. */
  private final Map<String, List<String>> lastWritten = new ConcurrentHashMap<>();
  private InformerEventSource<StatefulSet, Recorder> statefulSets;
  private InformerEventSource<Secret, Recorder> secrets;
  private InformerEventSource<ServiceAccount, Recorder> serviceAccounts;
  private InformerEventSource<Role, Recorder> roles;
  private InformerEventSource<RoleBinding, Recorder> roleBindings;

  public RecorderController(OperatorContext ctx) {
    this.ctx = ctx;
    this.namespace = ctx.config().namespace();
    this.planner = new RecorderPlanner(namespace, ctx.config().loginServer());
    this.retries = new RetryingReconcile<>(NAME, ctx);
    this.problems = new ProblemReporter(ctx.events());
  }

  /** The controller's settings: the official finalizer; status-only changes do not reconcile. */
  public Consumer<ControllerConfigurationOverrider<Recorder>> configuration() {
    return c -> c.withName(NAME).withFinalizer(TailscaleKeys.FINALIZER).withGenerationAware(true)
        .withReconciliationMaxInterval(Duration.ofHours(10)).withItemStore(new StoreWithoutManagedFields<>());
  }

  /**
   * Registers the controller when the Recorder CRD is installed (the chart installs it; without it there is nothing
   * to serve, and watching would only log errors). Before the operator starts.
   */
  public static void register(io.javaoperatorsdk.operator.Operator operator, OperatorContext ctx) {
    try {
      ctx.client().resources(Recorder.class).list(new io.fabric8.kubernetes.api.model.ListOptionsBuilder()
          .withLimit(1L).build());
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        LOG.info("the CRD {} is not installed: Recorders are not served", Recorder.CRD_NAME);
        return;
      }
    }
    RecorderController controller = new RecorderController(ctx);
    operator.register(controller, controller.configuration());
  }

  @Override
  public List<EventSource<?, Recorder>> prepareEventSources(EventSourceContext<Recorder> context) {
    statefulSets = informer(StatefulSet.class, context);
    secrets = informer(Secret.class, context);
    serviceAccounts = informer(ServiceAccount.class, context);
    roles = informer(Role.class, context);
    roleBindings = informer(RoleBinding.class, context);
    return List.of(statefulSets, secrets, serviceAccounts, roles, roleBindings, retries.eventSource());
  }

  private <T extends HasMetadata> InformerEventSource<T, Recorder> informer(Class<T> type,
      EventSourceContext<Recorder> context) {
    return new InformerEventSource<>(InformerEventSourceConfiguration.from(type, Recorder.class)
        .withName("recorder-" + HasMetadata.getPlural(type)).withNamespaces(Set.of(namespace))
        .withLabelSelector(SELECTOR)
        .withSecondaryToPrimaryMapper(o -> {
          Map<String, String> labels = o.getMetadata().getLabels();
          String owner = labels == null ? null : labels.get(RecorderPlanner.LABEL_INSTANCE);
          return owner == null ? Set.of() : Set.of(new ResourceID(owner));
        })
        .withItemStore(new StoreWithoutManagedFields<>()).build(), context);
  }

  @Override
  public UpdateControl<Recorder> reconcile(Recorder r, Context<Recorder> context) {
    return retries.reconcile(r, rec -> provisionOrReport(rec, new KubernetesParentWrites<>(context)));
  }

  /** Returns when to look again (a replica's unused key expires then), or empty. */
  private Optional<Duration> provisionOrReport(Recorder r, KubernetesParentWrites<Recorder> writes)
      throws ProvisionException {
    Optional<String> invalid = RecorderValidator.problem(r, customServiceAccount(r));
    if (invalid.isPresent()) {
      String message = RecorderStatusProjection.invalidMessage(invalid.get());
      problems.report(r, List.of(Problem.warning(RecorderStatusProjection.INVALID, message)));
      writeStatus(r, writes, RecorderStatusProjection.status(r, false, RecorderStatusProjection.INVALID, message,
          null, ctx.clock()));
      return Optional.empty();
    }
    Provisioned done;
    try {
      done = provision(r);
    } catch (ProvisionException e) {
      boolean conflict = e.getCause() instanceof KubernetesClientException k && k.getCode() == 409;
      String reason = conflict ? RecorderStatusProjection.CREATING : RecorderStatusProjection.CREATION_FAILED;
      String message = conflict ? "optimistic lock error, retrying: " + e.getMessage()
          : RecorderStatusProjection.failedMessage(e.getMessage());
      problems.report(r, conflict ? List.of() : List.of(Problem.warning(reason, message)));
      writeStatus(r, writes, RecorderStatusProjection.status(r, false, reason, message, null, ctx.clock()));
      throw e;
    }
    problems.report(r, List.of());
    writeStatus(r, writes, RecorderStatusProjection.status(r, true, RecorderStatusProjection.CREATED,
        RecorderStatusProjection.CREATED, done.devices(), ctx.clock()));
    return done.recheck();
  }

  /** What a provisioning found: the devices known so far, and when a replica's unused key expires. */
  private record Provisioned(List<RecorderTailnetDevice> devices, Optional<Duration> recheck) {
  }

  private static Optional<Duration> earliest(Optional<Duration> a, Optional<Duration> b) {
    return a.isEmpty() ? b : b.isEmpty() ? a : Optional.of(a.get().compareTo(b.get()) <= 0 ? a.get() : b.get());
  }

  private void writeStatus(Recorder r, KubernetesParentWrites<Recorder> writes, RecorderStatus status) {
    if (RecorderStatusProjection.same(r.getStatus(), status)) {
      return;
    }
    writes.writeStatus(r, fresh -> {
      fresh.setStatus(status);
      return fresh;
    });
  }

  private Optional<ServiceAccount> customServiceAccount(Recorder r) {
    String name = RecorderPlanner.serviceAccountName(r);
    if (name.equals(r.getMetadata().getName())) {
      return Optional.empty();
    }
    return Optional.ofNullable(ctx.client().serviceAccounts().inNamespace(namespace).withName(name).get());
  }

  /** Everything but the status; returns the devices known so far. */
  private Provisioned provision(Recorder r) throws ProvisionException {
    int replicas = RecorderPlanner.replicas(r);
    Optional<Duration> recheck = Optional.empty();
    for (int i = 0; i < replicas; i++) {
      recheck = earliest(recheck, ensureAuthSecret(r, i));
    }
    RecorderObjects desired = planner.plan(r);
    for (Secret state : desired.stateSecrets()) {
      apply(r, state, secrets, "Secret", (d, l) -> {
        l.getMetadata().setLabels(d.getMetadata().getLabels());
        l.getMetadata().setOwnerReferences(d.getMetadata().getOwnerReferences());
      }, false);
    }
    ServiceAccount liveSa = serviceAccounts.get(new ResourceID(desired.serviceAccount().getMetadata().getName(),
        namespace)).orElse(null);
    if (liveSa != null && !RecorderPlanner.serviceAccountName(r).equals(r.getMetadata().getName())
        && !RecorderValidator.ownedBy(liveSa, r)) {
      throw new ProvisionException(RecorderValidator.conflict(liveSa), RecorderStatusProjection.CREATION_FAILED,
          false, null);
    }
    apply(r, desired.serviceAccount(), serviceAccounts, "ServiceAccount", (d, l) -> {
      l.getMetadata().setLabels(d.getMetadata().getLabels());
      l.getMetadata().setAnnotations(d.getMetadata().getAnnotations());
      l.getMetadata().setOwnerReferences(d.getMetadata().getOwnerReferences());
    }, true);
    apply(r, desired.role(), roles, "Role", (d, l) -> {
      l.getMetadata().setLabels(d.getMetadata().getLabels());
      l.getMetadata().setOwnerReferences(d.getMetadata().getOwnerReferences());
      l.setRules(d.getRules());
    }, true);
    if (roleRefChanged(desired.roleBinding())) {
      delete(desired.roleBinding());
    }
    apply(r, desired.roleBinding(), roleBindings, "RoleBinding", (d, l) -> {
      l.getMetadata().setLabels(d.getMetadata().getLabels());
      l.getMetadata().setOwnerReferences(d.getMetadata().getOwnerReferences());
      l.setSubjects(d.getSubjects());
      l.setRoleRef(d.getRoleRef());
    }, true);
    apply(r, desired.statefulSet(), statefulSets, "StatefulSet", (d, l) -> {
      l.getMetadata().setLabels(d.getMetadata().getLabels());
      l.getMetadata().setAnnotations(d.getMetadata().getAnnotations());
      l.getMetadata().setOwnerReferences(d.getMetadata().getOwnerReferences());
      l.setSpec(d.getSpec());
    }, true);
    // A former custom ServiceAccount name: its ServiceAccount goes (the RoleBinding names the new one already).
    for (ServiceAccount sa : serviceAccounts.list(namespace, owned(r)).toList()) {
      if (!sa.getMetadata().getName().equals(desired.serviceAccount().getMetadata().getName())) {
        delete(sa);
      }
    }
    removeSurplusReplicas(r, replicas);
    List<RecorderTailnetDevice> devices = new ArrayList<>();
    for (int i = 0; i < replicas; i++) {
      device(r, i).ifPresent(devices::add);
    }
    // A second past the expiry, so that the key has certainly expired when looked at.
    return new Provisioned(devices, recheck.map(d -> d.plusSeconds(1)));
  }

  private static <T extends HasMetadata> java.util.function.Predicate<T> owned(Recorder r) {
    return o -> o.getMetadata().getLabels() != null
        && r.getMetadata().getName().equals(o.getMetadata().getLabels().get(RecorderPlanner.LABEL_INSTANCE));
  }

  /** A RoleBinding's roleRef cannot change: the binding is re-created (never happens with upstream's names). */
  private boolean roleRefChanged(RoleBinding desired) {
    return roleBindings.get(ResourceID.fromResource(desired))
        .map(live -> !Drift.differences(desired.getRoleRef(), live.getRoleRef(), "roleRef").isEmpty())
        .orElse(false);
  }

  /**
   * Replica {@code i}'s auth-key Secret: created with a freshly minted key (short-lived, marked as this installation's,
   * its ID and expiry recorded, as for proxies) when missing; its key replaced when it expired unused
   * ({@link RecorderKeys}).
   *
   * @return when to look at the replica again (its unused key expires then), or empty
   */
  private Optional<Duration> ensureAuthSecret(Recorder r, int i) throws ProvisionException {
    String name = RecorderPlanner.authSecretName(r, i);
    Optional<Secret> live = secrets.get(new ResourceID(name, namespace));
    if (live.isPresent()) {
      Secret state = secrets.get(new ResourceID(RecorderPlanner.stateSecretName(r, i), namespace)).orElse(null);
      if (RecorderKeys.unusedKeyExpired(live.get(), state, ctx.clock().instant())) {
        replaceExpiredKey(r, i, live.get());
        return Optional.empty();
      }
      return RecorderKeys.recheckAfter(live.get(), state, ctx.clock().instant());
    }
    AuthKey key = mintKey(r, i);
    try {
      Secret created = ctx.client().resource(planner.authSecret(r, i, key)).create();
      secrets.handleRecentResourceCreate(ResourceID.fromResource(created), created);
    } catch (KubernetesClientException e) {
      revokeQuietly(key.id());
      if (e.getCode() == 409) {
        return Optional.empty();
      }
      throw new ProvisionException("error creating secrets: creating Secret " + name + ": " + e.getMessage(),
          RecorderStatusProjection.CREATION_FAILED, true, e);
    }
    return RecorderKeys.recheckAfter(planner.authSecret(r, i, key), null, ctx.clock().instant());
  }

  private AuthKey mintKey(Recorder r, int i) throws ProvisionException {
    try {
      return ctx.controlPlane().createAuthKey(ctx.proxyDefaults().authKeys().forProxy(RecorderPlanner.tags(r), false,
          RecorderPlanner.keyPurpose(r, i)));
    } catch (ControlPlaneException e) {
      throw new ProvisionException("error creating secrets: " + e.userMessage(), "AuthKeyFailed", e.isTransient(),
          e);
    }
  }

  /**
   * The key of replica {@code i} expired before tsrecorder logged in with it: a fresh key goes into the Secret (an
   * update with the Secret's resourceVersion, so that a concurrent change makes it fail and the next reconcile decide
   * again), the old key is revoked and the pod restarted, so that it reads the new key at once.
   */
  private void replaceExpiredKey(Recorder r, int i, Secret auth) throws ProvisionException {
    String old = RecorderKeys.keyId(auth).orElseThrow();
    AuthKey fresh = mintKey(r, i);
    Secret want = planner.authSecret(r, i, fresh);
    Secret copy = ctx.client().getKubernetesSerialization().clone(auth);
    copy.setStringData(want.getStringData());
    copy.setData(null);
    Map<String, String> annotations = new java.util.LinkedHashMap<>(copy.getMetadata().getAnnotations());
    annotations.remove(ProxySecrets.AUTH_KEY_EXPIRES);
    annotations.putAll(want.getMetadata().getAnnotations());
    copy.getMetadata().setAnnotations(annotations);
    try {
      Secret updated = ctx.client().resource(copy).update();
      secrets.handleRecentResourceUpdate(ResourceID.fromResource(updated), updated, auth);
    } catch (KubernetesClientException e) {
      revokeQuietly(fresh.id());
      throw new ProvisionException("error replacing the expired auth key in Secret " + auth.getMetadata().getName()
          + ": " + e.getMessage(), RecorderStatusProjection.CREATION_FAILED, true, e);
    }
    revokeQuietly(old);
    try {
      ctx.client().pods().inNamespace(namespace).withName(RecorderPlanner.stateSecretName(r, i)).delete();
    } catch (KubernetesClientException e) {
      LOG.info("could not restart pod {}: {}", RecorderPlanner.stateSecretName(r, i), e.getMessage());
    }
    LOG.info("the auth key {} of Recorder {} replica {} expired at {} before it was used; replaced it with {}, "
        + "revoked it and restarted the pod", old, r.getMetadata().getName(), i,
        RecorderKeys.expires(auth).orElse(null), fresh.id());
  }

  private static boolean isAuthSecret(Recorder r, Secret s) {
    return s.getMetadata().getName().startsWith(r.getMetadata().getName() + "-auth-");
  }

  /**
   * Revokes the recorded key of the replica whose auth-key Secret is {@code auth} if it never logged in (the replica is
   * going away); its state Secret ({@code <name>-<i>}) is looked up in {@code owned}, the Recorder's Secrets listed
   * before any of them was deleted.
   */
  private void revokeUnusedKey(Recorder r, Secret auth, List<Secret> owned) {
    String ordinal = auth.getMetadata().getName().substring(r.getMetadata().getName().length() + "-auth-".length());
    String stateName = r.getMetadata().getName() + "-" + ordinal;
    Secret state = owned.stream().filter(s -> s.getMetadata().getName().equals(stateName)).findFirst().orElse(null);
    RecorderKeys.revokeOnRemoval(auth, state).ifPresent(id -> {
      if (revokeQuietly(id)) {
        LOG.info("revoked the unused auth key {} of Secret {}", id, auth.getMetadata().getName());
      }
    });
  }

  /** A key that failed to revoke here is marked as this installation's: the key sweep revokes it once unheld. */
  private boolean revokeQuietly(String keyId) {
    try {
      ctx.controlPlane().deleteAuthKey(keyId);
      return true;
    } catch (ControlPlaneException | RuntimeException e) {
      LOG.warn("could not revoke the unused auth key {}: {}", keyId, e.getMessage());
      return false;
    }
  }

  /** How a live object takes the desired fields. */
  private interface Overlay<T> {
    void apply(T desired, T live);
  }

  /**
   * Creates {@code desired}, or writes its fields into the live object when they differ; a difference while the
   * desired state is the one last written is somebody's edit, reverted with a Normal {@code ManualChangeReverted}
   * Event on the Recorder.
   */
  private <T extends HasMetadata> void apply(Recorder r, T desired, InformerEventSource<T, Recorder> cache,
      String kind, Overlay<T> overlay, boolean reportEdits) throws ProvisionException {
    ResourceID id = ResourceID.fromResource(desired);
    String key = kind + "/" + desired.getMetadata().getName();
    List<String> fingerprint = List.of(Drift.tree(desired).toString());
    Optional<T> live = cache.get(id);
    try {
      if (live.isEmpty()) {
        try {
          T created = ctx.client().resource(desired).create();
          cache.handleRecentResourceCreate(id, created);
          lastWritten.put(key, fingerprint);
          return;
        } catch (KubernetesClientException e) {
          if (e.getCode() != 409) {
            throw e;
          }
          // Created meanwhile (the cache lags): compare with the server's copy.
          live = Optional.ofNullable(ctx.client().resource(desired).get());
          if (live.isEmpty()) {
            throw e;
          }
        }
      }
      List<String> diff = Drift.differences(desired, live.get(), "");
      if (diff.isEmpty()) {
        lastWritten.put(key, fingerprint);
        return;
      }
      T copy = ctx.client().getKubernetesSerialization().clone(live.get());
      overlay.apply(desired, copy);
      T updated = ctx.client().resource(copy).update();
      cache.handleRecentResourceUpdate(id, updated, live.get());
      boolean handEdit = fingerprint.equals(lastWritten.put(key, fingerprint));
      if (handEdit && reportEdits) {
        String message = "reverted a manual change to " + Drift.describe(diff) + " of " + kind + " " + namespace + "/"
            + desired.getMetadata().getName();
        LOG.info("Recorder {}: {}", r.getMetadata().getName(), message);
        ctx.events().normal(r, "ManualChangeReverted", message);
      }
    } catch (KubernetesClientException e) {
      throw new ProvisionException("error creating " + kind + ": " + e.getMessage(),
          RecorderStatusProjection.CREATION_FAILED, true, e);
    }
  }

  /** Secrets of replicas beyond {@code replicas} (a scale-down): their devices, then the Secrets, go. */
  private void removeSurplusReplicas(Recorder r, int replicas) throws ProvisionException {
    List<Secret> owned = secrets.list(namespace, owned(r)).toList();
    for (Secret s : owned) {
      String name = s.getMetadata().getName();
      int ordinal;
      try {
        ordinal = Integer.parseInt(name.substring(name.lastIndexOf('-') + 1));
      } catch (NumberFormatException e) {
        continue;
      }
      if (ordinal < replicas) {
        continue;
      }
      Optional<RecorderDeviceInfo> device = deviceInfo(s);
      if (device.isPresent()) {
        deleteDevice(device.get().nodeId());
      }
      if (isAuthSecret(r, s)) {
        revokeUnusedKey(r, s, owned);
      }
      delete(s);
    }
  }

  private Optional<RecorderDeviceInfo> deviceInfo(Secret s) throws ProvisionException {
    try {
      return RecorderDeviceInfo.of(s);
    } catch (IllegalArgumentException e) {
      throw new ProvisionException(e.getMessage(), RecorderStatusProjection.CREATION_FAILED, false, null);
    }
  }

  private void deleteDevice(String nodeId) throws ProvisionException {
    try {
      ctx.controlPlane().deleteDevice(nodeId);
    } catch (ControlPlaneException e) {
      throw new ProvisionException("error deleting device " + nodeId + ": " + e.userMessage(), "DeviceDeleteFailed",
          e.isTransient(), e);
    }
  }

  /** The device of replica {@code i}, as upstream shows it: hostname and IPs from the control plane, the URL. */
  private Optional<RecorderTailnetDevice> device(Recorder r, int i) throws ProvisionException {
    Optional<Secret> state = secrets.get(new ResourceID(RecorderPlanner.stateSecretName(r, i), namespace));
    if (state.isEmpty()) {
      return Optional.empty();
    }
    Optional<RecorderDeviceInfo> info = deviceInfo(state.get());
    if (info.isEmpty()) {
      return Optional.empty();
    }
    Optional<Device> device;
    try {
      device = ctx.controlPlane().getDevice(info.get().nodeId());
    } catch (ControlPlaneException e) {
      throw new ProvisionException("failed to get device info from API: " + e.userMessage(), "DeviceCheckFailed",
          e.isTransient(), e);
    }
    if (device.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new RecorderTailnetDevice(device.get().hostname(), device.get().addresses(),
        info.get().url().orElse(null)));
  }

  private void delete(HasMetadata o) {
    try {
      ctx.client().resource(o).delete();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
    }
  }

  private <T extends HasMetadata> void deleteAll(InformerEventSource<T, Recorder> cache, Recorder r) {
    for (T o : cache.list(namespace, RecorderController.<T>owned(r)).collect(Collectors.toList())) {
      delete(o);
    }
  }

  @Override
  public DeleteControl cleanup(Recorder r, Context<Recorder> context) {
    String uid = r.getMetadata().getUid();
    try {
      // Every replica's device (the state Secrets of all replicas, also surplus ones not yet removed).
      for (Secret s : secrets.list(namespace, owned(r)).toList()) {
        Optional<RecorderDeviceInfo> device = deviceInfo(s);
        if (device.isPresent()) {
          deleteDevice(device.get().nodeId());
        }
      }
    } catch (ProvisionException e) {
      Duration wait = cleanupBackoff.failed(uid);
      LOG.info("Recorder {}: cleanup failed, retrying in {}s: {}", r.getMetadata().getName(), wait.toSeconds(),
          e.getMessage());
      return DeleteControl.noFinalizerRemoval().rescheduleAfter(wait);
    }
    cleanupBackoff.succeeded(uid);
    // Keys of replicas that never logged in: revoked rather than left valid until they expire.
    List<Secret> owned = secrets.list(namespace, owned(r)).toList();
    for (Secret s : owned) {
      if (isAuthSecret(r, s)) {
        revokeUnusedKey(r, s, owned);
      }
    }
    // The objects are owned by the Recorder (the garbage collector would remove them too): removed now, so that
    // nothing lingers where no garbage collector runs.
    deleteAll(statefulSets, r);
    deleteAll(roleBindings, r);
    deleteAll(roles, r);
    deleteAll(serviceAccounts, r);
    deleteAll(secrets, r);
    problems.forget(r);
    lastWritten.keySet().removeIf(k -> k.endsWith("/" + r.getMetadata().getName())
        || k.startsWith("Secret/" + r.getMetadata().getName() + "-"));
    LOG.info("Recorder {}: devices and objects removed", r.getMetadata().getName());
    return DeleteControl.defaultDelete();
  }
}
