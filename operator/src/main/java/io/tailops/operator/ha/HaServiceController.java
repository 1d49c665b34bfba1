package io.tailops.operator.ha;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.LoadBalancerIngressBuilder;
import io.fabric8.kubernetes.api.model.LoadBalancerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodIP;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServiceStatus;
import io.fabric8.kubernetes.api.model.ServiceStatusBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.javaoperatorsdk.operator.api.config.ControllerConfigurationOverrider;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.tailops.api.v1alpha1.ProxyGroup;
import io.tailops.operator.k8s.TailscaleKeys;
import io.tailops.operator.pipeline.ParentWrites;
import io.tailops.operator.proxy.ProvisionException;
import io.tailops.operator.proxy.ReplicaState;
import io.tailops.operator.proxygroup.ProxyGroupNames;
import io.tailops.operator.reconcile.OperatorContext;
import io.tailops.operator.status.Conditions;
import io.tailops.operator.status.Problem;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Services served by an ingress ProxyGroup as a Tailscale Service (official {@code svc-for-pg.go}, "HA Services"): the
 * Tailscale Service {@code svc:<hostname>} (ports {@code do-not-validate}), the group's replicas mapping its address
 * to the Service's cluster IP ({@code ingress-config.json} of the group's ConfigMap), each replica advertising it once
 * it has set up that routing and the Service has a ready endpoint; {@code status.loadBalancer.ingress} the service's
 * MagicDNS name and IPv4 address; the official conditions {@code TailscaleIngressSvcValid} and
 * {@code TailscaleIngressSvcConfigured}. A group that does not exist or is of the wrong type, a name another owner
 * holds and a control plane without Tailscale Services are said in the conditions and an Event.
 */
public final class HaServiceController extends HaController<Service, HaServicePlanner.Addresses> {
  public static final String NAME = "service-pg-reconciler";
  public static final String FINALIZER = "tailscale.com/service-pg-finalizer";
  public static final String CONDITION_VALID = "TailscaleIngressSvcValid";
  public static final String CONDITION_CONFIGURED = "TailscaleIngressSvcConfigured";
  static final String REASON_VALID = "IngressSvcValid";
  static final String REASON_CONFIGURED = "IngressSvcConfigured";
  static final String REASON_NO_BACKENDS = "IngressSvcNoBackendsConfigured";
  private static final Logger LOG = LoggerFactory.getLogger(HaServiceController.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  static final String INDEX_ENDPOINTS = "endpointslice-service";

  private final HaServicePlanner planner;
  private InformerEventSource<EndpointSlice, Service> endpointSlices;

  public HaServiceController(OperatorContext ctx) {
    super(ctx);
    this.planner = new HaServicePlanner(ctx.config().defaultLoadBalancer(), ctx.config().proxyTags());
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  protected Class<Service> parentType() {
    return Service.class;
  }

  @Override
  protected HaPlan<HaServicePlanner.Addresses> plan(Service svc) {
    return planner.plan(svc);
  }

  /** The operator's own Services are never parents. */
  @Override
  public Consumer<ControllerConfigurationOverrider<Service>> configuration() {
    return super.configuration().andThen(c -> c.withLabelSelector(TailscaleKeys.LABEL_MANAGED + "!=true"));
  }

  /** EndpointSlices, for whether a Service has a ready endpoint before its replicas advertise it. */
  @Override
  protected List<EventSource<?, Service>> moreEventSources(EventSourceContext<Service> context) {
    endpointSlices = new InformerEventSource<>(InformerEventSourceConfiguration.from(EndpointSlice.class,
            Service.class).withName(NAME + "-endpointslices")
        .withSecondaryToPrimaryMapper(es -> {
          String svc = es.getMetadata().getLabels() == null ? null
              : es.getMetadata().getLabels().get("kubernetes.io/service-name");
          return svc == null ? Set.of() : Set.of(new ResourceID(svc, es.getMetadata().getNamespace()));
        })
        .withItemStore(new io.tailops.operator.k8s.StoreWithoutManagedFields<>()).build(), context);
    return List.of(endpointSlices);
  }

  @Override
  protected Optional<Duration> reconcile(Service svc, ParentWrites<Service> writes) throws ProvisionException {
    HaPlan<HaServicePlanner.Addresses> plan = svc.getMetadata().getDeletionTimestamp() != null
        ? new HaPlan.NotWanted<>("the Service is being deleted") : planner.plan(svc);
    if (plan instanceof HaPlan.NotWanted<HaServicePlanner.Addresses> nw) {
      cleanup(svc, nw.why(), writes);
      return Optional.empty();
    }
    if (plan instanceof HaPlan.Invalid<HaServicePlanner.Addresses> inv) {
      invalid(svc, inv.reason(), inv.message(), writes);
      return Optional.empty();
    }
    HaPlan.Wanted<HaServicePlanner.Addresses> w = (HaPlan.Wanted<HaServicePlanner.Addresses>) plan;
    Optional<ProxyGroup> pg = group(w.proxyGroup());
    Problem groupProblem = groupProblem(w.proxyGroup(), pg, "Service");
    if (groupProblem != null) {
      if ("ProxyGroupNotReady".equals(groupProblem.reason())) {
        write(svc, status(svc, true, REASON_VALID, REASON_VALID, false, groupProblem.reason(),
            groupProblem.message(), null), writes);
        notes.report(svc, w.notes());
      } else {
        invalid(svc, groupProblem.reason(), groupProblem.message(), writes);
      }
      return Optional.empty();
    }
    for (Service other : parentsNaming(w.proxyGroup())) {
      if (!other.getMetadata().getUid().equals(svc.getMetadata().getUid())
          && planner.plan(other) instanceof HaPlan.Wanted<HaServicePlanner.Addresses> o
          && o.hostname().equals(w.hostname())) {
        invalid(svc, HaServicePlanner.REASON_INVALID, "found duplicate Service \"" + other.getMetadata().getNamespace()
            + "/" + other.getMetadata().getName() + "\" for hostname \"" + w.hostname() + "\" - multiple HA Services "
            + "for the same hostname in the same cluster are not allowed", writes);
        return Optional.empty();
      }
    }
    Taken taken = claimService(w.serviceName(), "choose a different hostname with the '" + TailscaleKeys.HOSTNAME
        + "' annotation");
    if (taken instanceof Refused r) {
      invalid(svc, r.reason(), r.message(), writes);
      return Optional.empty();
    }
    if (!svc.hasFinalizer(FINALIZER)) {
      LOG.info("serving Service {}/{} through ProxyGroup {} as {}", svc.getMetadata().getNamespace(),
          svc.getMetadata().getName(), w.proxyGroup(), w.serviceName());
      svc = writes.addFinalizer(svc, FINALIZER);
    }
    Set<String> claimed = parentsNaming(w.proxyGroup()).stream().map(planner::plan)
        .filter(p -> p instanceof HaPlan.Wanted).map(p -> ((HaPlan.Wanted<?>) p).serviceName())
        .collect(Collectors.toSet());
    claimed.add(w.serviceName());
    releaseUnclaimed(w.proxyGroup(), ProxyGroupNames.KEY_INGRESS_CONFIG, claimed, s -> { });
    Served served = writeService((Claimed) taken, w.tags(), List.of("do-not-validate"));

    JsonNode mapping = mapping(w.wanted().clusterIps(), served.service().ipv4(), served.service().ipv6());
    if (!configMaps.set(w.proxyGroup(), ProxyGroupNames.KEY_INGRESS_CONFIG, w.serviceName(), mapping)) {
      write(svc, status(svc, true, REASON_VALID, REASON_VALID, false, REASON_NO_BACKENDS, "waiting for ProxyGroup "
          + w.proxyGroup() + " to create its ConfigMap " + ProxyGroupNames.ingressConfigMapName(w.proxyGroup()),
          null), writes);
      return Optional.empty();
    }
    List<ReplicaState> replicas = replicas(w.proxyGroup());
    boolean endpoints = hasReadyEndpoint(svc);
    advertisement.set(replicas, w.serviceName(), r -> endpoints && routesSetUp(r, w.serviceName(), mapping));
    long count = advertising(replicas, w.serviceName());
    String domain = tailnetDomain(replicas);
    String dnsName = domain == null ? null : w.hostname() + "." + domain;
    String message = count + "/" + desiredReplicas(pg.get()) + " proxy backends ready and advertising";
    if (count == 0 && !endpoints) {
      message += "; the Service has no ready endpoint yet";
    } else if (count < replicas.size()) {
      message += "; waiting for " + waitingReplicas(replicas, w.serviceName());
    }
    List<LoadBalancerIngress> lb = count > 0 && dnsName != null ? List.of(new LoadBalancerIngressBuilder()
        .withHostname(dnsName).withIp(served.service().ipv4()).build()) : null;
    ServiceStatus status = status(svc, true, REASON_VALID, REASON_VALID, count > 0,
        count > 0 ? REASON_CONFIGURED : REASON_NO_BACKENDS, message, lb == null ? List.of() : lb);
    if (write(svc, status, writes) && count > 0) {
      ctx.events().normal(svc, "ProxyReady", "served by ProxyGroup " + w.proxyGroup() + " as Tailscale Service "
          + w.serviceName() + " at " + dnsName + " (" + served.service().ipv4() + "): " + message);
    }
    notes.report(svc, w.notes());
    return served.written() ? Optional.of(RECHECK_SHARED) : Optional.empty();
  }

  /** A refused Service: Valid=False with why, an Event, and nothing else changed. */
  private void invalid(Service svc, String reason, String message, ParentWrites<Service> writes) {
    boolean served = svc.getStatus() != null
        && Conditions.find(svc.getStatus().getConditions(), CONDITION_CONFIGURED).isPresent();
    ServiceStatus status = status(svc, false, reason, message, null, null, null, served ? List.of() : null);
    if (write(svc, status, writes)) {
      LOG.info("Service {}/{} not served through a ProxyGroup: {}", svc.getMetadata().getNamespace(),
          svc.getMetadata().getName(), message);
    }
    notes.report(svc, List.of(Problem.warning(reason, message)));
  }

  /** The Service's ClusterIP ↔ Tailscale Service IP mappings ({@code ingressservices.Config}). */
  static JsonNode mapping(List<String> clusterIps, String serviceV4, String serviceV6) {
    ObjectNode cfg = JSON.createObjectNode();
    for (String ip : clusterIps) {
      boolean v6 = ip.contains(":");
      String tsIp = v6 ? serviceV6 : serviceV4;
      if (tsIp == null) {
        continue;
      }
      ObjectNode m = cfg.putObject(v6 ? "IPv6Mapping" : "IPv4Mapping");
      m.put("TailscaleServiceIP", tsIp);
      m.put("ClusterIP", ip);
    }
    // Go's encoder writes IPv4Mapping before IPv6Mapping.
    ObjectNode ordered = JSON.createObjectNode();
    for (String f : List.of("IPv4Mapping", "IPv6Mapping")) {
      if (cfg.has(f)) {
        ordered.set(f, cfg.get(f));
      }
    }
    return ordered;
  }

  /**
   * Whether the replica has set up the routing for the service: its containerboot reports the service's mappings as
   * configured, for its current pod IPs (official {@code backendRoutesSetup}).
   */
  boolean routesSetUp(ReplicaState r, String service, JsonNode mapping) {
    JsonNode status = r.ingressServicesStatus();
    if (status == null || !mapping.equals(status.path("configs").path(service))) {
      return false;
    }
    Optional<Pod> pod = pod(r.secretName());
    if (pod.isEmpty() || pod.get().getStatus() == null || pod.get().getStatus().getPodIPs() == null
        || pod.get().getStatus().getPodIPs().isEmpty()) {
      return false;
    }
    String v4 = "";
    String v6 = "";
    for (PodIP ip : pod.get().getStatus().getPodIPs()) {
      if (ip.getIp().contains(":")) {
        v6 = ip.getIp();
      } else {
        v4 = ip.getIp();
      }
    }
    return v4.equals(status.path("podIPv4").asText("")) && v6.equals(status.path("podIPv6").asText(""));
  }

  private boolean hasReadyEndpoint(Service svc) {
    return endpointSlices.list(svc.getMetadata().getNamespace(), es -> es.getMetadata().getLabels() != null
        && svc.getMetadata().getName().equals(es.getMetadata().getLabels().get("kubernetes.io/service-name")))
        .anyMatch(es -> es.getEndpoints() != null && es.getEndpoints().stream().anyMatch(e ->
            e.getConditions() != null && Boolean.TRUE.equals(e.getConditions().getReady())));
  }

  /**
   * The Service is no longer served through a ProxyGroup (or is being deleted): its Tailscale Service is unadvertised,
   * removed from its group's ConfigMap and released, then the finalizer and this operator's status go.
   */
  private void cleanup(Service svc, String why, ParentWrites<Service> writes) throws ProvisionException {
    Map<String, String> ann = svc.getMetadata().getAnnotations() == null ? Map.of() : svc.getMetadata()
        .getAnnotations();
    if (svc.hasFinalizer(FINALIZER)) {
      String hostname = ann.getOrDefault(TailscaleKeys.HOSTNAME, svc.getMetadata().getNamespace() + "-"
          + svc.getMetadata().getName());
      String service = "svc:" + hostname;
      LOG.info("Service {}/{} is no longer served through a ProxyGroup ({}); releasing {}",
          svc.getMetadata().getNamespace(), svc.getMetadata().getName(), why, service);
      for (String group : groupsServing(ProxyGroupNames.KEY_INGRESS_CONFIG, service)) {
        advertisement.set(replicas(group), service, r -> false);
        configMaps.set(group, ProxyGroupNames.KEY_INGRESS_CONFIG, service, null);
      }
      releaseService(service);
      svc = writes.removeFinalizer(svc, FINALIZER);
    }
    if (svc.getMetadata().getDeletionTimestamp() == null) {
      ServiceStatus current = svc.getStatus() == null ? new ServiceStatus() : svc.getStatus();
      boolean ours = Conditions.find(current.getConditions(), CONDITION_VALID).isPresent()
          || Conditions.find(current.getConditions(), CONDITION_CONFIGURED).isPresent();
      if (ours) {
        ServiceStatus cleared = new ServiceStatusBuilder(current).withConditions(Conditions.remove(Conditions.remove(
            current.getConditions(), CONDITION_VALID), CONDITION_CONFIGURED)).build();
        if (Conditions.find(current.getConditions(), CONDITION_CONFIGURED).isPresent()) {
          cleared.setLoadBalancer(new LoadBalancerStatus());
        }
        write(svc, cleared, writes);
      }
    }
    notes.forget(svc);
  }

  /**
   * The status with the two conditions set (Configured removed when {@code configured} is null) and, when {@code lb}
   * is non-null, {@code status.loadBalancer.ingress}.
   */
  private ServiceStatus status(Service svc, boolean valid, String validReason, String validMessage,
      Boolean configured, String configuredReason, String configuredMessage, List<LoadBalancerIngress> lb) {
    ServiceStatus current = svc.getStatus() == null ? new ServiceStatus() : svc.getStatus();
    List<Condition> conditions = Conditions.set(current.getConditions(), CONDITION_VALID, valid, validReason,
        validMessage, null, ctx.clock());
    if (configured == null) {
      conditions = Conditions.remove(conditions, CONDITION_CONFIGURED);
    } else {
      conditions = Conditions.set(conditions, CONDITION_CONFIGURED, configured, configuredReason, configuredMessage,
          null, ctx.clock());
    }
    ServiceStatus out = new ServiceStatusBuilder(current).withConditions(conditions).build();
    if (lb != null) {
      out.setLoadBalancer(new LoadBalancerStatus(new ArrayList<>(lb)));
    }
    return out;
  }

  /** Writes the status when it differs from the live one; whether it wrote. */
  private boolean write(Service svc, ServiceStatus status, ParentWrites<Service> writes) {
    ServiceStatus current = svc.getStatus() == null ? new ServiceStatus() : svc.getStatus();
    if (sameStatus(current, status)) {
      return false;
    }
    writes.writeStatus(svc, fresh -> new ServiceBuilder(fresh).withStatus(status).build());
    return true;
  }

  private static boolean sameStatus(ServiceStatus a, ServiceStatus b) {
    return sameConditions(a.getConditions(), b.getConditions())
        && Objects.equals(ingress(a), ingress(b));
  }

  private static boolean sameConditions(List<Condition> a, List<Condition> b) {
    for (String type : List.of(CONDITION_VALID, CONDITION_CONFIGURED)) {
      Optional<Condition> x = Conditions.find(a, type);
      Optional<Condition> y = Conditions.find(b, type);
      if (x.isPresent() != y.isPresent() || x.isPresent() && (!Objects.equals(x.get().getStatus(),
          y.get().getStatus()) || !Objects.equals(x.get().getReason(), y.get().getReason())
          || !Objects.equals(x.get().getMessage(), y.get().getMessage()))) {
        return false;
      }
    }
    return true;
  }

  private static List<String> ingress(ServiceStatus s) {
    if (s.getLoadBalancer() == null || s.getLoadBalancer().getIngress() == null) {
      return List.of();
    }
    return s.getLoadBalancer().getIngress().stream().map(i -> i.getHostname() + "/" + i.getIp()).toList();
  }
}
