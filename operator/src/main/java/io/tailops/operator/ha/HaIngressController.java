package io.tailops.operator.ha;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.IngressLoadBalancerIngress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressLoadBalancerIngressBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.IngressLoadBalancerStatus;
import io.fabric8.kubernetes.api.model.networking.v1.IngressPortStatusBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.IngressStatus;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.tailops.api.v1alpha1.ProxyGroup;
import io.tailops.operator.ingress.IngressPlanner;
import io.tailops.operator.k8s.TailscaleKeys;
import io.tailops.operator.pipeline.ParentWrites;
import io.tailops.operator.proxy.ProvisionException;
import io.tailops.operator.proxy.ReplicaState;
import io.tailops.operator.proxy.ServeConfig;
import io.tailops.operator.proxygroup.ProxyGroupNames;
import io.tailops.operator.reconcile.OperatorContext;
import io.tailops.operator.status.Problem;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ingresses served by an ingress ProxyGroup as a Tailscale Service (official {@code ingress-for-pg.go}, "HA Ingress"):
 * the Tailscale Service {@code svc:<hostname>} (ports {@code tcp:443}, and {@code tcp:80} with an HTTP endpoint or
 * redirect), its serve config in the group's ConfigMap ({@code serve-config.json}, keyed by the service's MagicDNS name),
 * the TLS certificate Secret the group's first replica issues into and its Role and RoleBinding, each replica
 * advertising the service once the certificate exists (at once with an HTTP endpoint), and
 * {@code status.loadBalancer.ingress} the service's MagicDNS name with the ports served. Ingresses have no conditions:
 * every problem (a group that does not exist or is of another type, a name another owner holds, a control plane
 * without Tailscale Services, Funnel) is an Event, each once.
 */
public final class HaIngressController extends HaController<Ingress, HaIngressPlanner.Serving> {
  public static final String NAME = "ingress-pg-reconciler";
  public static final String FINALIZER = "tailscale.com/ingress-pg-finalizer";
  static final String LABEL_DOMAIN = "tailscale.com/domain";
  static final String INDEX_BACKEND = "ha-backend";
  private static final Logger LOG = LoggerFactory.getLogger(HaIngressController.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HaIngressPlanner planner;
  private InformerEventSource<Service, Ingress> backends;
  private InformerEventSource<Secret, Ingress> certSecrets;
  private InformerEventSource<Role, Ingress> certRoles;
  private InformerEventSource<RoleBinding, Ingress> certBindings;
  private CertificateResources<Ingress> certResources;

  public HaIngressController(OperatorContext ctx) {
    super(ctx);
    this.planner = new HaIngressPlanner(ctx.config().ingressClassName(), ctx.config().proxyTags());
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  protected Class<Ingress> parentType() {
    return Ingress.class;
  }

  @Override
  protected HaPlan<HaIngressPlanner.Serving> plan(Ingress ing) {
    return planner.plan(ing, this::backendService);
  }

  /** Backend Services (anywhere), and the certificate Secrets, Roles and RoleBindings in the operator namespace. */
  @Override
  protected List<EventSource<?, Ingress>> moreEventSources(EventSourceContext<Ingress> context) {
    parents.addIndexer(INDEX_BACKEND, ing -> planner.isHa(ing) ? backendKeys(ing) : List.of());
    backends = new InformerEventSource<>(InformerEventSourceConfiguration.from(Service.class, Ingress.class)
        .withName(NAME + "-backends")
        .withSecondaryToPrimaryMapper(svc -> parents.byIndex(INDEX_BACKEND, svc.getMetadata().getNamespace() + "/"
            + svc.getMetadata().getName()).stream().map(ResourceID::fromResource).collect(Collectors.toSet()))
        .withItemStore(new io.tailops.operator.k8s.StoreWithoutManagedFields<>()).build(), context);
    String ns = ctx.config().namespace();
    String selector = TailscaleKeys.LABEL_MANAGED + "=true," + LABEL_DOMAIN;
    certSecrets = new InformerEventSource<>(InformerEventSourceConfiguration.from(Secret.class, Ingress.class)
        .withName(NAME + "-certs").withNamespaces(Set.of(ns)).withLabelSelector(selector)
        .withSecondaryToPrimaryMapper(s -> {
          Map<String, String> l = s.getMetadata().getLabels();
          String name = l.get(TailscaleKeys.LABEL_PARENT_NAME);
          String pns = l.get(TailscaleKeys.LABEL_PARENT_NAMESPACE);
          return name == null || pns == null ? Set.of() : Set.of(new ResourceID(name, pns));
        })
        .withItemStore(new io.tailops.operator.k8s.StoreWithoutManagedFields<>()).build(), context);
    certRoles = new InformerEventSource<>(InformerEventSourceConfiguration.from(Role.class, Ingress.class)
        .withName(NAME + "-cert-roles").withNamespaces(Set.of(ns)).withLabelSelector(selector)
        .withSecondaryToPrimaryMapper(r -> byGroupLabel(r))
        .withItemStore(new io.tailops.operator.k8s.StoreWithoutManagedFields<>()).build(), context);
    certBindings = new InformerEventSource<>(InformerEventSourceConfiguration.from(RoleBinding.class, Ingress.class)
        .withName(NAME + "-cert-rolebindings").withNamespaces(Set.of(ns)).withLabelSelector(selector)
        .withSecondaryToPrimaryMapper(r -> byGroupLabel(r))
        .withItemStore(new io.tailops.operator.k8s.StoreWithoutManagedFields<>()).build(), context);
    certResources = new CertificateResources<>(ctx, certSecrets, certRoles, certBindings);
    return List.of(backends, certSecrets, certRoles, certBindings);
  }

  private Set<ResourceID> byGroupLabel(HasMetadata o) {
    String pg = o.getMetadata().getLabels() == null ? null : o.getMetadata().getLabels().get(TailscaleKeys.PROXY_GROUP);
    return pg == null ? Set.of() : parentsNaming(pg).stream().map(ResourceID::fromResource)
        .collect(Collectors.toSet());
  }

  private static List<String> backendKeys(Ingress ing) {
    List<String> keys = new ArrayList<>();
    String ns = ing.getMetadata().getNamespace();
    if (ing.getSpec().getDefaultBackend() != null && ing.getSpec().getDefaultBackend().getService() != null) {
      keys.add(ns + "/" + ing.getSpec().getDefaultBackend().getService().getName());
    }
    if (ing.getSpec().getRules() != null) {
      ing.getSpec().getRules().forEach(r -> {
        if (r.getHttp() != null && r.getHttp().getPaths() != null) {
          r.getHttp().getPaths().forEach(p -> {
            if (p.getBackend() != null && p.getBackend().getService() != null) {
              keys.add(ns + "/" + p.getBackend().getService().getName());
            }
          });
        }
      });
    }
    return keys;
  }

  private Optional<Service> backendService(String namespace, String name) {
    return backends == null ? Optional.empty() : backends.get(new ResourceID(name, namespace));
  }

  @Override
  protected Optional<Duration> reconcile(Ingress ing, ParentWrites<Ingress> writes) throws ProvisionException {
    HaPlan<HaIngressPlanner.Serving> plan = ing.getMetadata().getDeletionTimestamp() != null
        ? new HaPlan.NotWanted<>("the Ingress is being deleted") : plan(ing);
    if (plan instanceof HaPlan.NotWanted<HaIngressPlanner.Serving> nw) {
      cleanup(ing, nw.why(), writes);
      return Optional.empty();
    }
    if (plan instanceof HaPlan.Invalid<HaIngressPlanner.Serving> inv) {
      notes.report(ing, List.of(Problem.warning(inv.reason(), inv.message())));
      return Optional.empty();
    }
    HaPlan.Wanted<HaIngressPlanner.Serving> w = (HaPlan.Wanted<HaIngressPlanner.Serving>) plan;
    List<Problem> found = new ArrayList<>(w.notes());
    Optional<ProxyGroup> pg = group(w.proxyGroup());
    Problem groupProblem = groupProblem(w.proxyGroup(), pg, "Ingress");
    if (groupProblem != null) {
      found.add(groupProblem);
      notes.report(ing, found);
      return Optional.empty();
    }
    for (Ingress other : parentsNaming(w.proxyGroup())) {
      if (!other.getMetadata().getUid().equals(ing.getMetadata().getUid()) && planner.isHa(other)
          && IngressPlanner.hostname(other).equals(w.hostname())) {
        found.add(Problem.warning(HaIngressPlanner.REASON_INVALID, "found duplicate Ingress \""
            + other.getMetadata().getNamespace() + "/" + other.getMetadata().getName() + "\" for hostname \""
            + w.hostname() + "\" - multiple Ingresses for the same hostname in the same cluster are not allowed"));
        notes.report(ing, found);
        return Optional.empty();
      }
    }
    Taken taken = claimService(w.serviceName(), "choose a different MagicDNS name at `.spec.tls.hosts[0]` in the "
        + "Ingress definition");
    if (taken instanceof Refused r) {
      found.add(Problem.warning(r.reason(), r.message()));
      notes.report(ing, found);
      return Optional.empty();
    }
    List<ReplicaState> replicas = replicas(w.proxyGroup());
    String domain = tailnetDomain(replicas);
    if (domain == null) {
      found.add(Problem.normal("ProxyGroupNotReady", "waiting for the replicas of ProxyGroup " + w.proxyGroup()
          + " to report their MagicDNS names"));
      notes.report(ing, found);
      return Optional.empty();
    }
    if (!ing.hasFinalizer(FINALIZER)) {
      LOG.info("serving Ingress {}/{} through ProxyGroup {} as {}", ing.getMetadata().getNamespace(),
          ing.getMetadata().getName(), w.proxyGroup(), w.serviceName());
      ing = writes.addFinalizer(ing, FINALIZER);
    }
    String dnsName = w.hostname() + "." + domain;
    Set<String> claimed = parentsNaming(w.proxyGroup()).stream().filter(planner::isHa)
        .map(i -> "svc:" + IngressPlanner.hostname(i)).collect(Collectors.toSet());
    claimed.add(w.serviceName());
    releaseUnclaimed(w.proxyGroup(), ProxyGroupNames.KEY_SERVE_CONFIG, claimed,
        svc -> deleteCertResources(svc.substring("svc:".length()) + "." + domain));
    ensureCertResources(ing, pg.get(), dnsName);
    if (!configMaps.set(w.proxyGroup(), ProxyGroupNames.KEY_SERVE_CONFIG, w.serviceName(),
        serviceConfig(dnsName, w.wanted()))) {
      found.add(Problem.normal("ProxyGroupNotReady", "waiting for ProxyGroup " + w.proxyGroup() + " to create its "
          + "ConfigMap " + ProxyGroupNames.ingressConfigMapName(w.proxyGroup())));
      notes.report(ing, found);
      return Optional.empty();
    }
    Served served = writeService((Claimed) taken, w.tags(), w.wanted().ports());
    boolean certs = hasCerts(dnsName);
    boolean plainHttp = w.wanted().httpEndpoint() || w.wanted().redirect();
    advertisement.set(replicas, w.serviceName(), r -> plainHttp || certs);
    long count = advertising(replicas, w.serviceName());
    List<IngressLoadBalancerIngress> lb = List.of();
    if (count > 0 && (certs || plainHttp)) {
      IngressLoadBalancerIngressBuilder b = new IngressLoadBalancerIngressBuilder().withHostname(dnsName);
      if (certs) {
        b.addToPorts(new IngressPortStatusBuilder().withProtocol("TCP").withPort(443).build());
      }
      if (plainHttp) {
        b.addToPorts(new IngressPortStatusBuilder().withProtocol("TCP").withPort(80).build());
      }
      lb = List.of(b.build());
    } else if (!certs && !plainHttp) {
      found.add(Problem.normal("WaitingForCertificate", "waiting for the first replica of ProxyGroup "
          + w.proxyGroup() + " to issue the TLS certificate for " + dnsName + " (Secret "
          + ctx.config().namespace() + "/" + dnsName + "); the replicas advertise " + w.serviceName()
          + " once it exists"));
    }
    if (write(ing, lb, writes) && !lb.isEmpty()) {
      ctx.events().normal(ing, "ProxyReady", "served by ProxyGroup " + w.proxyGroup() + " as Tailscale Service "
          + w.serviceName() + " at " + (certs ? "https://" : "http://") + dnsName + " (" + count + "/"
          + desiredReplicas(pg.get()) + " replicas advertising)");
    }
    notes.report(ing, found);
    return served.written() ? Optional.of(RECHECK_SHARED) : Optional.empty();
  }

  /**
   * The group's serve config entry of the service ({@code ipn.ServiceConfig}): HTTPS on 443 to the handlers, and on
   * 80 the same handlers or redirects to HTTPS.
   */
  static JsonNode serviceConfig(String dnsName, HaIngressPlanner.Serving serving) {
    ServeConfig sc = new ServeConfig().tcp(443, true);
    serving.handlers().forEach((mount, target) -> sc.proxy(dnsName + ":443", mount, target));
    if (serving.httpEndpoint()) {
      sc.tcp(80, false);
      serving.handlers().forEach((mount, target) -> sc.proxy(dnsName + ":80", mount, target));
    } else if (serving.redirect()) {
      sc.tcp(80, false);
      serving.handlers().keySet().forEach(mount -> sc.redirect(dnsName + ":80", mount,
          ServeConfig.REDIRECT_TO_HTTPS));
    }
    try {
      return JSON.readTree(sc.toJson());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private boolean hasCerts(String dnsName) {
    return certSecrets.get(new ResourceID(dnsName, ctx.config().namespace())).map(s -> s.getData() != null
        && notEmpty(s.getData().get("tls.crt")) && notEmpty(s.getData().get("tls.key"))).orElse(false);
  }

  private static boolean notEmpty(String b64) {
    return b64 != null && !b64.isEmpty();
  }

  /** Labels of the certificate resources of {@code domain} on {@code group} (official {@code certResourceLabels}). */
  static Map<String, String> certLabels(String group, String domain) {
    Map<String, String> l = new LinkedHashMap<>();
    l.put(TailscaleKeys.LABEL_MANAGED, "true");
    l.put(TailscaleKeys.PROXY_GROUP, group);
    l.put(LABEL_DOMAIN, domain);
    return l;
  }

  /**
   * The TLS Secret {@code <domain>} the group's first replica issues the certificate into (the others read it), and
   * the Role and RoleBinding that let the group's pods manage it; created when missing, their labels put back.
   */
  private void ensureCertResources(Ingress ing, ProxyGroup pg, String domain) throws ProvisionException {
    String group = pg.getMetadata().getName();
    Map<String, String> secretLabels = certLabels(group, domain);
    secretLabels.put(ReplicaState.LABEL_SECRET_TYPE, "certs");
    secretLabels.put(TailscaleKeys.LABEL_PARENT_TYPE, "ingress");
    secretLabels.put(TailscaleKeys.LABEL_PARENT_NAME, ing.getMetadata().getName());
    secretLabels.put(TailscaleKeys.LABEL_PARENT_NAMESPACE, ing.getMetadata().getNamespace());
    certResources.ensure(domain, certLabels(group, domain), secretLabels, group);
  }

  private void deleteCertResources(String domain) {
    certResources.delete(domain);
  }

  /**
   * The Ingress is no longer served through a ProxyGroup (or is being deleted): its Tailscale Service is unadvertised,
   * removed from its group's serve config and released, its certificate resources deleted; then the finalizer and the
   * status this operator set go.
   */
  private void cleanup(Ingress ing, String why, ParentWrites<Ingress> writes) throws ProvisionException {
    if (ing.hasFinalizer(FINALIZER)) {
      String service = "svc:" + IngressPlanner.hostname(ing);
      LOG.info("Ingress {}/{} is no longer served through a ProxyGroup ({}); releasing {}",
          ing.getMetadata().getNamespace(), ing.getMetadata().getName(), why, service);
      for (String group : groupsServing(ProxyGroupNames.KEY_SERVE_CONFIG, service)) {
        List<ReplicaState> replicas = replicas(group);
        advertisement.set(replicas, service, r -> false);
        configMaps.set(group, ProxyGroupNames.KEY_SERVE_CONFIG, service, null);
        String domain = tailnetDomain(replicas);
        if (domain != null) {
          deleteCertResources(IngressPlanner.hostname(ing) + "." + domain);
        }
      }
      String name = ing.getMetadata().getName();
      String namespace = ing.getMetadata().getNamespace();
      certSecrets.list(ctx.config().namespace(), s -> name.equals(
              s.getMetadata().getLabels().get(TailscaleKeys.LABEL_PARENT_NAME))
              && namespace.equals(s.getMetadata().getLabels().get(TailscaleKeys.LABEL_PARENT_NAMESPACE)))
          .map(s -> s.getMetadata().getName()).toList().forEach(this::deleteCertResources);
      releaseService(service);
      ing = writes.removeFinalizer(ing, FINALIZER);
      if (ing.getMetadata().getDeletionTimestamp() == null) {
        write(ing, List.of(), writes);
      }
    }
    notes.forget(ing);
  }

  /** Writes {@code status.loadBalancer.ingress} when it differs; whether it wrote. */
  private boolean write(Ingress ing, List<IngressLoadBalancerIngress> lb, ParentWrites<Ingress> writes) {
    List<IngressLoadBalancerIngress> current = ing.getStatus() == null || ing.getStatus().getLoadBalancer() == null
        || ing.getStatus().getLoadBalancer().getIngress() == null ? List.of()
        : ing.getStatus().getLoadBalancer().getIngress();
    if (describe(current).equals(describe(lb))) {
      return false;
    }
    writes.writeStatus(ing, fresh -> new IngressBuilder(fresh).withStatus(new IngressStatus(
        new IngressLoadBalancerStatus(new ArrayList<>(lb)))).build());
    return true;
  }

  private static List<String> describe(List<IngressLoadBalancerIngress> lb) {
    return lb.stream().map(i -> i.getHostname() + (i.getPorts() == null ? "" : i.getPorts().stream()
        .map(p -> ":" + p.getPort()).collect(Collectors.joining()))).toList();
  }
}
