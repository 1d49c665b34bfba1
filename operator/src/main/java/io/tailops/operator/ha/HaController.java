package io.tailops.operator.ha;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.javaoperatorsdk.operator.api.config.ControllerConfigurationOverrider;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.IndexerResourceCache;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.tailops.api.v1alpha1.ConditionTypes;
import io.tailops.api.v1alpha1.ProxyGroup;
import io.tailops.controlplane.ControlPlaneException;
import io.tailops.controlplane.TailscaleService;
import io.tailops.operator.k8s.TailscaleKeys;
import io.tailops.operator.pipeline.KubernetesParentWrites;
import io.tailops.operator.pipeline.ParentWrites;
import io.tailops.operator.proxy.KubernetesProxyWrites;
import io.tailops.operator.proxy.ProvisionException;
import io.tailops.operator.proxy.ProxySecrets;
import io.tailops.operator.proxy.ReplicaState;
import io.tailops.operator.proxygroup.ProxyGroupNames;
import io.tailops.operator.reconcile.OperatorContext;
import io.tailops.operator.reconcile.RetryingReconcile;
import io.tailops.operator.status.Conditions;
import io.tailops.operator.status.Problem;
import io.tailops.operator.status.ProblemReporter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the two HA kinds share (Ingresses and Services served by an ingress ProxyGroup through a Tailscale Service,
 * official {@code ingress-for-pg.go}, {@code svc-for-pg.go}): the JOSDK glue (their ProxyGroups, the groups' Secrets
 * and ConfigMaps, each mapped back to the parents that name the group), the Tailscale Service's life (created or taken
 * over when this operator may own it, released when the last parent of this operator goes), the group's ConfigMap and
 * its replicas' advertised Services, and the reconcile's one door ({@link RetryingReconcile}).
 *
 * <p>A subclass per parent type ({@link HaIngressController}, {@link HaServiceController}), so that JOSDK reads the
 * primary type from the class.
 */
public abstract class HaController<P extends HasMetadata, W> implements Reconciler<P> {
  static final String INDEX_GROUP = "proxy-group";
  /** How long after writing a Tailscale Service to look at it again (others may share it: official 5–10 min). */
  static final Duration RECHECK_SHARED = Duration.ofMinutes(7);
  private static final Logger LOG = LoggerFactory.getLogger(HaController.class);

  protected final OperatorContext ctx;
  protected final RetryingReconcile<P> retries;
  protected final ProblemReporter notes;
  protected final OperatorIdentity identity;
  protected final GroupAdvertisement advertisement;
  protected GroupConfigMap configMaps;
  protected IndexerResourceCache<P> parents;
  private InformerEventSource<ProxyGroup, P> groups;
  private InformerEventSource<Secret, P> groupSecrets;
  private InformerEventSource<ConfigMap, P> groupConfigMaps;
  private InformerEventSource<io.fabric8.kubernetes.api.model.Pod, P> groupPods;

  protected HaController(OperatorContext ctx) {
    this.ctx = ctx;
    this.retries = new RetryingReconcile<>(name(), ctx);
    this.notes = new ProblemReporter(ctx.events());
    this.identity = new OperatorIdentity(ctx.client(), ctx.config().namespace(), ctx.config().operatorSecret(),
        ctx.clock());
    this.advertisement = new GroupAdvertisement(new ProxySecrets(new KubernetesProxyWrites(ctx.client(),
        ctx.config().namespace(), null)));
  }

  /** The controller's name (also the reconcile metric's label). */
  public abstract String name();

  /** The parent's type. */
  protected abstract Class<P> parentType();

  /** The plan of a parent (pure, cheap). */
  protected abstract HaPlan<W> plan(P parent);

  /** The kind's reconcile; empty for done, or when to look again. */
  protected abstract Optional<Duration> reconcile(P parent, ParentWrites<P> writes) throws ProvisionException;

  /** The kind's further event sources (backend Services, EndpointSlices, certificate Secrets). */
  protected List<EventSource<?, P>> moreEventSources(EventSourceContext<P> context) {
    return List.of();
  }

  /** The ProxyGroup a parent names ({@code tailscale.com/proxy-group}), as a list of at most one. */
  protected List<String> groupsNamedBy(P parent) {
    Map<String, String> a = parent.getMetadata().getAnnotations();
    String pg = a == null ? null : a.get(TailscaleKeys.PROXY_GROUP);
    return pg == null || pg.isEmpty() ? List.of() : List.of(pg);
  }

  /** Controller settings: every event reconciles. */
  public Consumer<ControllerConfigurationOverrider<P>> configuration() {
    return c -> c.withName(name()).withGenerationAware(false).withTriggerReconcilerOnAllEvents(true)
        .watchingAllNamespaces().withReconciliationMaxInterval(Duration.ofHours(10))
        .withItemStore(new io.tailops.operator.k8s.StoreWithoutManagedFields<>());
  }

  @Override
  public List<EventSource<?, P>> prepareEventSources(EventSourceContext<P> context) {
    parents = context.getPrimaryCache();
    parents.addIndexer(INDEX_GROUP, this::groupsNamedBy);
    String ns = ctx.config().namespace();
    String selector = TailscaleKeys.LABEL_MANAGED + "=true," + TailscaleKeys.LABEL_PARENT_TYPE + "="
        + ProxyGroupNames.PARENT_TYPE;
    String prefix = name() + "-";
    groups = new InformerEventSource<>(InformerEventSourceConfiguration.from(ProxyGroup.class, parentType())
        .withName(prefix + "proxygroups")
        .withSecondaryToPrimaryMapper(pg -> parentsOf(pg.getMetadata().getName()))
        .withItemStore(new io.tailops.operator.k8s.StoreWithoutManagedFields<>()).build(), context);
    groupSecrets = new InformerEventSource<>(InformerEventSourceConfiguration.from(Secret.class, parentType())
        .withName(prefix + "proxygroup-secrets").withNamespaces(Set.of(ns)).withLabelSelector(selector)
        .withSecondaryToPrimaryMapper(s -> affectedBy(s, groupOf(s)))
        .withItemStore(new io.tailops.operator.k8s.StoreWithoutManagedFields<>()).build(), context);
    groupConfigMaps = new InformerEventSource<>(InformerEventSourceConfiguration
        .from(ConfigMap.class, parentType()).withName(prefix + "proxygroup-configmaps").withNamespaces(Set.of(ns))
        .withLabelSelector(selector).withSecondaryToPrimaryMapper(c -> affectedBy(c, groupOf(c)))
        .withItemStore(new io.tailops.operator.k8s.StoreWithoutManagedFields<>()).build(), context);
    groupPods = new InformerEventSource<>(InformerEventSourceConfiguration
        .from(io.fabric8.kubernetes.api.model.Pod.class, parentType()).withName(prefix + "proxygroup-pods")
        .withNamespaces(Set.of(ns)).withLabelSelector(selector)
        .withSecondaryToPrimaryMapper(p -> parentsOf(groupOf(p)))
        .withItemStore(new io.tailops.operator.k8s.StoreWithoutManagedFields<>()).build(), context);
    configMaps = new GroupConfigMap(ctx.client(), ns, name -> groupConfigMaps.get(new ResourceID(name, ns)));
    List<EventSource<?, P>> sources = new ArrayList<>(List.of(groups, groupSecrets, groupConfigMaps, groupPods));
    sources.addAll(moreEventSources(context));
    sources.add(retries.eventSource());
    return sources;
  }

  private static String groupOf(HasMetadata child) {
    Map<String, String> l = child.getMetadata().getLabels();
    return l == null ? null : l.get(TailscaleKeys.LABEL_PARENT_NAME);
  }

  /** The parents that name {@code group}, and those that still carry this kind's finalizer (they may have named it). */
  private Set<ResourceID> parentsOf(String group) {
    if (group == null) {
      return Set.of();
    }
    return parents.byIndex(INDEX_GROUP, group).stream().map(ResourceID::fromResource).collect(Collectors.toSet());
  }

  /**
   * The parents a change of one of the group's Secrets or ConfigMaps concerns: by default every parent naming the group.
   * A kind whose parents share one ConfigMap and one status per replica narrows it down, so that serving N parents does
   * not cost N reconciles per write (N² in all).
   */
  protected Set<ResourceID> affectedBy(HasMetadata groupObject, String group) {
    return parentsOf(group);
  }

  /** The parents of this kind that name {@code group}. */
  protected List<P> parentsNaming(String group) {
    return parents.byIndex(INDEX_GROUP, group);
  }

  @Override
  public UpdateControl<P> reconcile(P parent, Context<P> context) {
    return retries.reconcile(parent, p -> reconcile(p, new KubernetesParentWrites<>(context)));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // The group

  protected Optional<ProxyGroup> group(String name) {
    return groups.get(new ResourceID(name));
  }

  /** Whether at least one of the group's replicas runs (official {@code ProxyGroupAvailable}). */
  protected static boolean available(ProxyGroup pg) {
    return pg.getStatus() != null && Conditions.find(pg.getStatus().getConditions(),
        ConditionTypes.PROXY_GROUP_AVAILABLE).map(c -> "True".equals(c.getStatus())).orElse(false);
  }

  /** The group's replicas, in ordinal order. */
  protected List<ReplicaState> replicas(String group) {
    String ns = ctx.config().namespace();
    List<Secret> secrets = groupSecrets.list(ns, s -> group.equals(groupOf(s))).toList();
    return ReplicaState.pair(secrets).stream()
        .sorted(Comparator.comparingInt(r -> ordinal(r.secretName()))).toList();
  }

  private static int ordinal(String name) {
    try {
      return Integer.parseInt(name.substring(name.lastIndexOf('-') + 1));
    } catch (RuntimeException e) {
      return Integer.MAX_VALUE;
    }
  }

  /** The pod of a replica ({@code <pg>-<i>}), if it exists. */
  protected Optional<io.fabric8.kubernetes.api.model.Pod> pod(String name) {
    return groupPods.get(new ResourceID(name, ctx.config().namespace()));
  }

  /**
   * Whether the caches of the groups' ConfigMaps and Pods have started. JOSDK starts a controller's event sources in
   * parallel, as threads allow: a mapper that reads one of these caches while its own source starts first must not.
   */
  protected boolean groupCachesStarted() {
    return groupConfigMaps != null && groupConfigMaps.isRunning() && groupPods != null && groupPods.isRunning();
  }

  /** A ConfigMap of the groups (in the operator namespace) by name, from the cache. */
  protected Optional<ConfigMap> groupConfigMap(String name) {
    return groupConfigMaps.get(new ResourceID(name, ctx.config().namespace()));
  }

  /** Every ConfigMap of the groups, from the cache. */
  protected List<ConfigMap> groupConfigMaps() {
    return groupConfigMaps.list(ctx.config().namespace(), c -> true).toList();
  }

  /** The groups whose ConfigMap has an entry for {@code service} under {@code key}. */
  protected List<String> groupsServing(String key, String service) {
    List<String> out = new ArrayList<>();
    for (ConfigMap cm : groupConfigMaps.list(ctx.config().namespace(), c -> true).toList()) {
      String group = groupOf(cm);
      if (group != null && cm.getMetadata().getName().equals(ProxyGroupNames.ingressConfigMapName(group))
          && GroupConfigMap.entries(cm, key).containsKey(service)) {
        out.add(group);
      }
    }
    return out;
  }

  /** The tailnet's MagicDNS suffix ({@code tailnet-abc.ts.net}), from the group's devices; null before one reported. */
  protected static String tailnetDomain(List<ReplicaState> replicas) {
    for (ReplicaState r : replicas) {
      String fqdn = r.device().fqdn();
      int dot = fqdn.indexOf('.');
      if (dot > 0 && dot < fqdn.length() - 1) {
        return fqdn.substring(dot + 1).toLowerCase(Locale.ROOT);
      }
    }
    return null;
  }

  /** Why the group named by a parent cannot serve it now (missing, of another type, not running), or null. */
  protected static Problem groupProblem(String name, Optional<ProxyGroup> pg, String parentKind) {
    if (pg.isEmpty()) {
      return Problem.warning("ProxyGroupNotFound", "ProxyGroup \"" + name + "\" does not exist: create a "
          + "ProxyGroup of type ingress named " + name + ", or name an existing one in " + TailscaleKeys.PROXY_GROUP);
    }
    if (pg.get().getSpec() == null || pg.get().getSpec().getType() != io.tailops.api.v1alpha1.ProxyGroupType.INGRESS) {
      String type = pg.get().getSpec() == null || pg.get().getSpec().getType() == null ? ""
          : pg.get().getSpec().getType().value();
      return Problem.warning("ProxyGroupTypeMismatch", "ProxyGroup \"" + name + "\" is of type \"" + type
          + "\" but must be of type \"ingress\" to serve this " + parentKind + "; name an ingress ProxyGroup in "
          + TailscaleKeys.PROXY_GROUP);
    }
    if (!available(pg.get())) {
      String why = pg.get().getStatus() == null ? "" : Conditions.find(pg.get().getStatus().getConditions(),
          ConditionTypes.PROXY_GROUP_READY).map(c -> ": " + c.getMessage()).orElse("");
      return Problem.normal("ProxyGroupNotReady", "waiting for ProxyGroup \"" + name + "\": none of its replicas "
          + "runs yet" + why);
    }
    return null;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // The Tailscale Service

  /** Where taking the Tailscale Service ended. */
  protected sealed interface Taken {
  }

  /** The service as it is now (with its addresses), and whether this reconcile wrote it. */
  protected record Served(TailscaleService service, boolean written) implements Taken {
  }

  /** The control plane has no Tailscale Services, or the name belongs to someone else: why. */
  protected record Refused(String reason, String message) implements Taken {
  }

  /** This operator may write the service: as it is now (absent: to be created), with the annotations to write. */
  protected record Claimed(String name, Optional<TailscaleService> existing, Map<String, String> annotations)
      implements Taken {
  }

  /**
   * Reads the Tailscale Service and decides whether this operator may use it (creates it, or takes it over when the
   * owner annotation lists only operators); refused when someone else owns it or the control plane has none.
   */
  protected Taken claimService(String name, String howToRename) throws ProvisionException {
    try {
      Optional<TailscaleService> existing = ctx.controlPlane().getService(name);
      ServiceOwnership.Claim claim = ServiceOwnership.claim(existing, identity.id(), identity.ids());
      if (claim instanceof ServiceOwnership.Taken t) {
        return new Refused("InvalidTailscaleService", "error ensuring ownership of Tailscale Service "
            + name.substring(TailscaleService.PREFIX.length()) + ": " + t.why() + ". To proceed, you can either "
            + "manually delete the existing Tailscale Service or " + howToRename);
      }
      return new Claimed(name, existing, ((ServiceOwnership.Ours) claim).annotations());
    } catch (ControlPlaneException e) {
      if (e.kind() == ControlPlaneException.Kind.UNSUPPORTED) {
        return new Refused("TailscaleServicesNotAvailable", e.getMessage() + "; serve it with a proxy of its own "
            + "instead (remove " + TailscaleKeys.PROXY_GROUP + ")");
      }
      throw new ProvisionException("Tailscale Service " + name + ": " + e.userMessage(), "TailscaleServiceFailed",
          e.isTransient(), e);
    }
  }

  /** Writes the claimed service when its tags, ports or owners differ; the service as it is then, with addresses. */
  protected Served writeService(Claimed c, List<String> tags, List<String> ports) throws ProvisionException {
    try {
      Optional<TailscaleService> existing = c.existing();
      if (existing.isPresent() && existing.get().tags().equals(tags) && existing.get().ports().equals(ports)
          && ServiceOwnership.sameOwners(existing.get().annotations(), c.annotations())) {
        return new Served(existing.get(), false);
      }
      TailscaleService want = new TailscaleService(c.name(), existing.map(TailscaleService::addrs).orElse(List.of()),
          ServiceOwnership.COMMENT, c.annotations(), ports, tags);
      ctx.controlPlane().putService(want);
      TailscaleService now = want.addrs().isEmpty() ? ctx.controlPlane().getService(c.name()).orElse(want) : want;
      return new Served(now, true);
    } catch (ControlPlaneException e) {
      throw new ProvisionException("writing Tailscale Service " + c.name() + ": " + e.userMessage(),
          "TailscaleServiceFailed", e.isTransient(), e);
    }
  }

  /**
   * Releases the Tailscale Service: deleted when this operator was its only owner, else this operator's reference is
   * removed; left alone when it is not this operator's (or the control plane has none).
   */
  protected void releaseService(String name) throws ProvisionException {
    try {
      Optional<TailscaleService> s = ctx.controlPlane().getService(name);
      if (s.isEmpty()) {
        return;
      }
      ServiceOwnership.Release r = ServiceOwnership.release(s.get(), identity.ids());
      if (r instanceof ServiceOwnership.Delete) {
        ctx.controlPlane().deleteService(name);
      } else if (r instanceof ServiceOwnership.KeepFor k) {
        ctx.controlPlane().putService(s.get().withAnnotations(k.annotations()));
        LOG.info("Tailscale Service {} stays for its other owners", name);
      }
    } catch (ControlPlaneException e) {
      if (e.kind() == ControlPlaneException.Kind.UNSUPPORTED) {
        return;
      }
      throw new ProvisionException("releasing Tailscale Service " + name + ": " + e.userMessage(),
          "TailscaleServiceFailed", e.isTransient(), e);
    }
  }

  /**
   * Releases the Tailscale Services of {@code group} under {@code key} of its ConfigMap that no parent of this kind
   * claims any more (a parent renamed, or gone while the operator was down): unadvertised, removed from the
   * ConfigMap, released. Official {@code maybeCleanupProxyGroup}.
   *
   * @param claimed the service names this kind's parents on the group claim
   */
  protected void releaseUnclaimed(String group, String key, Set<String> claimed, Consumer<String> alsoRemove)
      throws ProvisionException {
    Optional<Map<String, com.fasterxml.jackson.databind.JsonNode>> entries = configMaps.entries(group, key);
    if (entries.isEmpty()) {
      return;
    }
    for (String svc : entries.get().keySet()) {
      if (claimed.contains(svc)) {
        continue;
      }
      LOG.info("Tailscale Service {} of ProxyGroup {} is claimed by no {} any more; releasing it", svc, group,
          parentType().getSimpleName());
      advertisement.set(replicas(group), svc, r -> false);
      configMaps.set(group, key, svc, null);
      alsoRemove.accept(svc);
      releaseService(svc);
    }
  }

  /** The replicas that advertise {@code service} now (their tailscaled applied it), as the official operator counts. */
  protected static long advertising(List<ReplicaState> replicas, String service) {
    return replicas.stream().filter(r -> r.advertisedServices().contains(service)).count();
  }

  /** Human list of the group's replicas not yet advertising the service. */
  protected static String waitingReplicas(List<ReplicaState> replicas, String service) {
    return replicas.stream().filter(r -> !r.advertisedServices().contains(service)).map(ReplicaState::secretName)
        .collect(Collectors.joining(", "));
  }

  /** The desired replica count of a group (2 when unset), for messages. */
  protected static int desiredReplicas(ProxyGroup pg) {
    return pg.getSpec() == null || pg.getSpec().getReplicas() == null ? 2 : pg.getSpec().getReplicas();
  }
}
