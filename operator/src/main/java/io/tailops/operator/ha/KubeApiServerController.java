package io.tailops.operator.ha;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.operator.api.config.ControllerConfigurationOverrider;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.tailops.api.v1alpha1.APIServerProxyMode;
import io.tailops.api.v1alpha1.ConditionTypes;
import io.tailops.api.v1alpha1.ProxyGroup;
import io.tailops.api.v1alpha1.ProxyGroupStatus;
import io.tailops.api.v1alpha1.ProxyGroupType;
import io.tailops.controlplane.ControlPlaneException;
import io.tailops.controlplane.TailscaleService;
import io.tailops.operator.k8s.TailscaleKeys;
import io.tailops.operator.pipeline.ParentWrites;
import io.tailops.operator.proxy.ProvisionException;
import io.tailops.operator.proxy.ProxyConfigSecret;
import io.tailops.operator.proxy.ReplicaState;
import io.tailops.operator.proxy.SecretChange;
import io.tailops.operator.proxygroup.K8sProxyConfig;
import io.tailops.operator.proxygroup.ProxyGroupNames;
import io.tailops.operator.proxygroup.ProxyGroupPlanner;
import io.tailops.operator.reconcile.OperatorContext;
import io.tailops.operator.status.Conditions;
import io.tailops.operator.status.Problem;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Tailscale Service of a ProxyGroup of type kube-apiserver (official {@code api-server-proxy-pg.go}, the
 * {@code kube-apiserver-ts-service-reconciler}): once a replica runs, the finalizer
 * {@code tailscale.com/kube-apiserver-finalizer}, the service {@code svc:<spec.kubeAPIServer.hostname or pg>} (port
 * {@code tcp:443}, the group's tags, owned by this operator for this group alone), the TLS Secret {@code <dns name>}
 * replica 0 issues the certificate into with its Role and RoleBinding, and each replica's config file naming the service
 * ({@code APIServerProxy.ServiceName}) and advertising it once the certificate exists. Status: the conditions
 * {@code KubeAPIServerProxyValid} (the name is this group's to use) and {@code KubeAPIServerProxyConfigured}
 * ({@code <n>/<N> proxy backends ready and advertising}) and {@code status.url} ({@code https://<dns name>}) once a
 * replica advertises it. A service of an earlier hostname (named in the replicas' config files) is released; on
 * deletion the service and the certificate resources go.
 */
public final class KubeApiServerController extends HaController<ProxyGroup, Void> {
  public static final String NAME = "kube-apiserver-ts-service-reconciler";
  public static final String FINALIZER = "tailscale.com/kube-apiserver-finalizer";
  static final String REASON_INVALID = "KubeAPIServerProxyInvalid";
  static final String REASON_VALID = "KubeAPIServerProxyValid";
  static final String REASON_CONFIGURED = "KubeAPIServerProxyConfigured";
  static final String REASON_NO_BACKENDS = "KubeAPIServerProxyNoBackends";
  static final String EVENT_INVALID = "InvalidTailscaleService";
  private static final Logger LOG = LoggerFactory.getLogger(KubeApiServerController.class);

  private InformerEventSource<Secret, ProxyGroup> certSecrets;
  private InformerEventSource<Role, ProxyGroup> certRoles;
  private InformerEventSource<RoleBinding, ProxyGroup> certBindings;
  private CertificateResources<ProxyGroup> certResources;

  public KubeApiServerController(OperatorContext ctx) {
    super(ctx);
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  protected Class<ProxyGroup> parentType() {
    return ProxyGroup.class;
  }

  @Override
  protected HaPlan<Void> plan(ProxyGroup pg) {
    return isApiServerProxy(pg) ? new HaPlan.Wanted<>(pg.getMetadata().getName(),
        ProxyGroupNames.apiServerProxyService(pg).substring("svc:".length()), tags(pg), List.of(), null)
        : new HaPlan.NotWanted<>("not of type kube-apiserver");
  }

  /** A kube-apiserver group is its own group: its Secrets, pods and certificate resources map to it. */
  @Override
  protected List<String> groupsNamedBy(ProxyGroup pg) {
    return isApiServerProxy(pg) ? List.of(pg.getMetadata().getName()) : List.of();
  }

  /** ProxyGroups are cluster-scoped. */
  @Override
  public Consumer<ControllerConfigurationOverrider<ProxyGroup>> configuration() {
    return c -> c.withName(name()).withGenerationAware(false).withTriggerReconcilerOnAllEvents(true)
        .withReconciliationMaxInterval(Duration.ofHours(10))
        .withItemStore(new io.tailops.operator.k8s.StoreWithoutManagedFields<>());
  }

  /** The certificate Secrets, Roles and RoleBindings in the operator namespace, by their group label. */
  @Override
  protected List<EventSource<?, ProxyGroup>> moreEventSources(EventSourceContext<ProxyGroup> context) {
    String ns = ctx.config().namespace();
    String selector = TailscaleKeys.LABEL_MANAGED + "=true," + HaIngressController.LABEL_DOMAIN + ","
        + TailscaleKeys.PROXY_GROUP;
    certSecrets = new InformerEventSource<>(InformerEventSourceConfiguration.from(Secret.class, ProxyGroup.class)
        .withName(NAME + "-certs").withNamespaces(Set.of(ns)).withLabelSelector(selector)
        .withSecondaryToPrimaryMapper(this::byGroupLabel)
        .withItemStore(new io.tailops.operator.k8s.StoreWithoutManagedFields<>()).build(), context);
    certRoles = new InformerEventSource<>(InformerEventSourceConfiguration.from(Role.class, ProxyGroup.class)
        .withName(NAME + "-cert-roles").withNamespaces(Set.of(ns)).withLabelSelector(selector)
        .withSecondaryToPrimaryMapper(this::byGroupLabel)
        .withItemStore(new io.tailops.operator.k8s.StoreWithoutManagedFields<>()).build(), context);
    certBindings = new InformerEventSource<>(InformerEventSourceConfiguration.from(RoleBinding.class,
            ProxyGroup.class).withName(NAME + "-cert-rolebindings").withNamespaces(Set.of(ns))
        .withLabelSelector(selector).withSecondaryToPrimaryMapper(this::byGroupLabel)
        .withItemStore(new io.tailops.operator.k8s.StoreWithoutManagedFields<>()).build(), context);
    certResources = new CertificateResources<>(ctx, certSecrets, certRoles, certBindings);
    return List.of(certSecrets, certRoles, certBindings);
  }

  private Set<ResourceID> byGroupLabel(HasMetadata o) {
    String pg = o.getMetadata().getLabels() == null ? null : o.getMetadata().getLabels().get(TailscaleKeys.PROXY_GROUP);
    return pg == null ? Set.of() : Set.of(new ResourceID(pg));
  }

  static boolean isApiServerProxy(ProxyGroup pg) {
    return pg.getSpec() != null && pg.getSpec().getType() == ProxyGroupType.KUBE_APISERVER;
  }

  private List<String> tags(ProxyGroup pg) {
    return pg.getSpec() != null && pg.getSpec().getTags() != null && !pg.getSpec().getTags().isEmpty()
        ? pg.getSpec().getTags() : ctx.config().proxyTags();
  }

  @Override
  protected Optional<Duration> reconcile(ProxyGroup pg, ParentWrites<ProxyGroup> writes) throws ProvisionException {
    if (!isApiServerProxy(pg)) {
      return Optional.empty();
    }
    String service = ProxyGroupNames.apiServerProxyService(pg);
    if (pg.getMetadata().getDeletionTimestamp() != null) {
      cleanup(pg, service, writes);
      return Optional.empty();
    }
    String group = pg.getMetadata().getName();
    List<ReplicaState> replicas = replicas(group);
    String domain = tailnetDomain(replicas);
    String dnsName = domain == null ? null : service.substring("svc:".length()) + "." + domain;
    if (!available(pg)) {
      // Nothing to serve yet: only how many replicas advertise it (none).
      writeStatus(pg, null, replicas, service, dnsName, writes);
      return Optional.empty();
    }
    if (!pg.hasFinalizer(FINALIZER)) {
      LOG.info("provisioning Tailscale Service {} for ProxyGroup {}", service, group);
      pg = writes.addFinalizer(pg, FINALIZER);
    }

    // 1. The name must be this group's alone.
    Optional<TailscaleService> existing;
    try {
      existing = ctx.controlPlane().getService(service);
    } catch (ControlPlaneException e) {
      if (e.kind() == ControlPlaneException.Kind.UNSUPPORTED) {
        refuse(pg, "TailscaleServicesNotAvailable", e.getMessage() + "; the API server proxies of a ProxyGroup are "
            + "reached through a Tailscale Service: use the operator's own API server proxy "
            + "(apiServerProxyConfig.mode) instead", replicas, service, dnsName, writes);
        return Optional.empty();
      }
      throw new ProvisionException("Tailscale Service " + service + ": " + e.userMessage(), "TailscaleServiceFailed",
          e.isTransient(), e);
    }
    ServiceOwnership.Claim claim = ServiceOwnership.exclusiveClaim(existing, identity.id(), identity.ids(), group,
        pg.getMetadata().getUid());
    if (claim instanceof ServiceOwnership.Taken t) {
      refuse(pg, REASON_INVALID, "error ensuring exclusive ownership of Tailscale Service "
          + service.substring("svc:".length()) + ": " + t.why() + ". To proceed, you can either manually delete the "
          + "existing Tailscale Service or choose a different hostname in the ProxyGroup's spec.kubeAPIServer.hostname "
          + "field", replicas, service, dnsName, writes);
      return Optional.empty();
    }

    // 2. The service: created, or put back where its tags, port or owner differ.
    Map<String, String> annotations = ((ServiceOwnership.Ours) claim).annotations();
    List<String> tags = tags(pg);
    boolean written = false;
    try {
      if (existing.isEmpty() || !existing.get().tags().equals(tags)
          || !existing.get().ports().equals(List.of("tcp:443"))
          || !ServiceOwnership.sameOwners(existing.get().annotations(), annotations)) {
        LOG.info("ensuring Tailscale Service {} of ProxyGroup {} exists and is up to date", service, group);
        ctx.controlPlane().putService(new TailscaleService(service, existing.map(TailscaleService::addrs)
            .orElse(List.of()), ServiceOwnership.COMMENT, annotations, List.of("tcp:443"), tags));
        written = true;
      }
    } catch (ControlPlaneException e) {
      throw new ProvisionException("writing Tailscale Service " + service + ": " + e.userMessage(),
          "TailscaleServiceFailed", e.isTransient(), e);
    }

    // 3. The certificate resources, 4. the replicas naming and (once the certificate exists) advertising the service.
    if (dnsName != null) {
      ensureCertResources(pg, dnsName);
    }
    boolean certs = dnsName != null && hasCerts(dnsName);
    Set<String> earlier = configure(replicas, service, certs);

    // 5. Services of an earlier hostname this group owned go, with their certificate resources.
    for (String old : earlier) {
      releaseStale(pg, old, domain);
    }
    writeStatus(pg, true, replicas(group), service, dnsName, writes, REASON_VALID, REASON_VALID);
    return written ? Optional.of(RECHECK_SHARED) : Optional.empty();
  }

  /** The name cannot be used: Valid=False with why, a Warning event, nothing else changed. */
  private void refuse(ProxyGroup pg, String reason, String message, List<ReplicaState> replicas, String service,
      String dnsName, ParentWrites<ProxyGroup> writes) {
    LOG.warn("ProxyGroup {}: {}", pg.getMetadata().getName(), message);
    writeStatus(pg, false, replicas, service, dnsName, writes, reason, message);
    notes.report(pg, List.of(Problem.warning(EVENT_INVALID, message)));
  }

  private void writeStatus(ProxyGroup pg, Boolean valid, List<ReplicaState> replicas, String service,
      String dnsName, ParentWrites<ProxyGroup> writes) {
    writeStatus(pg, valid, replicas, service, dnsName, writes, null, null);
  }

  /**
   * Sets {@code KubeAPIServerProxyConfigured} (and {@code KubeAPIServerProxyValid} when {@code valid} is not null) and
   * {@code status.url} on the group's status, keeping what the ProxyGroup's own reconcile writes; writes when it
   * differs.
   */
  private void writeStatus(ProxyGroup pg, Boolean valid, List<ReplicaState> replicas, String service,
      String dnsName, ParentWrites<ProxyGroup> writes, String validReason, String validMessage) {
    long advertising = advertising(replicas, service);
    int desired = desiredReplicas(pg);
    String url = advertising > 0 && dnsName != null ? "https://" + dnsName : null;
    String message = advertising + "/" + desired + " proxy backends ready and advertising";
    Long generation = pg.getMetadata().getGeneration();
    UnaryOperator<ProxyGroupStatus> apply = current -> {
      ProxyGroupStatus s = current == null ? new ProxyGroupStatus() : Serialization.clone(current);
      List<Condition> conditions = s.getConditions() == null ? new ArrayList<>() : s.getConditions();
      if (valid != null) {
        conditions = Conditions.set(conditions, ConditionTypes.KUBE_API_SERVER_PROXY_VALID, valid, validReason,
            validMessage, generation, ctx.clock());
      }
      conditions = Conditions.set(conditions, ConditionTypes.KUBE_API_SERVER_PROXY_CONFIGURED, advertising > 0,
          advertising > 0 ? REASON_CONFIGURED : REASON_NO_BACKENDS, message, generation, ctx.clock());
      s.setConditions(conditions);
      s.setUrl(url);
      return s;
    };
    ProxyGroupStatus before = pg.getStatus() == null ? new ProxyGroupStatus() : pg.getStatus();
    ProxyGroupStatus after = apply.apply(before);
    if (same(before, after)) {
      return;
    }
    writes.writeStatus(pg, fresh -> {
      ProxyGroup copy = Serialization.clone(fresh);
      copy.setStatus(apply.apply(fresh.getStatus()));
      return copy;
    });
    boolean wasConfigured = Conditions.find(before.getConditions(), ConditionTypes.KUBE_API_SERVER_PROXY_CONFIGURED)
        .map(c -> "True".equals(c.getStatus())).orElse(false);
    if (advertising > 0 && !wasConfigured) {
      ctx.events().normal(pg, REASON_CONFIGURED, "the API server proxy is served at " + url + " as Tailscale Service "
          + service + ": " + message);
    }
  }

  private static boolean same(ProxyGroupStatus a, ProxyGroupStatus b) {
    if (!Objects.equals(a.getUrl(), b.getUrl())) {
      return false;
    }
    for (String type : List.of(ConditionTypes.KUBE_API_SERVER_PROXY_VALID,
        ConditionTypes.KUBE_API_SERVER_PROXY_CONFIGURED)) {
      Optional<Condition> x = Conditions.find(a.getConditions(), type);
      Optional<Condition> y = Conditions.find(b.getConditions(), type);
      if (x.isPresent() != y.isPresent() || x.isPresent() && (!Objects.equals(x.get().getStatus(),
          y.get().getStatus()) || !Objects.equals(x.get().getReason(), y.get().getReason())
          || !Objects.equals(x.get().getMessage(), y.get().getMessage())
          || !Objects.equals(x.get().getObservedGeneration(), y.get().getObservedGeneration()))) {
        return false;
      }
    }
    return true;
  }

  /**
   * Makes every replica's config file name {@code service} and advertise it exactly when the certificate exists
   * (official {@code maybeAdvertiseServices}); the service names the files named before, other than this one.
   */
  private Set<String> configure(List<ReplicaState> replicas, String service, boolean advertise) {
    Set<String> earlier = new LinkedHashSet<>();
    List<String> want = advertise ? List.of(service) : List.of();
    for (ReplicaState r : replicas) {
      if (r.config() == null) {
        continue;
      }
      String before = K8sProxyConfig.serviceName(ProxyConfigSecret.value(r.config(), K8sProxyConfig.KEY));
      if (before != null && !before.equals(service)) {
        earlier.add(before);
      }
      advertisement.secrets().change(r.config(), current -> {
        String cfg = ProxyConfigSecret.value(current, K8sProxyConfig.KEY);
        if (cfg.isEmpty()) {
          return SecretChange.NONE;
        }
        if (service.equals(K8sProxyConfig.serviceName(cfg))
            && K8sProxyConfig.advertisedServices(cfg).equals(want)) {
          return SecretChange.NONE;
        }
        return SecretChange.builder().data(Map.of(K8sProxyConfig.KEY, K8sProxyConfig.withService(cfg, service,
            want))).build();
      });
    }
    return earlier;
  }

  /** A service of this group's earlier hostname: deleted when it is this group's, its certificate resources too. */
  private void releaseStale(ProxyGroup pg, String old, String domain) throws ProvisionException {
    try {
      Optional<TailscaleService> s = ctx.controlPlane().getService(old);
      if (s.isPresent() && ServiceOwnership.ownedByGroup(s.get(), identity.ids(), pg.getMetadata().getUid())) {
        LOG.info("deleting Tailscale Service {} of ProxyGroup {} (its hostname changed)", old,
            pg.getMetadata().getName());
        ctx.controlPlane().deleteService(old);
      }
    } catch (ControlPlaneException e) {
      if (e.kind() != ControlPlaneException.Kind.UNSUPPORTED) {
        throw new ProvisionException("deleting Tailscale Service " + old + ": " + e.userMessage(),
            "TailscaleServiceFailed", e.isTransient(), e);
      }
    }
    if (domain != null) {
      deleteCertResources(old.substring("svc:".length()) + "." + domain);
    }
  }

  /**
   * Deleted: the Tailscale Service goes (when this operator owns it for this group) with the certificate resources,
   * then the finalizer.
   */
  private void cleanup(ProxyGroup pg, String service, ParentWrites<ProxyGroup> writes) throws ProvisionException {
    if (!pg.hasFinalizer(FINALIZER)) {
      return;
    }
    LOG.info("ProxyGroup {} is being deleted; releasing Tailscale Service {}", pg.getMetadata().getName(), service);
    try {
      Optional<TailscaleService> s = ctx.controlPlane().getService(service);
      if (s.isPresent() && ServiceOwnership.ownedByGroup(s.get(), identity.ids(), pg.getMetadata().getUid())) {
        ctx.controlPlane().deleteService(service);
      }
    } catch (ControlPlaneException e) {
      if (e.kind() != ControlPlaneException.Kind.UNSUPPORTED) {
        throw new ProvisionException("deleting Tailscale Service " + service + ": " + e.userMessage(),
            "TailscaleServiceFailed", e.isTransient(), e);
      }
    }
    String group = pg.getMetadata().getName();
    for (Secret cert : certSecrets.list(ctx.config().namespace(), c -> group.equals(
        c.getMetadata().getLabels().get(TailscaleKeys.PROXY_GROUP))).toList()) {
      deleteCertResources(cert.getMetadata().getName());
    }
    String domain = tailnetDomain(replicas(group));
    if (domain != null) {
      deleteCertResources(service.substring("svc:".length()) + "." + domain);
    }
    writes.removeFinalizer(pg, FINALIZER);
    notes.forget(pg);
  }

  private boolean hasCerts(String dnsName) {
    return certSecrets.get(new ResourceID(dnsName, ctx.config().namespace())).map(s -> s.getData() != null
        && notEmpty(s.getData().get("tls.crt")) && notEmpty(s.getData().get("tls.key"))).orElse(false);
  }

  private static boolean notEmpty(String b64) {
    return b64 != null && !b64.isEmpty();
  }

  /** The account the group's pods run as: the chart's static one in auth mode, else the group's own. */
  static String serviceAccount(ProxyGroup pg) {
    boolean noauth = pg.getSpec().getKubeAPIServer() != null
        && pg.getSpec().getKubeAPIServer().getMode() == APIServerProxyMode.NOAUTH;
    return noauth ? pg.getMetadata().getName() : ProxyGroupPlanner.AUTH_PROXY_SERVICE_ACCOUNT;
  }

  /**
   * The TLS Secret {@code <domain>} replica 0 issues the certificate into, and the Role and RoleBinding that let the
   * group's pods manage it (official {@code ensureCertResources}); created when missing, labels and rules put back.
   */
  private void ensureCertResources(ProxyGroup pg, String domain) throws ProvisionException {
    String group = pg.getMetadata().getName();
    Map<String, String> secretLabels = new LinkedHashMap<>(HaIngressController.certLabels(group, domain));
    secretLabels.put(ReplicaState.LABEL_SECRET_TYPE, "certs");
    secretLabels.put(TailscaleKeys.LABEL_PARENT_TYPE, ProxyGroupNames.PARENT_TYPE);
    secretLabels.put(TailscaleKeys.LABEL_PARENT_NAME, group);
    certResources.ensure(domain, HaIngressController.certLabels(group, domain), secretLabels, serviceAccount(pg));
  }

  private void deleteCertResources(String domain) {
    certResources.delete(domain);
  }
}
