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
import io.tailops.operator.reconcile.OperatorContext;
import io.tailops.operator.reconcile.RetryingReconcile;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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

  private final ProxyKind<P, S, Q> kind;
  private final OperatorContext ctx;
  private final RetryingReconcile<P> retries;
  private ProxyPipeline<P, S, Q> pipeline;

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
    InformerEventSource<Secret, P> secrets = new InformerEventSource<>(InformerEventSourceConfiguration
        .from(Secret.class, kind.parentClass()).withName(prefix + "secrets").withNamespaces(Set.of(ns))
        .withLabelSelector(selector).withSecondaryToPrimaryMapper(this::parentOf)
        .withItemStore(new StoreWithoutManagedFields<>()).build(), context);
    InformerEventSource<Service, P> services = new InformerEventSource<>(InformerEventSourceConfiguration
        .from(Service.class, kind.parentClass()).withName(prefix + "services").withNamespaces(Set.of(ns))
        .withLabelSelector(selector).withSecondaryToPrimaryMapper(this::parentOf)
        .withItemStore(new StoreWithoutManagedFields<>()).build(), context);

    IndexerResourceCache<P> parents = context.getPrimaryCache();
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

    // The proxies' own ServiceAccounts, Roles and RoleBindings (ProxyAccess): a deleted or edited one is put back.
    InformerEventSource<ServiceAccount, P> serviceAccounts = new InformerEventSource<>(InformerEventSourceConfiguration
        .from(ServiceAccount.class, kind.parentClass()).withName(prefix + "serviceaccounts").withNamespaces(Set.of(ns))
        .withLabelSelector(selector).withSecondaryToPrimaryMapper(this::parentOf)
        .withItemStore(new StoreWithoutManagedFields<>()).build(), context);
    InformerEventSource<Role, P> roles = new InformerEventSource<>(InformerEventSourceConfiguration
        .from(Role.class, kind.parentClass()).withName(prefix + "roles").withNamespaces(Set.of(ns))
        .withLabelSelector(selector).withSecondaryToPrimaryMapper(this::parentOf)
        .withItemStore(new StoreWithoutManagedFields<>()).build(), context);
    InformerEventSource<RoleBinding, P> roleBindings = new InformerEventSource<>(InformerEventSourceConfiguration
        .from(RoleBinding.class, kind.parentClass()).withName(prefix + "rolebindings").withNamespaces(Set.of(ns))
        .withLabelSelector(selector).withSecondaryToPrimaryMapper(this::parentOf)
        .withItemStore(new StoreWithoutManagedFields<>()).build(), context);
    InformerProxyObjectStore store = new InformerProxyObjectStore(ns, statefulSets, secrets, services,
        serviceAccounts, roles, roleBindings);
    pipeline = new ProxyPipeline<>(kind, ctx, store, new KubernetesProxyWrites(ctx.client(), ns, store),
        name -> proxyClasses.get(new ResourceID(name)));
    List<EventSource<?, P>> sources = new ArrayList<>(List.of(statefulSets, secrets, services, serviceAccounts, roles,
        roleBindings, proxyClasses));
    sources.addAll(kind.eventSources(context, parents));
    sources.add(retries.eventSource());
    return sources;
  }

  private Set<ResourceID> parentOf(HasMetadata child) {
    return ChildLabels.parentOf(child.getMetadata().getLabels(), kind.parentType())
        .map(p -> Set.of(kind.clusterScoped() ? new ResourceID(p.name()) : new ResourceID(p.name(), p.namespace())))
        .orElse(Set.of());
  }

  @Override
  public UpdateControl<P> reconcile(P parent, Context<P> context) {
    return retries.reconcile(parent, p -> pipeline.reconcile(p, context.isPrimaryResourceDeleted(),
        new KubernetesParentWrites<>(context)));
  }
}
