package io.tailops.operator.ingress;

import static io.tailops.operator.k8s.TailscaleKeys.FINALIZER;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.networking.v1.HTTPIngressPath;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBackend;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClass;
import io.fabric8.kubernetes.api.model.networking.v1.IngressLoadBalancerIngress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressLoadBalancerIngressBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.IngressLoadBalancerStatus;
import io.fabric8.kubernetes.api.model.networking.v1.IngressPortStatusBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.IngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.IngressStatus;
import io.fabric8.kubernetes.client.KubernetesClientException;
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
import io.tailops.operator.k8s.Finalizers;
import io.tailops.operator.k8s.HostnameClaims;
import io.tailops.operator.k8s.InformerProxyObjectStore;
import io.tailops.operator.k8s.ProxyClasses;
import io.tailops.operator.k8s.TailscaleKeys;
import io.tailops.operator.proxy.ChildLabels;
import io.tailops.operator.proxy.DeviceState;
import io.tailops.operator.proxy.ParentRef;
import io.tailops.operator.proxy.ProvisionException;
import io.tailops.operator.proxy.ProxyHealer;
import io.tailops.operator.proxy.ProxyProvisioner;
import io.tailops.operator.proxy.ProxySpec;
import io.tailops.operator.proxy.ProxyTarget;
import io.tailops.operator.runtime.RetryingReconcile;
import io.tailops.operator.runtime.OperatorContext;
import io.tailops.operator.status.Problem;
import io.tailops.operator.status.ProblemReporter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reconciles Ingresses of the operator's class: an HTTPS (or, for headscale, plain HTTP) proxy with a serve config per
 * Ingress, Funnel when asked for and allowed, and the Ingress status. Ingress status has no conditions, so every
 * decision is told with Events: Normal when the proxy is ready, Warning for each problem (each once, not on every
 * resync).
 */
public class IngressReconciler implements Reconciler<Ingress> {
  public static final String NAME = "ingress-reconciler";
  static final String INDEX_BACKEND = "backend";
  static final String INDEX_HOSTNAME = "hostname";
  static final String INDEX_PROXY_CLASS = "proxy-class";
  private static final Logger LOG = LoggerFactory.getLogger(IngressReconciler.class);
  private static final Duration CONFLICT_RECHECK = Duration.ofMinutes(5);

  private final OperatorContext ctx;
  private final IngressPlanner planner;
  private final ProxyProvisioner provisioner;
  private final ProxyHealer healer;
  private final io.tailops.operator.proxy.FunnelPreflight funnelPreflight;
  private final RedirectProbe redirectProbe;
  private final ProblemReporter problems;
  private final RetryingReconcile<Ingress> retries;
  /** Backend URL sets already probed for a redirect loop, per Ingress UID. */
  private final Map<String, Set<String>> probed = new ConcurrentHashMap<>();
  private InformerEventSource<StatefulSet, Ingress> statefulSets;
  private InformerEventSource<Secret, Ingress> secrets;
  private InformerEventSource<Service, Ingress> services;
  private InformerEventSource<ProxyClass, Ingress> proxyClasses;
  private InformerEventSource<IngressClass, Ingress> ingressClasses;
  private IndexerResourceCache<Ingress> ingresses;
  private InformerProxyObjectStore store;

  public IngressReconciler(OperatorContext ctx, RedirectProbe redirectProbe) {
    this.ctx = ctx;
    this.planner = new IngressPlanner(ctx.config().ingressClassName(), ctx.config().proxyTags(),
        ctx.config().proxyDefaultClass(), ctx.config()::funnelAllowedIn,
        ctx.controlPlane().capabilities().httpsCertificates());
    this.provisioner = new ProxyProvisioner(ctx.client(), ctx::controlPlane, ctx.proxyDefaults());
    this.healer = new ProxyHealer(ctx.client(), ctx::controlPlane, ctx.proxyDefaults(), ctx.clock(),
        ctx.config().reauthMinInterval(), ctx.config().selfHealing());
    this.redirectProbe = redirectProbe;
    this.problems = new ProblemReporter(ctx.events());
    this.funnelPreflight = new io.tailops.operator.proxy.FunnelPreflight(ctx::controlPlane);
    this.retries = new RetryingReconcile<>(NAME, ctx);
  }


  @Override
  public List<EventSource<?, Ingress>> prepareEventSources(EventSourceContext<Ingress> context) {
    String ns = ctx.config().namespace();
    String selector = TailscaleKeys.LABEL_MANAGED + "=true," + TailscaleKeys.LABEL_PARENT_TYPE + "="
        + ParentRef.TYPE_INGRESS;
    ingresses = context.getPrimaryCache();
    ingresses.addIndexer(INDEX_BACKEND, ing -> backendKeys(ing));
    ingresses.addIndexer(INDEX_HOSTNAME, ing -> planner.isOurs(ing) && ing.getMetadata().getDeletionTimestamp() == null
        ? List.of(IngressPlanner.hostname(ing).toLowerCase(Locale.ROOT)) : List.of());
    ingresses.addIndexer(INDEX_PROXY_CLASS, ing -> {
      if (!planner.isOurs(ing)) {
        return List.of();
      }
      String pc = io.tailops.operator.k8s.ProxyClassRef.nameFor(ing, ctx.config().proxyDefaultClass());
      return pc == null ? List.of() : List.of(pc);
    });
    ctx.hostnames().register("Ingress", hostname -> ingresses.byIndex(INDEX_HOSTNAME, hostname).stream()
        .map(i -> new HostnameClaims.Claim("Ingress", i.getMetadata().getNamespace(), i.getMetadata().getName(),
            i.getMetadata().getUid(), HostnameClaims.created(i.getMetadata().getCreationTimestamp())))
        .toList());
    ctx.proxyClassUsers().register("Ingress", name -> ingresses.byIndex(INDEX_PROXY_CLASS, name).stream()
        .map(i -> "Ingress " + i.getMetadata().getNamespace() + "/" + i.getMetadata().getName()).toList());

    statefulSets = new InformerEventSource<>(InformerEventSourceConfiguration.from(StatefulSet.class, Ingress.class)
        .withName("ingress-proxy-statefulsets").withNamespaces(Set.of(ns)).withLabelSelector(selector)
        .withSecondaryToPrimaryMapper(IngressReconciler::parentOf).build(), context);
    secrets = new InformerEventSource<>(InformerEventSourceConfiguration.from(Secret.class, Ingress.class)
        .withName("ingress-proxy-secrets").withNamespaces(Set.of(ns)).withLabelSelector(selector)
        .withSecondaryToPrimaryMapper(IngressReconciler::parentOf).build(), context);
    // All Services: the headless proxy Services (mapped by labels) and the backends (mapped by the backend index).
    services = new InformerEventSource<>(InformerEventSourceConfiguration.from(Service.class, Ingress.class)
        .withName("ingress-services")
        .withSecondaryToPrimaryMapper(svc -> {
          Set<ResourceID> out = new LinkedHashSet<>(parentOf(svc));
          ingresses.byIndex(INDEX_BACKEND, svc.getMetadata().getNamespace() + "/" + svc.getMetadata().getName())
              .forEach(i -> out.add(ResourceID.fromResource(i)));
          return out;
        }).build(), context);
    proxyClasses = new InformerEventSource<>(InformerEventSourceConfiguration.from(ProxyClass.class, Ingress.class)
        .withName("ingress-proxyclasses")
        .withSecondaryToPrimaryMapper(pc -> ingresses.byIndex(INDEX_PROXY_CLASS, pc.getMetadata().getName()).stream()
            .map(ResourceID::fromResource).collect(Collectors.toSet()))
        .build(), context);
    ingressClasses = new InformerEventSource<>(InformerEventSourceConfiguration.from(IngressClass.class,
            Ingress.class)
        .withName("ingress-classes")
        .withSecondaryToPrimaryMapper(ic -> ic.getMetadata().getName().equals(ctx.config().ingressClassName())
            ? ingresses.list(i -> planner.isOurs(i)).map(ResourceID::fromResource).collect(Collectors.toSet())
            : Set.of())
        .build(), context);
    store = new InformerProxyObjectStore(ns, statefulSets, secrets, services);
    return List.of(statefulSets, secrets, services, proxyClasses, ingressClasses, retries.eventSource());
  }

  private static Set<ResourceID> parentOf(HasMetadata child) {
    return ChildLabels.parentOf(child.getMetadata().getLabels(), ParentRef.TYPE_INGRESS)
        .map(p -> Set.of(new ResourceID(p.name(), p.namespace()))).orElse(Set.of());
  }

  private static List<String> backendKeys(Ingress ing) {
    List<String> keys = new ArrayList<>();
    String ns = ing.getMetadata().getNamespace();
    if (ing.getSpec() == null) {
      return keys;
    }
    addBackend(keys, ns, ing.getSpec().getDefaultBackend());
    if (ing.getSpec().getRules() != null) {
      for (IngressRule r : ing.getSpec().getRules()) {
        if (r.getHttp() != null && r.getHttp().getPaths() != null) {
          for (HTTPIngressPath p : r.getHttp().getPaths()) {
            addBackend(keys, ns, p.getBackend());
          }
        }
      }
    }
    return keys.stream().distinct().toList();
  }

  private static void addBackend(List<String> keys, String ns, IngressBackend b) {
    if (b != null && b.getService() != null && b.getService().getName() != null) {
      keys.add(ns + "/" + b.getService().getName());
    }
  }

  @Override
  public UpdateControl<Ingress> reconcile(Ingress ing, Context<Ingress> context) {
    return retries.reconcile(ing, r -> reconcileIngress(r, context));
  }


  private Optional<Duration> reconcileIngress(Ingress ing, Context<Ingress> context) throws ProvisionException {
    ParentRef parent = ParentRef.of(ParentRef.TYPE_INGRESS, ing);
    boolean deleted = context.isPrimaryResourceDeleted() || ing.getMetadata().getDeletionTimestamp() != null;
    String knownFqdn = knownFqdn(parent);
    IngressPlan plan = deleted ? new IngressPlan.NotOurs("the Ingress is being deleted")
        : planner.plan(ing, this::backendService, knownFqdn);

    if (plan instanceof IngressPlan.NotOurs no) {
      return stop(ing, parent, no.why(), context);
    }
    if (plan instanceof IngressPlan.Unservable u) {
      problems.report(ing, u.problems());
      return Optional.empty();
    }
    IngressPlan.Expose expose = (IngressPlan.Expose) plan;
    List<Problem> found = new ArrayList<>(expose.problems());
    checkIngressClass(found);

    ProxyClass pc = null;
    if (expose.proxyClassName() != null) {
      Optional<ProxyClass> byName = proxyClasses.get(new ResourceID(expose.proxyClassName()));
      if (byName.isEmpty()) {
        found.add(Problem.warning("ProxyClassNotFound", "ProxyClass " + expose.proxyClassName()
            + " not found; create it or remove the " + TailscaleKeys.PROXY_CLASS + " label/annotation"));
        problems.report(ing, found);
        return Optional.empty();
      }
      pc = byName.get();
      if (pc.getMetadata().getDeletionTimestamp() != null) {
        found.add(Problem.warning("ProxyClassDeleting", "ProxyClass " + expose.proxyClassName() + " is being deleted "
            + "but this Ingress still uses it; the proxy keeps its configuration. Remove the "
            + TailscaleKeys.PROXY_CLASS + " label/annotation or recreate the class"));
      }
      if (!ProxyClasses.isReady(pc)) {
        found.add(Problem.warning("ProxyClassNotReady", "ProxyClass " + expose.proxyClassName()
            + " specified for the Ingress, but is not (yet) Ready, waiting.." + ProxyClasses.whyNotReady(pc)));
        problems.report(ing, found);
        return Optional.empty();
      }
    }
    Optional<HostnameClaims.Claim> owner = ctx.hostnames().owner(expose.hostname());
    if (owner.isPresent() && !owner.get().uid().equals(ing.getMetadata().getUid())) {
      found.add(Problem.warning("HostnameConflict", "hostname " + expose.hostname() + " is already used by "
          + owner.get().describe() + "; use a different first label in spec.tls[0].hosts[0]"));
      problems.report(ing, found);
      return Optional.of(CONFLICT_RECHECK);
    }
    if (!ing.hasFinalizer(FINALIZER)) {
      Ingress updated = Finalizers.add(ctx.client(), ing, FINALIZER);
      context.eventSourceRetriever().getControllerEventSource()
          .handleRecentResourceUpdate(ResourceID.fromResource(ing), updated, ing);
      ing = updated;
    }
    ProxySpec spec = new ProxySpec(parent, expose.hostname(), expose.tags(),
        new ProxyTarget.Serve(expose.serveConfigJson()), pc, expose.ephemeral() || ProxyClasses.ephemeral(pc),
        expose.forwardClusterTraffic(),
        expose.funnel());
    ProxyProvisioner.Provisioned provisioned;
    try {
      provisioned = provisioner.provision(spec, store);
    } catch (ProvisionException e) {
      found.add(Problem.warning(e.eventReason(), "failed to provision: " + e.getMessage()));
      problems.report(ing, found);
      ctx.health().error(parent.toString(), e.getMessage());
      throw e;
    }
    String force = ing.getMetadata().getAnnotations() == null ? null
        : ing.getMetadata().getAnnotations().get(TailscaleKeys.FORCE_REAUTH);
    Optional<ProxyHealer.Outcome> healed = healer.check(spec, provisioned, force);
    if (healed.isPresent()) {
      problems.add(ing, healed.get().event());
      if (healed.get().acted()) {
        ctx.metrics().selfHealing(healed.get().event().reason());
        return Optional.empty();
      }
    }
    DeviceState device = provisioned.device();
    if (noHttps(device) && !expose.plainHttp()) {
      found.add(Problem.warning("HTTPSNotEnabled", "HTTPS is not enabled on the tailnet; ingress may not work. "
          + "Enable MagicDNS and HTTPS certificates in the tailnet's DNS settings "
          + "(https://tailscale.com/kb/1153/enabling-https)"));
    }
    if (expose.funnel()) {
      Ingress current = ing;
      funnelPreflight.check(ing.getMetadata().getUid(), expose.tags()).ifPresent(p -> problems.add(current, p));
    } else {
      funnelPreflight.forget(ing.getMetadata().getUid());
    }
    probeRedirects(ing, expose, found);
    String dnsName = expose.plainHttp() ? device.fqdn() : device.ingressDnsName(device.podUid());
    if (device.isReady() && !dnsName.isEmpty()) {
      found.add(Problem.normal("ProxyReady", "proxy is ready; reachable on the tailnet at "
          + (expose.plainHttp() ? "http://" : "https://") + dnsName + (expose.funnel() ? " (and publicly through "
          + "Funnel)" : "")));
    }
    problems.report(ing, found);
    writeStatus(ing, desiredIngress(dnsName, expose), context);
    return Optional.empty();
  }

  /**
   * The proxy's MagicDNS name: from its state, or (while a restarted proxy has not written it yet) from the serve
   * config written earlier, so that a plain-HTTP serve config does not flap on every proxy restart.
   */
  private String knownFqdn(ParentRef parent) {
    for (Secret s : store.secrets(parent)) {
      DeviceState d = DeviceState.from(s);
      if (!d.fqdn().isEmpty()) {
        return d.fqdn();
      }
      String sc = io.tailops.operator.proxy.ProxyConfigSecret.value(s,
          io.tailops.operator.proxy.ProxyStatefulSet.SERVE_CONFIG_KEY);
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"([A-Za-z0-9.-]+):80\"").matcher(sc);
      if (m.find()) {
        return m.group(1);
      }
    }
    return null;
  }

  private static boolean noHttps(DeviceState d) {
    return DeviceState.NO_HTTPS.equalsIgnoreCase(d.httpsEndpoint());
  }

  private List<IngressLoadBalancerIngress> desiredIngress(String dnsName, IngressPlan.Expose expose) {
    if (dnsName == null || dnsName.isEmpty()) {
      return List.of();
    }
    IngressLoadBalancerIngressBuilder b = new IngressLoadBalancerIngressBuilder().withHostname(dnsName);
    if (expose.plainHttp()) {
      b.addToPorts(new IngressPortStatusBuilder().withPort(80).withProtocol("TCP").build());
    } else {
      b.addToPorts(new IngressPortStatusBuilder().withPort(443).withProtocol("TCP").build());
      if (expose.httpRedirect()) {
        b.addToPorts(new IngressPortStatusBuilder().withPort(80).withProtocol("TCP").build());
      }
    }
    return List.of(b.build());
  }

  private void probeRedirects(Ingress ing, IngressPlan.Expose expose, List<Problem> found) {
    if (expose.plainHttp() && expose.backendUrls().isEmpty()) {
      return;
    }
    Set<String> urls = new LinkedHashSet<>(expose.backendUrls());
    String uid = ing.getMetadata().getUid();
    if (urls.equals(probed.get(uid))) {
      return;
    }
    probed.put(uid, urls);
    for (String url : urls) {
      redirectProbe.httpsRedirect(url).ifPresent(location -> problems.add(ing, Problem.warning(
          "BackendRedirectsToHTTPS", "backend " + url + " answers the proxy's plain-HTTP request with a redirect to "
              + location + "; the Tailscale proxy already terminates HTTPS and talks HTTP to the backend, so "
              + "browsers will loop. Fix: turn off the app's HTTP-to-HTTPS redirect, or point the Ingress at the "
              + "app's HTTPS port (443 or a port named https) and accept its self-signed certificate")));
    }
  }

  /** The official IngressClass checks, reported as a Warning on the Ingress instead of only a log line. */
  private void checkIngressClass(List<Problem> found) {
    String name = ctx.config().ingressClassName();
    Optional<IngressClass> ic = ingressClasses.get(new ResourceID(name));
    if (ic.isEmpty()) {
      found.add(Problem.warning("IngressClassMissing", "IngressClass " + name + " not found in the cluster; install "
          + "it with the chart (ingressClass.enabled: true)"));
    } else if (!TailscaleKeys.INGRESS_CONTROLLER.equals(ic.get().getSpec().getController())) {
      found.add(Problem.warning("IngressClassInvalid", "IngressClass " + name + " has controller "
          + ic.get().getSpec().getController() + ", expected " + TailscaleKeys.INGRESS_CONTROLLER));
    } else if (ic.get().getMetadata().getAnnotations() != null && ic.get().getMetadata().getAnnotations()
        .getOrDefault(TailscaleKeys.DEFAULT_CLASS_ANNOTATION, "").length() > 0) {
      found.add(Problem.warning("IngressClassInvalid", TailscaleKeys.DEFAULT_CLASS_ANNOTATION + " is set on "
          + "IngressClass " + name + ", but the Tailscale Ingress controller does not support being the default "
          + "Ingress class"));
    }
  }

  private Optional<Service> backendService(String namespace, String name) {
    return services.get(new ResourceID(name, namespace));
  }

  private Optional<Duration> stop(Ingress ing, ParentRef parent, String why, Context<Ingress> context)
      throws ProvisionException {
    if (ing.hasFinalizer(FINALIZER) || !store.statefulSets(parent).isEmpty() || !store.secrets(parent).isEmpty()) {
      LOG.info("removing the proxy: {}", why);
      boolean done;
      try {
        done = provisioner.cleanup(parent);
      } catch (ProvisionException e) {
        ctx.health().error(parent.toString(), e.getMessage());
        if (!context.isPrimaryResourceDeleted()) {
          ctx.events().warning(ing, e.eventReason(), e.getMessage());
        }
        throw e;
      }
      if (!done) {
        return Optional.empty();
      }
      boolean gone = context.isPrimaryResourceDeleted();
      if (ing.hasFinalizer(FINALIZER) && !gone) {
        Ingress updated = Finalizers.remove(ctx.client(), ing, FINALIZER);
        context.eventSourceRetriever().getControllerEventSource()
            .handleRecentResourceUpdate(ResourceID.fromResource(ing), updated, ing);
        ing = updated;
      }
      if (!gone && ing.getMetadata().getDeletionTimestamp() == null) {
        // Unlike upstream, the status is cleared: the proxy is gone.
        writeStatus(ing, List.of(), context);
        ctx.events().normal(ing, "ProxyRemoved", "removed the tailnet proxy: " + why);
      }
    }
    problems.forget(ing);
    probed.remove(ing.getMetadata().getUid());
    return Optional.empty();
  }

  private void writeStatus(Ingress ing, List<IngressLoadBalancerIngress> desired, Context<Ingress> context) {
    List<IngressLoadBalancerIngress> current = ing.getStatus() == null || ing.getStatus().getLoadBalancer() == null
        || ing.getStatus().getLoadBalancer().getIngress() == null ? List.of()
        : ing.getStatus().getLoadBalancer().getIngress();
    if (Objects.equals(current, desired)) {
      return;
    }
    IngressStatus status = new IngressStatus(new IngressLoadBalancerStatus(new ArrayList<>(desired)));
    Ingress copy = new IngressBuilder(ing).withStatus(status).build();
    try {
      Ingress updated = ctx.client().resource(copy).updateStatus();
      context.eventSourceRetriever().getControllerEventSource()
          .handleRecentResourceUpdate(ResourceID.fromResource(ing), updated, ing);
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409 && e.getCode() != 404) {
        throw e;
      }
    }
  }

}
