package io.tailops.operator.ha;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodIP;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.ServiceStatus;
import io.fabric8.kubernetes.api.model.ServiceStatusBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPortBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.config.ControllerConfigurationOverrider;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.tailops.api.v1alpha1.ProxyGroup;
import io.tailops.operator.k8s.StoreWithoutManagedFields;
import io.tailops.operator.k8s.TailscaleKeys;
import io.tailops.operator.pipeline.ParentWrites;
import io.tailops.operator.proxy.ChildLabels;
import io.tailops.operator.proxy.ProvisionException;
import io.tailops.operator.proxy.ProxyConfigSecret;
import io.tailops.operator.proxy.ReplicaState;
import io.tailops.operator.proxygroup.ProxyGroupNames;
import io.tailops.operator.reconcile.OperatorContext;
import io.tailops.operator.reconcile.ParentlessCleanup;
import io.tailops.operator.service.EgressPlanner;
import io.tailops.operator.status.Conditions;
import io.tailops.operator.status.Problem;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Services egressing through an egress ProxyGroup (official {@code egress-services.go}, {@code egress-eps.go},
 * {@code egress-services-readiness.go}): an ExternalName Service naming the group and a tailnet target gets a ClusterIP
 * Service {@code ts-<name>-xxxxx} in the operator namespace whose ports map to container ports of the replicas, its
 * entry {@code <ns>-<name>} in the group's ConfigMap ({@code <pg>-egress-config}, key {@code egress-services}), an
 * EndpointSlice {@code <clusterip>-ipv4} listing the replica pods that report (state Secret key
 * {@code egress-services}) that they route it, and its {@code spec.externalName} pointed at the ClusterIP Service.
 * Conditions {@code TailscaleEgressSvcValid}, {@code TailscaleEgressSvcConfigured} and {@code TailscaleEgressSvcReady}
 * with the official reasons; a bad input is said in the condition and an Event, with nothing else changed. Removed
 * (its entry, ClusterIP Service and EndpointSlice) when the Service is deleted or no longer names the group.
 *
 * <p>Readiness gates: the official operator marks the {@code tailscale.com/egress-services} condition only on replica
 * pods whose spec declares that gate, and its StatefulSet declares none; neither does ours, and this controller does
 * not mark the condition (a pod that declares the gate through other means stays not ready).
 */
public final class EgressGroupController extends HaController<Service, EgressGroupPlanner.Wanted>
    implements ParentlessCleanup {
  public static final String NAME = "egress-svcs-reconciler";
  /** The official finalizer of a Service egressing through a group (the standalone proxies' finalizer). */
  public static final String FINALIZER = "tailscale.com/finalizer";
  static final String REASON_READY = "ReadyToRouteTraffic";
  static final String REASON_PARTIALLY_READY = "PartiallyReadyToRouteTraffic";
  static final String REASON_NOT_READY = "NotReadyToRouteTraffic";
  static final String REASON_NO_PROXIES = "NoProxiesConfigured";
  static final String REASON_RESOURCES_NOT_READY = "ClusterResourcesNotReady";
  static final List<String> CONDITIONS = List.of(EgressGroupPlanner.CONDITION_VALID,
      EgressGroupPlanner.CONDITION_CONFIGURED, EgressGroupPlanner.CONDITION_READY);
  private static final Logger LOG = LoggerFactory.getLogger(EgressGroupController.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final SecureRandom RANDOM = new SecureRandom();
  private final Object allocation = new Object();

  private final EgressGroupPlanner planner;
  private final String clusterDomain;
  private GroupConfigMap egressConfigs;
  private InformerEventSource<Service, Service> clusterIpServices;
  private InformerEventSource<EndpointSlice, Service> endpointSlices;

  /** @param clusterDomain the cluster's DNS domain, for the name the Service points at */
  public EgressGroupController(OperatorContext ctx, String clusterDomain) {
    super(ctx);
    this.planner = new EgressGroupPlanner(new EgressPlanner(ctx.config().proxyTags(),
        ctx.config().proxyDefaultClass(), Optional::empty));
    this.clusterDomain = clusterDomain;
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
  protected HaPlan<EgressGroupPlanner.Wanted> plan(Service svc) {
    EgressGroupPlanner.Plan p = planner.plan(svc, group(EgressGroupPlanner.groupOf(svc)));
    if (p instanceof EgressGroupPlanner.Wanted w) {
      return new HaPlan.Wanted<>(w.group(), w.tailnetService(), List.of(), List.of(), w);
    }
    if (p instanceof EgressGroupPlanner.Invalid inv) {
      return new HaPlan.Invalid<>(inv.group(), inv.reason(), inv.message());
    }
    return new HaPlan.NotWanted<>(((EgressGroupPlanner.NotWanted) p).why());
  }

  /** The operator's own Services are never parents. */
  @Override
  public Consumer<ControllerConfigurationOverrider<Service>> configuration() {
    return super.configuration().andThen(c -> c.withLabelSelector(TailscaleKeys.LABEL_MANAGED + "!=true"));
  }

  /** The ClusterIP Services and EndpointSlices of egress Services, each mapped back to its Service. */
  @Override
  protected List<EventSource<?, Service>> moreEventSources(EventSourceContext<Service> context) {
    String ns = ctx.config().namespace();
    String selector = TailscaleKeys.LABEL_MANAGED + "=true," + ChildLabels.LABEL_SVC_TYPE + "=" + ChildLabels.EGRESS;
    clusterIpServices = new InformerEventSource<>(InformerEventSourceConfiguration.from(Service.class, Service.class)
        .withName(NAME + "-clusterip-services").withNamespaces(Set.of(ns)).withLabelSelector(selector)
        .withSecondaryToPrimaryMapper(EgressGroupController::parentOf)
        .withItemStore(new StoreWithoutManagedFields<>()).build(), context);
    endpointSlices = new InformerEventSource<>(InformerEventSourceConfiguration.from(EndpointSlice.class,
            Service.class).withName(NAME + "-endpointslices").withNamespaces(Set.of(ns)).withLabelSelector(selector)
        .withSecondaryToPrimaryMapper(EgressGroupController::parentOf)
        .withItemStore(new StoreWithoutManagedFields<>()).build(), context);
    egressConfigs = new GroupConfigMap(ctx.client(), ns, this::groupConfigMap, ProxyGroupNames::egressConfigMapName);
    return List.of(clusterIpServices, endpointSlices);
  }

  private static Set<ResourceID> parentOf(HasMetadata child) {
    Map<String, String> l = child.getMetadata().getLabels();
    if (l == null || l.get(TailscaleKeys.LABEL_PARENT_NAME) == null) {
      return Set.of();
    }
    return Set.of(new ResourceID(l.get(TailscaleKeys.LABEL_PARENT_NAME), l.get(TailscaleKeys.LABEL_PARENT_NAMESPACE)));
  }

  @Override
  protected Optional<Duration> reconcile(Service svc, ParentWrites<Service> writes) throws ProvisionException {
    EgressGroupPlanner.Plan plan = planner.plan(svc, group(EgressGroupPlanner.groupOf(svc)));
    if (plan instanceof EgressGroupPlanner.NotWanted nw) {
      cleanup(svc, nw.why(), writes);
      return Optional.empty();
    }
    if (plan instanceof EgressGroupPlanner.Invalid inv) {
      List<Condition> c = current(svc);
      c = inv.unknown() ? set(c, EgressGroupPlanner.CONDITION_VALID, "Unknown", inv.reason(), inv.message())
          : Conditions.set(c, EgressGroupPlanner.CONDITION_VALID, false, inv.reason(), inv.message(), null,
              ctx.clock());
      c = Conditions.remove(c, EgressGroupPlanner.CONDITION_CONFIGURED);
      c = Conditions.set(c, EgressGroupPlanner.CONDITION_READY, false, REASON_RESOURCES_NOT_READY,
          REASON_RESOURCES_NOT_READY, null, ctx.clock());
      if (write(svc, c, writes)) {
        LOG.info("Service {}/{} does not egress through ProxyGroup {}: {}", svc.getMetadata().getNamespace(),
            svc.getMetadata().getName(), inv.group(), inv.message());
      }
      notes.report(svc, List.of(Problem.warning(inv.eventReason(), inv.message())));
      return Optional.empty();
    }
    notes.report(svc, List.of());
    EgressGroupPlanner.Wanted w = (EgressGroupPlanner.Wanted) plan;
    ProxyGroup pg = group(w.group()).orElseThrow();
    List<Condition> c = current(svc);
    if (Conditions.find(c, EgressGroupPlanner.CONDITION_READY).isEmpty()) {
      // Upstream's readiness reconciler runs beside the main one and writes its condition first: the same order here.
      c = Conditions.set(c, EgressGroupPlanner.CONDITION_READY, false, REASON_RESOURCES_NOT_READY,
          REASON_RESOURCES_NOT_READY, null, ctx.clock());
    }
    c = Conditions.set(c, EgressGroupPlanner.CONDITION_VALID, true,
        EgressGroupPlanner.REASON_VALID, EgressGroupPlanner.REASON_VALID, null, ctx.clock());
    if (!svc.hasFinalizer(FINALIZER)) {
      LOG.info("Service {}/{} egresses through ProxyGroup {} to {}", svc.getMetadata().getNamespace(),
          svc.getMetadata().getName(), w.group(), w.target());
      svc = writes.addFinalizer(svc, FINALIZER);
    }
    removeFromOtherGroups(svc, w.group());

    String failed = EgressServiceConfig.configuredReason(false, w.group(), w.ports(), w.target());
    Service clusterIp;
    try {
      clusterIp = ensureClusterIpService(svc, w);
    } catch (IllegalStateException e) {
      c = Conditions.set(c, EgressGroupPlanner.CONDITION_CONFIGURED, false, failed, e.getMessage(), null, ctx.clock());
      write(svc, c, writes);
      notes.report(svc, List.of(Problem.warning("EgressSvcCreationFailed", e.getMessage())));
      return Optional.empty();
    }
    String host = clusterIp.getMetadata().getName() + "." + clusterIp.getMetadata().getNamespace() + ".svc."
        + clusterDomain;
    JsonNode entry = EgressServiceConfig.entry(w.target(), EgressServiceConfig.healthCheckEndpoint(
        clusterIp.getMetadata().getName(), clusterIp.getMetadata().getNamespace(), clusterDomain,
        clusterIp.getSpec().getPorts()), EgressServiceConfig.portMaps(clusterIp.getSpec().getPorts()));
    List<ReplicaState> replicas = replicas(w.group());
    EndpointSlice eps = ensureEndpointSlice(svc, clusterIp, replicas, w.tailnetService(), entry);
    if (!egressConfigs.set(w.group(), ProxyGroupNames.KEY_EGRESS_SERVICES, w.tailnetService(), entry)) {
      c = Conditions.set(c, EgressGroupPlanner.CONDITION_CONFIGURED, false, failed, "waiting for ProxyGroup "
          + w.group() + " to create its ConfigMap " + ProxyGroupNames.egressConfigMapName(w.group()), null,
          ctx.clock());
      c = Conditions.set(c, EgressGroupPlanner.CONDITION_READY, false, REASON_RESOURCES_NOT_READY,
          REASON_RESOURCES_NOT_READY, null, ctx.clock());
      write(svc, c, writes);
      return Optional.empty();
    }
    if (!host.equals(svc.getSpec().getExternalName())) {
      LOG.info("pointing Service {}/{} at {}", svc.getMetadata().getNamespace(), svc.getMetadata().getName(), host);
      svc = writes.update(svc, s -> new ServiceBuilder(s).editSpec().withExternalName(host).endSpec().build());
    }
    String configured = EgressServiceConfig.configuredReason(true, w.group(), w.ports(), w.target());
    c = Conditions.set(c, EgressGroupPlanner.CONDITION_CONFIGURED, true, configured, configured, null, ctx.clock());
    c = ready(c, pg, eps);
    write(svc, c, writes);
    return Optional.empty();
  }

  /** The readiness condition (official {@code egress-services-readiness.go}): how many replicas route the Service. */
  private List<Condition> ready(List<Condition> c, ProxyGroup pg, EndpointSlice eps) {
    if (!available(pg)) {
      return Conditions.set(c, EgressGroupPlanner.CONDITION_READY, false, REASON_RESOURCES_NOT_READY,
          REASON_RESOURCES_NOT_READY, null, ctx.clock());
    }
    int replicas = pg.getSpec() == null || pg.getSpec().getReplicas() == null ? 2 : pg.getSpec().getReplicas();
    if (replicas == 0) {
      return Conditions.set(c, EgressGroupPlanner.CONDITION_READY, false, REASON_NO_PROXIES, REASON_NO_PROXIES, null,
          ctx.clock());
    }
    int ready = 0;
    for (int i = 0; i < replicas; i++) {
      Optional<String> ip = pod(ProxyGroupNames.podName(pg.getMetadata().getName(), i)).map(EgressGroupController::ipv4);
      if (ip.isPresent() && !ip.get().isEmpty() && eps.getEndpoints() != null && eps.getEndpoints().stream()
          .anyMatch(e -> e.getAddresses() != null && e.getAddresses().equals(List.of(ip.get())))) {
        ready++;
      }
    }
    String msg = ready + " out of " + replicas + " replicas are ready to route traffic";
    if (ready == 0) {
      return Conditions.set(c, EgressGroupPlanner.CONDITION_READY, false, REASON_NOT_READY, msg, null, ctx.clock());
    }
    return Conditions.set(c, EgressGroupPlanner.CONDITION_READY, true, ready < replicas ? REASON_PARTIALLY_READY
        : REASON_READY, msg, null, ctx.clock());
  }

  private static Map<String, String> childLabels(Service svc, String group) {
    Map<String, String> l = new LinkedHashMap<>();
    l.put(TailscaleKeys.LABEL_MANAGED, "true");
    l.put(TailscaleKeys.LABEL_PARENT_TYPE, "svc");
    l.put(TailscaleKeys.LABEL_PARENT_NAME, svc.getMetadata().getName());
    l.put(TailscaleKeys.LABEL_PARENT_NAMESPACE, svc.getMetadata().getNamespace());
    l.put(TailscaleKeys.PROXY_GROUP, group);
    l.put(ChildLabels.LABEL_SVC_TYPE, ChildLabels.EGRESS);
    return l;
  }

  private static boolean labelled(HasMetadata o, Map<String, String> labels) {
    Map<String, String> l = o.getMetadata().getLabels();
    return l != null && l.entrySet().containsAll(labels.entrySet());
  }

  /** The objects of {@code svc} in a cache: those labelled with its name and namespace (any group). */
  private static Map<String, String> parentLabels(Service svc) {
    return Map.of(TailscaleKeys.LABEL_PARENT_NAME, svc.getMetadata().getName(), TailscaleKeys.LABEL_PARENT_NAMESPACE,
        svc.getMetadata().getNamespace(), TailscaleKeys.LABEL_PARENT_TYPE, "svc");
  }

  /** Creates or updates the ClusterIP Service (ports mapped to free container ports of the group). */
  private Service ensureClusterIpService(Service svc, EgressGroupPlanner.Wanted w) {
    String ns = ctx.config().namespace();
    Map<String, String> labels = childLabels(svc, w.group());
    Optional<Service> have = clusterIpServices.list(ns, s -> labelled(s, labels)).findFirst();
    if (have.isEmpty()) {
      // Not in the cache: maybe created by a reconcile the cache has not seen yet (the name is generated).
      have = ctx.client().services().inNamespace(ns).withLabels(labels).list().getItems().stream().findFirst();
    }
    String self = have.map(s -> s.getMetadata().getName()).orElse("");
    List<ServicePort> existing = have.map(s -> s.getSpec().getPorts()).orElse(List.of());
    List<ServicePort> ports = EgressServiceConfig.clusterIpPorts(w.ports(), existing,
        usedPorts(clusterIpServices.list(ns, s -> true).toList(), w.group(), self), this::randomPort);
    Set<Integer> kept = new HashSet<>();
    existing.forEach(p -> kept.add(p.getTargetPort() == null ? -1 : p.getTargetPort().getIntVal()));
    if (ports.stream().anyMatch(p -> !kept.contains(p.getTargetPort().getIntVal()))) {
      // New container ports: chosen again under one lock against the live list, so that two Services of the group
      // reconciled at once (the cache not yet showing the other's write) never get the same port.
      synchronized (allocation) {
        List<Service> live = ctx.client().services().inNamespace(ns).withLabel(ChildLabels.LABEL_SVC_TYPE,
            ChildLabels.EGRESS).withLabel(TailscaleKeys.PROXY_GROUP, w.group()).list().getItems();
        ports = EgressServiceConfig.clusterIpPorts(w.ports(), existing, usedPorts(live, w.group(), self),
            this::randomPort);
        return write(svc, ns, labels, have, ports);
      }
    }
    return write(svc, ns, labels, have, ports);
  }

  private int randomPort() {
    return 10000 + RANDOM.nextInt(EgressServiceConfig.MAX_PORTS);
  }

  /** The container ports the group's other egress Services map. */
  private static Set<Integer> usedPorts(List<Service> services, String group, String self) {
    Set<Integer> used = new HashSet<>();
    for (Service s : services) {
      if (!group.equals(s.getMetadata().getLabels().get(TailscaleKeys.PROXY_GROUP))
          || self.equals(s.getMetadata().getName()) || s.getSpec().getPorts() == null) {
        continue;
      }
      for (ServicePort p : s.getSpec().getPorts()) {
        if (p.getTargetPort() != null && p.getTargetPort().getIntVal() != null
            && !EgressServiceConfig.HEALTH_CHECK_PORT_NAME.equals(p.getName())) {
          used.add(p.getTargetPort().getIntVal());
        }
      }
    }
    return used;
  }

  private Service write(Service svc, String ns, Map<String, String> labels, Optional<Service> have,
      List<ServicePort> ports) {
    if (have.isEmpty()) {
      Service created = ctx.client().services().inNamespace(ns).resource(new ServiceBuilder().withNewMetadata()
          .withGenerateName(EgressServiceConfig.namePrefix(svc.getMetadata().getName())).withNamespace(ns)
          .withLabels(labels).endMetadata().withNewSpec().withType("ClusterIP").withPorts(ports).endSpec().build())
          .create();
      LOG.info("created ClusterIP Service {}/{} for Service {}/{}", ns, created.getMetadata().getName(),
          svc.getMetadata().getNamespace(), svc.getMetadata().getName());
      return created;
    }
    Service live = have.get();
    if (samePorts(live.getSpec().getPorts(), ports) && labelled(live, labels)
        && "ClusterIP".equals(live.getSpec().getType())) {
      return live;
    }
    Service updated = new ServiceBuilder(live).editMetadata().addToLabels(labels).endMetadata().editSpec()
        .withType("ClusterIP").withPorts(ports).endSpec().build();
    return ctx.client().services().inNamespace(ns).resource(updated).update();
  }

  private static boolean samePorts(List<ServicePort> a, List<ServicePort> b) {
    if (a == null || a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      ServicePort x = a.get(i);
      ServicePort y = b.get(i);
      if (!Objects.equals(x.getName(), y.getName()) || !Objects.equals(x.getPort(), y.getPort())
          || !Objects.equals(x.getProtocol(), y.getProtocol()) || !Objects.equals(x.getTargetPort(),
          y.getTargetPort())) {
        return false;
      }
    }
    return true;
  }

  /**
   * Creates or updates the EndpointSlice: the ports of the ClusterIP Service (container ports), and an endpoint for
   * each replica pod that reports routing the Service's current entry from its current IPv4 address.
   */
  private EndpointSlice ensureEndpointSlice(Service svc, Service clusterIp, List<ReplicaState> replicas,
      String tailnetService, JsonNode entry) {
    String ns = ctx.config().namespace();
    String name = clusterIp.getMetadata().getName() + "-ipv4";
    Map<String, String> labels = childLabels(svc, EgressGroupPlanner.groupOf(svc));
    labels.put("kubernetes.io/service-name", clusterIp.getMetadata().getName());
    labels.put("endpointslice.kubernetes.io/managed-by", "tailscale.com");
    List<EndpointPort> ports = new ArrayList<>();
    for (ServicePort p : clusterIp.getSpec().getPorts()) {
      ports.add(new EndpointPortBuilder().withName(p.getName()).withProtocol(p.getProtocol())
          .withPort(p.getTargetPort().getIntVal()).build());
    }
    List<Endpoint> endpoints = new ArrayList<>();
    for (ReplicaState r : replicas) {
      Optional<Pod> pod = pod(r.secretName());
      if (pod.isEmpty() || pod.get().getMetadata().getDeletionTimestamp() != null) {
        continue;
      }
      String ip = ipv4(pod.get());
      if (ip.isEmpty() || !EgressServiceConfig.routes(egressStatus(r), ip, tailnetService, entry)) {
        continue;
      }
      endpoints.add(new EndpointBuilder().withHostname(pod.get().getMetadata().getUid()).withAddresses(ip)
          .withNewConditions().withReady(true).withServing(true).withTerminating(false).endConditions().build());
    }
    Optional<EndpointSlice> have = endpointSlices.get(new ResourceID(name, ns));
    if (have.isEmpty()) {
      EndpointSlice want = new EndpointSliceBuilder().withNewMetadata().withName(name).withNamespace(ns)
          .withLabels(labels).endMetadata().withAddressType("IPv4").withPorts(ports).withEndpoints(endpoints).build();
      try {
        return ctx.client().resource(want).create();
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409) {
          throw e;
        }
        have = Optional.ofNullable(ctx.client().discovery().v1().endpointSlices().inNamespace(ns).withName(name)
            .get());
        if (have.isEmpty()) {
          throw e;
        }
      }
    }
    EndpointSlice live = have.get();
    if (labelled(live, labels) && Objects.equals(live.getPorts(), ports) && sameEndpoints(live.getEndpoints(),
        endpoints)) {
      return live;
    }
    LOG.info("EndpointSlice {}/{}: {} replica(s) route {}", ns, name, endpoints.size(), tailnetService);
    EndpointSlice updated = new EndpointSliceBuilder(live).editMetadata().addToLabels(labels).endMetadata()
        .withPorts(ports).withEndpoints(endpoints).build();
    return ctx.client().resource(updated).update();
  }

  private static boolean sameEndpoints(List<Endpoint> a, List<Endpoint> b) {
    List<Endpoint> x = a == null ? List.of() : a;
    if (x.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < x.size(); i++) {
      if (!Objects.equals(x.get(i).getAddresses(), b.get(i).getAddresses())
          || !Objects.equals(x.get(i).getHostname(), b.get(i).getHostname())
          || !Objects.equals(x.get(i).getConditions(), b.get(i).getConditions())) {
        return false;
      }
    }
    return true;
  }

  private static JsonNode egressStatus(ReplicaState r) {
    String raw = ProxyConfigSecret.value(r.secret(), ProxyGroupNames.KEY_EGRESS_SERVICES);
    if (raw.isEmpty()) {
      return null;
    }
    try {
      return JSON.readTree(raw);
    } catch (Exception e) {
      return null;
    }
  }

  static String ipv4(Pod pod) {
    if (pod.getStatus() == null || pod.getStatus().getPodIPs() == null) {
      return "";
    }
    for (PodIP ip : pod.getStatus().getPodIPs()) {
      if (ip.getIp() != null && !ip.getIp().contains(":")) {
        return ip.getIp();
      }
    }
    return "";
  }

  /** A Service moved to another group: its entry and objects of the groups it left go. */
  private void removeFromOtherGroups(Service svc, String group) {
    String ns = ctx.config().namespace();
    String key = EgressGroupPlanner.tailnetService(svc);
    for (String other : groupsWithEntry(key)) {
      if (!other.equals(group)) {
        LOG.info("Service {}/{} left ProxyGroup {}: removing its egress entry", svc.getMetadata().getNamespace(),
            svc.getMetadata().getName(), other);
        egressConfigs.set(other, ProxyGroupNames.KEY_EGRESS_SERVICES, key, null);
      }
    }
    Map<String, String> mine = parentLabels(svc);
    for (HasMetadata o : ownObjects(ns, mine)) {
      if (!group.equals(o.getMetadata().getLabels().get(TailscaleKeys.PROXY_GROUP))) {
        delete(o);
      }
    }
  }

  private List<HasMetadata> ownObjects(String ns, Map<String, String> labels) {
    List<HasMetadata> out = new ArrayList<>();
    clusterIpServices.list(ns, s -> labelled(s, labels)).forEach(out::add);
    endpointSlices.list(ns, s -> labelled(s, labels)).forEach(out::add);
    return out;
  }

  private void delete(HasMetadata o) {
    LOG.info("deleting {} {}/{}", o.getKind(), o.getMetadata().getNamespace(), o.getMetadata().getName());
    ctx.client().resource(o).delete();
  }

  /**
   * Which Services a change of the group's egress ConfigMap or of a replica's state Secret concerns. Each Service's
   * entry is one write of the shared ConfigMap, and each replica reports all its Services in one status: waking every
   * Service of the group for each made serving N Services cost N² reconciles (a benchmark of 1,000 had not finished
   * after 12 minutes). The ConfigMap wakes the Services whose entry is missing from it (they wait for it, or it was
   * removed by hand); a replica's status wakes those whose EndpointSlice no longer agrees with what the replica
   * reports; anything else (the group, its Pods) still wakes them all.
   */
  @Override
  protected Set<ResourceID> affectedBy(HasMetadata groupObject, String group) {
    if (group == null || endpointSlices == null || !endpointSlices.isRunning() || !groupCachesStarted()) {
      // Not started (the mapper also runs for the objects a source lists while it starts, maybe before the caches
      // read below): every parent of the group, as the other kinds; each is reconciled at start anyway.
      return super.affectedBy(groupObject, group);
    }
    if (groupObject instanceof ConfigMap cm) {
      if (!cm.getMetadata().getName().equals(ProxyGroupNames.egressConfigMapName(group))) {
        return Set.of(); // the group's other ConfigMaps (ingress serve config) say nothing about egress
      }
      Map<String, JsonNode> entries = GroupConfigMap.entries(cm, ProxyGroupNames.KEY_EGRESS_SERVICES);
      return parentsNaming(group).stream().filter(p -> !entries.containsKey(EgressGroupPlanner.tailnetService(p)))
          .map(ResourceID::fromResource).collect(java.util.stream.Collectors.toSet());
    }
    if (groupObject instanceof io.fabric8.kubernetes.api.model.Secret secret) {
      Map<String, String> l = secret.getMetadata().getLabels();
      if (l == null || !ReplicaState.SECRET_TYPE_STATE.equals(l.get(ReplicaState.LABEL_SECRET_TYPE))) {
        return Set.of(); // a replica's config Secret: nothing egress Services show
      }
      String ip = pod(secret.getMetadata().getName()).map(EgressGroupController::ipv4).orElse("");
      JsonNode status = egressStatus(ReplicaState.of(secret));
      Map<String, JsonNode> entries = groupConfigMap(ProxyGroupNames.egressConfigMapName(group))
          .map(cm -> (Map<String, JsonNode>) GroupConfigMap.entries(cm, ProxyGroupNames.KEY_EGRESS_SERVICES))
          .orElse(Map.of());
      Map<String, Set<String>> routed = new java.util.HashMap<>();
      endpointSlices.list(ctx.config().namespace(), e -> group.equals(e.getMetadata().getLabels()
          .get(TailscaleKeys.PROXY_GROUP))).forEach(e -> {
            Set<String> ips = routed.computeIfAbsent(e.getMetadata().getLabels().get(TailscaleKeys.LABEL_PARENT_NAMESPACE)
                + "/" + e.getMetadata().getLabels().get(TailscaleKeys.LABEL_PARENT_NAME), k -> new HashSet<>());
            if (e.getEndpoints() != null) {
              e.getEndpoints().forEach(ep -> ips.addAll(ep.getAddresses() == null ? List.of() : ep.getAddresses()));
            }
          });
      return EgressServiceConfig.disagreeing(parentsNaming(group), ip, status, entries, routed).stream()
          .map(ResourceID::fromResource).collect(java.util.stream.Collectors.toSet());
    }
    return super.affectedBy(groupObject, group);
  }

  @Override
  public String what() {
    return "Services egressing through a ProxyGroup";
  }

  /**
   * The objects of Services that egressed through a group and are gone without their cleanup (deleted with the
   * finalizer removed by hand, or while the operator was down): each such Service's entry in its groups' egress
   * configuration, its ClusterIP Service and EndpointSlice are removed. A Service counts as gone only when the API
   * server says so; any doubt (an API error) leaves everything as it is.
   */
  @Override
  public boolean sweepParentless() {
    if (clusterIpServices == null || endpointSlices == null) {
      return false; // not started
    }
    String ns = ctx.config().namespace();
    Map<ResourceID, List<HasMetadata>> byParent = new LinkedHashMap<>();
    java.util.stream.Stream.concat(clusterIpServices.list(ns, s -> true), endpointSlices.list(ns, s -> true))
        .forEach(o -> parentOf(o).forEach(p -> byParent.computeIfAbsent(p, k -> new ArrayList<>()).add(o)));
    for (Map.Entry<ResourceID, List<HasMetadata>> e : byParent.entrySet()) {
      String parentNs = e.getKey().getNamespace().orElse("");
      String parentName = e.getKey().getName();
      try {
        if (ctx.client().services().inNamespace(parentNs).withName(parentName).get() != null) {
          continue;
        }
        String key = parentNs + "-" + parentName;
        LOG.info("Service {}/{} egressed through a ProxyGroup and is gone without its cleanup: removing its "
            + "configuration, ClusterIP Service and EndpointSlice", parentNs, parentName);
        for (String g : groupsWithEntry(key)) {
          egressConfigs.set(g, ProxyGroupNames.KEY_EGRESS_SERVICES, key, null);
        }
        e.getValue().forEach(this::delete);
      } catch (KubernetesClientException ex) {
        LOG.info("parent-less sweep: the egress objects of Service {}/{} left as they are for now: {}", parentNs,
            parentName, ex.getMessage());
      }
    }
    return false;
  }

  /** The groups whose {@code egress-services} has an entry for {@code key}. */
  private List<String> groupsWithEntry(String key) {
    List<String> out = new ArrayList<>();
    for (ConfigMap cm : groupConfigMaps()) {
      String name = cm.getMetadata().getName();
      Map<String, String> l = cm.getMetadata().getLabels();
      String group = l == null ? null : l.get(TailscaleKeys.LABEL_PARENT_NAME);
      if (group != null && name.equals(ProxyGroupNames.egressConfigMapName(group))
          && GroupConfigMap.entries(cm, ProxyGroupNames.KEY_EGRESS_SERVICES).containsKey(key)) {
        out.add(group);
      }
    }
    return out;
  }

  /**
   * The Service no longer egresses through a group (or is being deleted): its entries, ClusterIP Service and
   * EndpointSlice go; then, when it is being deleted, the finalizer; else this controller's conditions. While the
   * Service is not being deleted the finalizer is left to the Service controller (the Service may now have a proxy of
   * its own, which uses the same finalizer).
   */
  private void cleanup(Service svc, String why, ParentWrites<Service> writes) {
    String ns = ctx.config().namespace();
    String key = EgressGroupPlanner.tailnetService(svc);
    List<String> groups = groupsWithEntry(key);
    List<HasMetadata> objects = ownObjects(ns, parentLabels(svc));
    if (!groups.isEmpty() || !objects.isEmpty()) {
      LOG.info("Service {}/{} no longer egresses through a ProxyGroup ({}): removing its configuration",
          svc.getMetadata().getNamespace(), svc.getMetadata().getName(), why);
    }
    for (String g : groups) {
      egressConfigs.set(g, ProxyGroupNames.KEY_EGRESS_SERVICES, key, null);
    }
    objects.forEach(this::delete);
    if (svc.getMetadata().getDeletionTimestamp() != null) {
      if (svc.hasFinalizer(FINALIZER) && EgressPlanner.viaProxyGroup(svc)) {
        writes.removeFinalizer(svc, FINALIZER);
      }
    } else {
      List<Condition> c = current(svc);
      for (String type : CONDITIONS) {
        c = Conditions.remove(c, type);
      }
      write(svc, c, writes);
    }
    notes.forget(svc);
  }

  private static List<Condition> current(Service svc) {
    return svc.getStatus() == null || svc.getStatus().getConditions() == null ? List.of()
        : svc.getStatus().getConditions();
  }

  /** Sets a condition with status Unknown (the shared helper knows True and False only). */
  private List<Condition> set(List<Condition> c, String type, String status, String reason, String message) {
    List<Condition> out = Conditions.set(c, type, false, reason, message, null, ctx.clock());
    List<Condition> fixed = new ArrayList<>();
    for (Condition x : out) {
      if (type.equals(x.getType())) {
        Optional<Condition> before = Conditions.find(c, type);
        x.setStatus(status);
        if (before.isPresent() && status.equals(before.get().getStatus())) {
          x.setLastTransitionTime(before.get().getLastTransitionTime());
        }
      }
      fixed.add(x);
    }
    return fixed;
  }

  /** Writes this controller's conditions when they differ from the live ones; whether it wrote. */
  private boolean write(Service svc, List<Condition> conditions, ParentWrites<Service> writes) {
    List<Condition> live = current(svc);
    boolean same = true;
    for (String type : CONDITIONS) {
      same &= Conditions.same(live, conditions, type);
    }
    if (same) {
      return false;
    }
    writes.writeStatus(svc, fresh -> {
      ServiceStatus st = fresh.getStatus() == null ? new ServiceStatus() : fresh.getStatus();
      List<Condition> merged = new ArrayList<>();
      for (Condition x : st.getConditions() == null ? List.<Condition>of() : st.getConditions()) {
        if (!CONDITIONS.contains(x.getType())) {
          merged.add(x);
        }
      }
      for (Condition x : conditions) {
        if (CONDITIONS.contains(x.getType())) {
          merged.add(x);
        }
      }
      return new ServiceBuilder(fresh).withStatus(new ServiceStatusBuilder(st).withConditions(merged).build()).build();
    });
    return true;
  }
}
