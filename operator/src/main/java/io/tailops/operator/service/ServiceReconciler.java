package io.tailops.operator.service;

import static io.tailops.operator.k8s.TailscaleKeys.CONDITION_PROXY_READY;
import static io.tailops.operator.k8s.TailscaleKeys.FINALIZER;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceStatus;
import io.fabric8.kubernetes.api.model.ServiceStatusBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.tailops.api.v1alpha1.ProxyClass;
import io.tailops.operator.k8s.Finalizers;
import io.tailops.operator.k8s.HostnameClaims;
import io.tailops.operator.k8s.InformerProxyObjectStore;
import io.tailops.operator.k8s.ProxyClasses;
import io.tailops.operator.k8s.TailscaleKeys;
import io.tailops.operator.proxy.ChildLabels;
import io.tailops.operator.proxy.ParentRef;
import io.tailops.operator.proxy.ProvisionException;
import io.tailops.operator.proxy.ProxyHealer;
import io.tailops.operator.proxy.ProxyProvisioner;
import io.tailops.operator.proxy.ProxySpec;
import io.tailops.operator.runtime.RetryingReconcile;
import io.tailops.operator.runtime.OperatorContext;
import io.tailops.operator.status.Conditions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reconciles Services: exposes those that ask for it ({@code tailscale.com/expose}, LoadBalancer class
 * {@code tailscale}) through a proxy and removes the proxy when they stop asking or go away. Thin: the decisions are
 * in {@link ServicePlanner}, {@link ServiceProxyStatus} and {@link ProxyProvisioner}.
 */
public class ServiceReconciler implements Reconciler<Service> {
  public static final String NAME = "service-reconciler";
  static final String INDEX_HOSTNAME = "hostname";
  static final String INDEX_PROXY_CLASS = "proxy-class";
  private static final Logger LOG = LoggerFactory.getLogger(ServiceReconciler.class);
  private static final Duration PENDING_RECHECK = Duration.ofMinutes(5);

  private final OperatorContext ctx;
  private final ServicePlanner planner;
  private final ProxyProvisioner provisioner;
  private final ProxyHealer healer;
  private final io.tailops.operator.proxy.FunnelPreflight funnelPreflight;
  private final io.tailops.operator.status.ProblemReporter oneOffWarnings;
  private final RetryingReconcile<Service> retries;
  private InformerEventSource<StatefulSet, Service> statefulSets;
  private InformerEventSource<Secret, Service> secrets;
  private InformerEventSource<Service, Service> proxyServices;
  private InformerEventSource<ProxyClass, Service> proxyClasses;
  private io.javaoperatorsdk.operator.processing.event.source.IndexerResourceCache<Service> services;
  private InformerProxyObjectStore store;

  public ServiceReconciler(OperatorContext ctx) {
    this.ctx = ctx;
    this.planner = new ServicePlanner(ctx.config().defaultLoadBalancer(), ctx.config().proxyTags(),
        ctx.config().proxyDefaultClass(), ctx.config().proxyFirewallMode(), ctx.config()::funnelAllowedIn,
        ctx.controlPlane().capabilities().funnel());
    this.provisioner = new ProxyProvisioner(ctx.client(), ctx::controlPlane, ctx.proxyDefaults());
    this.healer = new ProxyHealer(ctx.client(), ctx::controlPlane, ctx.proxyDefaults(), ctx.clock(),
        ctx.config().reauthMinInterval(), ctx.config().selfHealing());
    this.oneOffWarnings = new io.tailops.operator.status.ProblemReporter(ctx.events());
    this.funnelPreflight = new io.tailops.operator.proxy.FunnelPreflight(ctx::controlPlane);
    this.retries = new RetryingReconcile<>(NAME, ctx);
  }


  @Override
  public List<EventSource<?, Service>> prepareEventSources(EventSourceContext<Service> context) {
    String ns = ctx.config().namespace();
    String selector = TailscaleKeys.LABEL_MANAGED + "=true," + TailscaleKeys.LABEL_PARENT_TYPE + "="
        + ParentRef.TYPE_SERVICE;
    statefulSets = new InformerEventSource<>(InformerEventSourceConfiguration.from(StatefulSet.class, Service.class)
        .withName("service-proxy-statefulsets").withNamespaces(Set.of(ns)).withLabelSelector(selector)
        .withSecondaryToPrimaryMapper(ServiceReconciler::parentOf).build(), context);
    secrets = new InformerEventSource<>(InformerEventSourceConfiguration.from(Secret.class, Service.class)
        .withName("service-proxy-secrets").withNamespaces(Set.of(ns)).withLabelSelector(selector)
        .withSecondaryToPrimaryMapper(ServiceReconciler::parentOf).build(), context);
    proxyServices = new InformerEventSource<>(InformerEventSourceConfiguration.from(Service.class, Service.class)
        .withName("service-proxy-headless-services").withNamespaces(Set.of(ns)).withLabelSelector(selector)
        .withSecondaryToPrimaryMapper(ServiceReconciler::parentOf).build(), context);

    services = context.getPrimaryCache();
    services.addIndexer(INDEX_HOSTNAME, svc -> {
      ServicePlan p = planner.plan(svc);
      return p instanceof ServicePlan.Expose e && svc.getMetadata().getDeletionTimestamp() == null
          ? List.of(e.hostname().toLowerCase(Locale.ROOT)) : List.of();
    });
    services.addIndexer(INDEX_PROXY_CLASS, svc -> {
      ServicePlan p = planner.plan(svc);
      return p instanceof ServicePlan.Expose e && e.proxyClassName() != null ? List.of(e.proxyClassName())
          : List.of();
    });
    ctx.hostnames().register("Service", hostname -> services.byIndex(INDEX_HOSTNAME, hostname).stream()
        .map(s -> new HostnameClaims.Claim("Service", s.getMetadata().getNamespace(), s.getMetadata().getName(),
            s.getMetadata().getUid(), HostnameClaims.created(s.getMetadata().getCreationTimestamp())))
        .toList());
    ctx.proxyClassUsers().register("Service", name -> services.byIndex(INDEX_PROXY_CLASS, name).stream()
        .map(s -> "Service " + s.getMetadata().getNamespace() + "/" + s.getMetadata().getName()).toList());
    proxyClasses = new InformerEventSource<>(InformerEventSourceConfiguration.from(ProxyClass.class, Service.class)
        .withName("service-proxyclasses")
        .withSecondaryToPrimaryMapper(pc -> {
          Set<ResourceID> users = services.byIndex(INDEX_PROXY_CLASS, pc.getMetadata().getName()).stream()
              .map(ResourceID::fromResource).collect(Collectors.toSet());
          LOG.debug("ProxyClass {} changed; its Services: {}", pc.getMetadata().getName(), users);
          return users;
        })
        .build(), context);
    store = new InformerProxyObjectStore(ns, statefulSets, secrets, proxyServices);
    return List.of(statefulSets, secrets, proxyServices, proxyClasses, retries.eventSource());
  }

  private static Set<ResourceID> parentOf(io.fabric8.kubernetes.api.model.HasMetadata child) {
    return ChildLabels.parentOf(child.getMetadata().getLabels(), ParentRef.TYPE_SERVICE)
        .map(p -> Set.of(new ResourceID(p.name(), p.namespace()))).orElse(Set.of());
  }

  @Override
  public UpdateControl<Service> reconcile(Service svc, Context<Service> context) {
    return retries.reconcile(svc, r -> reconcileService(r, context));
  }


  private Optional<Duration> reconcileService(Service svc, Context<Service> context) throws ProvisionException {
    ParentRef parent = ParentRef.of(ParentRef.TYPE_SERVICE, svc);
    boolean deleted = context.isPrimaryResourceDeleted() || svc.getMetadata().getDeletionTimestamp() != null;
    ServicePlan plan = deleted ? new ServicePlan.NotExposed("the Service is being deleted") : planner.plan(svc);
    LOG.debug("reconciling ({}): {}", context.isPrimaryResourceDeleted() ? "deleted" : svc.getMetadata()
        .getResourceVersion(), plan.getClass().getSimpleName());

    if (plan instanceof ServicePlan.NotExposed ne) {
      return stopExposing(svc, parent, ne, context);
    }
    if (plan instanceof ServicePlan.Invalid inv) {
      setCondition(svc, context, false, inv.reason(), inv.message(), null, inv.eventReason());
      return Optional.empty();
    }
    ServicePlan.Expose expose = (ServicePlan.Expose) plan;

    // ProxyClass must exist and be ready; nothing changes until it is.
    ProxyClass pc = null;
    if (expose.proxyClassName() != null) {
      Optional<ProxyClass> found = proxyClasses.get(new ResourceID(expose.proxyClassName()));
      if (found.isEmpty()) {
        setCondition(svc, context, false, ServiceProxyStatus.REASON_FAILED, "error verifying ProxyClass for Service: ProxyClass "
            + Objects.toString(expose.proxyClassName()) + " not found; create it or remove the "
            + TailscaleKeys.PROXY_CLASS + " label/annotation", null, "ProxyClassNotFound");
        return Optional.empty();
      }
      pc = found.get();
      if (pc.getMetadata().getDeletionTimestamp() != null) {
        oneOffWarnings.add(svc, io.tailops.operator.status.Problem.warning("ProxyClassDeleting", "ProxyClass "
            + expose.proxyClassName() + " is being deleted but this Service still uses it; the proxy keeps its "
            + "configuration. Remove the " + TailscaleKeys.PROXY_CLASS + " label/annotation or recreate the class"));
      }
      if (!ProxyClasses.isReady(pc)) {
        setCondition(svc, context, false, ServiceProxyStatus.REASON_PENDING, "ProxyClass " + expose.proxyClassName()
            + " specified for the Service, but is not (yet) Ready, waiting.." + ProxyClasses.whyNotReady(pc), null,
            "ProxyClassNotReady");
        return Optional.empty();
      }
    }

    // One hostname, one owner.
    Optional<HostnameClaims.Claim> owner = ctx.hostnames().owner(expose.hostname());
    if (owner.isPresent() && !owner.get().uid().equals(svc.getMetadata().getUid())) {
      setCondition(svc, context, false, "HostnameConflict", "hostname " + expose.hostname() + " is already used by "
          + owner.get().describe() + "; set a different " + TailscaleKeys.HOSTNAME + " annotation", null,
          "HostnameConflict");
      return Optional.of(PENDING_RECHECK);
    }

    if (!svc.hasFinalizer(FINALIZER)) {
      Service updated = Finalizers.add(ctx.client(), svc, FINALIZER);
      context.eventSourceRetriever().getControllerEventSource()
          .handleRecentResourceUpdate(ResourceID.fromResource(svc), updated, svc);
      svc = updated;
    }

    ProxySpec spec = new ProxySpec(parent, expose.hostname(), expose.tags(), expose.target(), pc,
        expose.ephemeral() || ProxyClasses.ephemeral(pc),
        false, expose.funnelServeConfig() != null, expose.funnelServeConfig());
    ProxyProvisioner.Provisioned provisioned;
    try {
      provisioned = provisioner.provision(spec, store);
    } catch (ProvisionException e) {
      setCondition(svc, context, false, ServiceProxyStatus.REASON_FAILED, "failed to provision: " + e.getMessage(), null,
          e.eventReason());
      ctx.health().error(parent.toString(), e.getMessage());
      throw e;
    }
    String force = svc.getMetadata().getAnnotations() == null ? null
        : svc.getMetadata().getAnnotations().get(TailscaleKeys.FORCE_REAUTH);
    Optional<ProxyHealer.Outcome> healed = healer.check(spec, provisioned, force);
    if (healed.isPresent()) {
      oneOffWarnings.add(svc, healed.get().event());
      if (healed.get().acted()) {
        ctx.metrics().selfHealing(healed.get().event().reason());
        setCondition(svc, context, false, ServiceProxyStatus.REASON_PENDING, healed.get().event().message(), null,
            null);
        return Optional.empty();
      }
    }
    if (provisioned.keyMinted()) {
      ctx.events().normal(svc, "ProxyProvisioning", "created proxy " + provisioned.statefulSetName() + " in namespace "
          + ctx.config().namespace() + " for tailnet hostname " + expose.hostname());
    }
    ServiceProxyStatus status = ServiceProxyStatus.of(svc, expose.loadBalancer(), provisioned.device());
    String message = status.message();
    if (expose.funnelDenied() != null) {
      message = message + "; " + expose.funnelDenied().message();
    } else if (expose.funnelServeConfig() != null && status.ready()) {
      message = message + "; port 443 is public through Funnel at https://" + provisioned.device().fqdn();
    }
    setCondition(svc, context, status.ready(), status.reason(), message, status.ingress(),
        status.ready() ? "ProxyReady" : null);
    if (expose.funnelServeConfig() != null) {
      Service current = svc;
      funnelPreflight.check(svc.getMetadata().getUid(), expose.tags())
          .ifPresent(p -> oneOffWarnings.add(current, p));
    } else {
      funnelPreflight.forget(svc.getMetadata().getUid());
    }
    if (expose.funnelDenied() != null) {
      oneOffWarnings.add(svc, expose.funnelDenied());
    }
    return Optional.empty();
  }

  private Optional<Duration> stopExposing(Service svc, ParentRef parent, ServicePlan.NotExposed why,
      Context<Service> context) throws ProvisionException {
    if (svc.hasFinalizer(FINALIZER) || !store.statefulSets(parent).isEmpty() || !store.secrets(parent).isEmpty()) {
      LOG.info("removing the proxy: {}", why.why());
      boolean done;
      try {
        done = provisioner.cleanup(parent);
      } catch (ProvisionException e) {
        ctx.health().error(parent.toString(), e.getMessage());
        if (!context.isPrimaryResourceDeleted()) {
          ctx.events().warning(svc, e.eventReason(), e.getMessage());
        }
        throw e;
      }
      if (!done) {
        return Optional.empty(); // the StatefulSet's deletion event brings us back
      }
      if (svc.hasFinalizer(FINALIZER) && !context.isPrimaryResourceDeleted()) {
        Service updated = Finalizers.remove(ctx.client(), svc, FINALIZER);
        context.eventSourceRetriever().getControllerEventSource()
            .handleRecentResourceUpdate(ResourceID.fromResource(svc), updated, svc);
        svc = updated;
      }
      if (svc.getMetadata().getDeletionTimestamp() == null && !context.isPrimaryResourceDeleted()) {
        ctx.events().normal(svc, "ProxyRemoved", "removed the tailnet proxy: " + why.why());
      }
      kickHostnameRivals(svc);
    } else {
      LOG.debug("not exposed: {}", why.why());
    }
    if (svc.getMetadata().getDeletionTimestamp() == null && !context.isPrimaryResourceDeleted()) {
      clearStatus(svc, context);
    }
    return Optional.empty();
  }

  /** After a Service gives up a hostname, others waiting for it get reconciled now. */
  private void kickHostnameRivals(Service svc) {
    ServicePlan p = planner.plan(svc);
    String hostname = p instanceof ServicePlan.Expose e ? e.hostname()
        : svc.getMetadata().getNamespace() + "-" + svc.getMetadata().getName();
    for (HostnameClaims.Claim c : ctx.hostnames().all(hostname)) {
      if ("Service".equals(c.kind()) && !c.uid().equals(svc.getMetadata().getUid())) {
        retries.kick(new ResourceID(c.name(), c.namespace()));
      }
    }
  }

  /** Writes the condition (and LoadBalancer ingress when given) if it differs; records an event on change. */
  private void setCondition(Service svc, Context<Service> context, boolean ready, String reason, String message,
      List<LoadBalancerIngress> ingress, String eventReason) {
    ServiceStatus current = svc.getStatus() == null ? new ServiceStatus() : svc.getStatus();
    List<Condition> conditions = Conditions.set(current.getConditions(), CONDITION_PROXY_READY, ready, reason,
        message, null, ctx.clock());
    Optional<Condition> before = Conditions.find(current.getConditions(), CONDITION_PROXY_READY);
    boolean conditionChanged = before.isEmpty() || !Objects.equals(before.get().getReason(), reason)
        || !Objects.equals(before.get().getMessage(), message)
        || !Objects.equals(before.get().getStatus(), ready ? "True" : "False");
    List<LoadBalancerIngress> currentIngress = current.getLoadBalancer() == null
        || current.getLoadBalancer().getIngress() == null ? List.of() : current.getLoadBalancer().getIngress();
    boolean ingressChanged = ingress != null && !sameIngress(currentIngress, ingress);
    if (!conditionChanged && !ingressChanged) {
      return;
    }
    ServiceStatus desired = new ServiceStatusBuilder(current).withConditions(conditions).build();
    if (ingressChanged) {
      desired.setLoadBalancer(new io.fabric8.kubernetes.api.model.LoadBalancerStatusBuilder()
          .withIngress(new ArrayList<>(ingress)).build());
    }
    writeStatus(svc, desired, context);
    if (conditionChanged && eventReason != null) {
      if (ready) {
        ctx.events().normal(svc, eventReason, message);
      } else {
        ctx.events().warning(svc, eventReason, message);
      }
    }
  }

  /** Removes our condition and, for Services that are no longer Tailscale LoadBalancers, our ingress entries. */
  private void clearStatus(Service svc, Context<Service> context) {
    ServiceStatus current = svc.getStatus();
    if (current == null) {
      return;
    }
    boolean hadCondition = Conditions.find(current.getConditions(), CONDITION_PROXY_READY).isPresent();
    boolean hasIngress = current.getLoadBalancer() != null && current.getLoadBalancer().getIngress() != null
        && !current.getLoadBalancer().getIngress().isEmpty();
    boolean clearIngress = hasIngress && hadCondition;
    if (!hadCondition) {
      return;
    }
    ServiceStatus desired = new ServiceStatusBuilder(current)
        .withConditions(Conditions.remove(current.getConditions(), CONDITION_PROXY_READY)).build();
    if (clearIngress) {
      desired.setLoadBalancer(new io.fabric8.kubernetes.api.model.LoadBalancerStatus());
    }
    writeStatus(svc, desired, context);
  }

  private void writeStatus(Service svc, ServiceStatus desired, Context<Service> context) {
    Service copy = new io.fabric8.kubernetes.api.model.ServiceBuilder(svc).withStatus(desired).build();
    try {
      Service updated = ctx.client().resource(copy).updateStatus();
      context.eventSourceRetriever().getControllerEventSource()
          .handleRecentResourceUpdate(ResourceID.fromResource(svc), updated, svc);
    } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
      if (e.getCode() == 409) {
        LOG.debug("status write conflicted; the next event retries it");
        return;
      }
      if (e.getCode() == 404) {
        return;
      }
      throw e;
    }
  }

  private static boolean sameIngress(List<LoadBalancerIngress> a, List<LoadBalancerIngress> b) {
    if (a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      if (!Objects.equals(a.get(i).getHostname(), b.get(i).getHostname())
          || !Objects.equals(a.get(i).getIp(), b.get(i).getIp())) {
        return false;
      }
    }
    return true;
  }

}
