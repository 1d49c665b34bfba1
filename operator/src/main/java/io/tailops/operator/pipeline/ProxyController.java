package io.tailops.operator.pipeline;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
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
import io.tailops.api.v1alpha1.ProxyClass;
import io.tailops.operator.k8s.HostnameClaims;
import io.tailops.operator.k8s.StoreWithoutManagedFields;
import io.tailops.operator.k8s.TailscaleKeys;
import io.tailops.operator.proxy.ChildLabels;
import io.tailops.operator.proxy.KubernetesProxyWrites;
import io.tailops.operator.proxy.ReplicaState;
import io.tailops.operator.reconcile.OperatorContext;
import io.tailops.operator.reconcile.RetryingReconcile;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * The JOSDK controller of one proxy kind: the informers of its proxies' objects (label-selected in the operator
 * namespace and mapped back to the parent by their labels), its ProxyClasses (mapped to their users by an index), the
 * kind's own event sources, the hostname and ProxyClass indexes over the parents, and the reconcile, which goes through
 * {@link RetryingReconcile} into the {@link ProxyPipeline}.
 *
 * <p>Each kind has a named subclass with its concrete types ({@code ServiceController extends ProxyController<Service,
 * ...>}): JOSDK reads the parent's type from the class's generic superclass and names the controller by its class.
 */
public abstract class ProxyController<P extends HasMetadata, S, Q> implements Reconciler<P> {
  static final String INDEX_HOSTNAME = "hostname";
  static final String INDEX_PROXY_CLASS = "proxy-class";
  /** Parents by {@code <namespace>/<value of tailscale.com/parent-resource>}: maps long names back. */
  static final String INDEX_PARENT_LABEL = "parent-label";

  private final ProxyKind<P, S, Q> kind;
  private final OperatorContext ctx;
  private final RetryingReconcile<P> retries;
  private ProxyPipeline<P, S, Q> pipeline;
  private IndexerResourceCache<P> parents;
  private InformerProxyObjectStore store;

  protected ProxyController(ProxyKind<P, S, Q> kind, OperatorContext ctx) {
    this.kind = kind;
    this.ctx = ctx;
    this.retries = new RetryingReconcile<>(kind.controllerName(), ctx);
  }

  public ProxyKind<P, S, Q> kind() {
    return kind;
  }

  /** The controller's settings: every event reconciles (status and labels matter, not only the generation). */
  public Consumer<ControllerConfigurationOverrider<P>> configuration() {
    return c -> {
      c.withName(kind.controllerName()).withGenerationAware(false).withTriggerReconcilerOnAllEvents(true)
          .withReconciliationMaxInterval(Duration.ofHours(10)).withItemStore(new StoreWithoutManagedFields<>());
      if (!kind.clusterScoped()) {
        c.watchingAllNamespaces();
      }
      kind.configure(c);
    };
  }

  @Override
  public List<EventSource<?, P>> prepareEventSources(EventSourceContext<P> context) {
    String ns = ctx.config().namespace();
    String selector = TailscaleKeys.LABEL_MANAGED + "=true," + TailscaleKeys.LABEL_PARENT_TYPE + "="
        + kind.parentType();
    String prefix = kind.kindName().toLowerCase(Locale.ROOT) + "-proxy-";
    InformerEventSource<StatefulSet, P> statefulSets = new InformerEventSource<>(InformerEventSourceConfiguration
        .from(StatefulSet.class, kind.parentClass()).withName(prefix + "statefulsets").withNamespaces(Set.of(ns))
        .withLabelSelector(selector).withSecondaryToPrimaryMapper(this::parentOf)
        .withItemStore(new StoreWithoutManagedFields<>()).build(), context);
    // A proxy Secret deleted, or whose config now asks for another hostname, lets the name go: whoever waits for it is
    // woken (after the cache has the change, so the waiting parent sees the name free).
    InformerEventSource<Secret, P> secrets = new InformerEventSource<>(InformerEventSourceConfiguration
        .from(Secret.class, kind.parentClass()).withName(prefix + "secrets").withNamespaces(Set.of(ns))
        .withLabelSelector(selector).withSecondaryToPrimaryMapper(this::parentOf)
        .withOnDeleteFilter((s, unknown) -> {
          releasedBy(s, null);
          return true;
        })
        .withOnUpdateFilter((now, before) -> {
          releasedBy(before, now);
          return true;
        })
        .withItemStore(new StoreWithoutManagedFields<>()).build(), context);
    secrets.addIndexer(INDEX_HOSTNAME, s -> {
      String h = ReplicaState.of(s).configuredHostname();
      return h == null || h.isEmpty() ? List.of() : List.of(h.toLowerCase(Locale.ROOT));
    });
    ctx.hostnames().registerHolders(kind.kindName(), hostname -> secrets.byIndex(INDEX_HOSTNAME, hostname).stream()
        .map(s -> ChildLabels.parentOf(s.getMetadata().getLabels(), kind.parentType())
            .map(p -> new HostnameClaims.Holder(p.type(), p.namespace(), p.name(), kind.kindName())).orElse(null))
        .filter(java.util.Objects::nonNull).toList());
    InformerEventSource<Service, P> services = new InformerEventSource<>(InformerEventSourceConfiguration
        .from(Service.class, kind.parentClass()).withName(prefix + "services").withNamespaces(Set.of(ns))
        .withLabelSelector(selector).withSecondaryToPrimaryMapper(this::parentOf)
        .withItemStore(new StoreWithoutManagedFields<>()).build(), context);

    IndexerResourceCache<P> parents = context.getPrimaryCache();
    this.parents = parents;
    parents.addIndexer(INDEX_PARENT_LABEL, p -> List.of(ChildLabels.labelKey(p.getMetadata().getNamespace(),
        p.getMetadata().getName())));
    parents.addIndexer(INDEX_HOSTNAME, p -> p.getMetadata().getDeletionTimestamp() != null ? List.of()
        : kind.claim(p).hostnames().stream().map(h -> h.toLowerCase(Locale.ROOT)).toList());
    parents.addIndexer(INDEX_PROXY_CLASS, p -> {
      String pc = kind.claim(p).proxyClassName();
      return pc == null ? List.of() : List.of(pc);
    });
    ctx.hostnames().register(kind.kindName(), hostname -> parents.byIndex(INDEX_HOSTNAME, hostname).stream()
        .map(p -> new HostnameClaims.Claim(kind.kindName(), p.getMetadata().getNamespace(), p.getMetadata().getName(),
            p.getMetadata().getUid(), HostnameClaims.created(p.getMetadata().getCreationTimestamp())))
        .toList(), claim -> retries.kick(new ResourceID(claim.name(), claim.namespace())));
    ctx.proxyClassUsers().register(kind.kindName(), name -> parents.byIndex(INDEX_PROXY_CLASS, name).stream()
        .map(p -> kind.kindName() + " " + ChildLabels.describe(p)).toList());
    InformerEventSource<ProxyClass, P> proxyClasses = new InformerEventSource<>(InformerEventSourceConfiguration
        .from(ProxyClass.class, kind.parentClass()).withName(kind.kindName().toLowerCase(Locale.ROOT)
            + "-proxyclasses")
        .withSecondaryToPrimaryMapper(pc -> parents.byIndex(INDEX_PROXY_CLASS, pc.getMetadata().getName()).stream()
            .map(ResourceID::fromResource).collect(Collectors.toSet()))
        .withItemStore(new StoreWithoutManagedFields<>()).build(), context);

    Map<Class<? extends HasMetadata>, InformerEventSource<? extends HasMetadata, P>> further = new LinkedHashMap<>();
    for (Class<? extends HasMetadata> type : kind.ownedTypes()) {
      further.put(type, informer(type, prefix, ns, selector, context));
    }
    for (Class<? extends HasMetadata> type : kind.watchedTypes()) {
      further.put(type, informer(type, prefix, ns, selector, context));
    }
    // The proxies' own ServiceAccounts, Roles and RoleBindings (ProxyAccess): a deleted or edited one is put back.
    for (Class<? extends HasMetadata> type : io.tailops.operator.proxy.ProxyAccess.TYPES) {
      if (!further.containsKey(type)) {
        further.put(type, informer(type, prefix, ns, selector, context));
      }
    }
    InformerProxyObjectStore store = new InformerProxyObjectStore(ns, statefulSets, secrets, services, further,
        Set.copyOf(kind.ownedTypes()));
    this.store = store;
    pipeline = new ProxyPipeline<>(kind, ctx, store, new KubernetesProxyWrites(ctx.client(), ns, store),
        name -> proxyClasses.get(new ResourceID(name)));
    List<EventSource<?, P>> sources = new ArrayList<>(List.of(statefulSets, secrets, services, proxyClasses));
    sources.addAll(further.values());
    sources.addAll(kind.eventSources(context, parents));
    sources.add(retries.eventSource());
    return sources;
  }

  private <T extends HasMetadata> InformerEventSource<T, P> informer(Class<T> type, String prefix, String ns,
      String selector, EventSourceContext<P> context) {
    return new InformerEventSource<>(InformerEventSourceConfiguration.from(type, kind.parentClass())
        .withName(prefix + type.getSimpleName().toLowerCase(Locale.ROOT) + "s").withNamespaces(Set.of(ns))
        .withLabelSelector(selector).withSecondaryToPrimaryMapper(this::parentOf)
        .withItemStore(new StoreWithoutManagedFields<>()).build(), context);
  }

  /** Wakes the claimants of the hostname {@code before} asked for, when {@code after} (null: deleted) no longer does. */
  private void releasedBy(Secret before, Secret after) {
    String was = ReplicaState.of(before).configuredHostname();
    if (was == null || was.isEmpty()) {
      return;
    }
    String now = after == null ? null : ReplicaState.of(after).configuredHostname();
    if (!was.equalsIgnoreCase(now == null ? "" : now)) {
      ctx.hostnames().released(was);
    }
  }

  /**
   * The parent of a proxy object, from its labels: the parent named by {@code tailscale.com/parent-resource} and, for a
   * name too long for a label (the label then holds a shortened form), the parent the index finds for that form.
   */
  private Set<ResourceID> parentOf(HasMetadata child) {
    return ChildLabels.parentOf(child.getMetadata().getLabels(), kind.parentType()).map(p -> {
      Set<ResourceID> ids = new java.util.HashSet<>();
      ids.add(kind.clusterScoped() ? new ResourceID(p.name()) : new ResourceID(p.name(), p.namespace()));
      if (parents != null) {
        parents.byIndex(INDEX_PARENT_LABEL, ChildLabels.labelKey(p.namespace(), p.name())).stream()
            .map(ResourceID::fromResource).forEach(ids::add);
      }
      return ids;
    }).orElse(Set.of());
  }

  /**
   * The parent-less sweep of this kind (at start-up and periodically, by the runtime, on the leader): the proxy objects
   * and registered devices whose parent no longer exists (force-deleted while the operator was down, so its finalizer
   * never ran) are removed, devices first. A parent counts as gone only when neither the cache nor the API server has
   * it; any doubt (an API error) leaves everything as it is.
   *
   * @return whether a removal is still under way (a StatefulSet being deleted): sweep again soon
   */
  public boolean sweepParentless() {
    if (store == null || pipeline == null) {
      return false;
    }
    java.util.Set<io.tailops.operator.proxy.ParentRef> refs = new java.util.LinkedHashSet<>(
        store.parentsOf(kind.parentType()));
    for (io.tailops.operator.proxy.DeviceRegistry.Entry e : ctx.devices().all()) {
      if (e.parentType().equals(kind.parentType())) {
        refs.add(e.parent());
      }
    }
    boolean pending = false;
    for (io.tailops.operator.proxy.ParentRef ref : refs) {
      try {
        if (parentExists(ref)) {
          continue;
        }
        pending |= !pipeline.removeParentless(ref);
      } catch (io.fabric8.kubernetes.client.KubernetesClientException
          | io.tailops.operator.proxy.ProvisionException e) {
        org.slf4j.LoggerFactory.getLogger(ProxyController.class).info("parent-less sweep: {} left as it is for "
            + "now: {}", ref, e.getMessage());
      }
    }
    return pending;
  }

  /** Whether the parent named by proxy labels exists: in the cache, else on the API server. */
  private boolean parentExists(io.tailops.operator.proxy.ParentRef ref) {
    String namespace = kind.clusterScoped() ? null : ref.namespace();
    if (!parents.byIndex(INDEX_PARENT_LABEL, ChildLabels.labelKey(namespace, ref.name())).isEmpty()) {
      return true;
    }
    var resources = ctx.client().resources(kind.parentClass());
    P live = kind.clusterScoped() ? resources.withName(ref.name()).get()
        : resources.inNamespace(ref.namespace()).withName(ref.name()).get();
    if (live != null) {
      return true;
    }
    if (ref.name().length() < io.tailops.operator.proxy.DerivedNames.MAX_LABEL) {
      return false;
    }
    // A label of 63 characters may be the shortened form of a longer name: look for a parent it stands for.
    var list = kind.clusterScoped() ? resources.list() : resources.inNamespace(ref.namespace()).list();
    return list.getItems().stream().anyMatch(p -> ChildLabels.labelKey(namespace, p.getMetadata().getName())
        .equals(ChildLabels.labelKey(namespace, ref.name())));
  }

  @Override
  public UpdateControl<P> reconcile(P parent, Context<P> context) {
    return retries.reconcile(parent, p -> pipeline.reconcile(p, context.isPrimaryResourceDeleted(),
        new KubernetesParentWrites<>(context)));
  }
}
