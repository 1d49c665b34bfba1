package io.tailops.operator.dns;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.config.ControllerConfigurationOverrider;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.PrimaryUpdateAndCacheUtils;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.IndexerResourceCache;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.tailops.api.v1alpha1.DNSConfig;
import io.tailops.operator.k8s.StoreWithoutManagedFields;
import io.tailops.operator.k8s.TailscaleKeys;
import io.tailops.operator.proxy.ChildLabels;
import io.tailops.operator.proxy.ParentRef;
import io.tailops.operator.proxy.ProvisionException;
import io.tailops.operator.reconcile.OperatorContext;
import io.tailops.operator.reconcile.RetryingReconcile;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the nameserver's records following the proxies, as the official dns-records reconciler does (dnsrecords.go): for
 * each Ingress proxy and each egress proxy of a Service with {@code tailscale.com/tailnet-fqdn}, once the served
 * DNSConfig is ready, the name ({@link ProxyRecordName}) answers with the ready addresses of the proxy's pods
 * ({@link ProxyAddresses}); the proxy's headless Service remembers the name ({@value ProxyRecordName#ANNOTATION}) and
 * carries the finalizer {@value ProxyRecordName#FINALIZER}, so that the record goes with the proxy. A Service egressing
 * to a MagicDNS name through an egress ProxyGroup has no headless Service: the group's ClusterIP Service for it takes
 * that part, and the name answers with its cluster IPs (upstream {@code isProxyGroupEgressService}). One reconcile per
 * proxy Service (the primary); the records ConfigMap is changed one name at a time, other names kept.
 *
 * <p>As upstream, a ProxyGroup egress record follows a change of the Service's target name when the group's ClusterIP
 * Service next changes (nothing here watches the users' Services).
 *
 * <p>Beyond upstream: a proxy whose name goes away (an egress Service switched from a name to an address) loses its
 * record, annotation and finalizer; a family without addresses loses its entry; the records file exists before the
 * first record (a key added later is linked into the pod's volume after the swap the nameserver watches, and the
 * nameserver could read the old content: measured here with the real kubelet layout and k8s-nameserver).
 */
public final class DnsRecordsReconciler implements Reconciler<Service> {
  public static final String NAME = "dns-records-reconciler";
  private static final Logger LOG = LoggerFactory.getLogger(DnsRecordsReconciler.class);
  private static final String INDEX_PARENT = "parent";
  /** How soon to write the record after the records file was first created (the kubelet's volume update). */
  static final Duration AFTER_FILE_CREATED = Duration.ofSeconds(2);

  private final OperatorContext ctx;
  private final BiFunction<String, String, Optional<Service>> parentServices;
  private final RetryingReconcile<Service> retries;
  private InformerEventSource<EndpointSlice, Service> slices;
  private InformerEventSource<DNSConfig, Service> dnsConfigs;
  private InformerEventSource<Ingress, Service> ingresses;
  private InformerEventSource<ConfigMap, Service> records;

  /**
   * @param parentServices a Service by namespace and name (the Service controller's cache: an egress Service's
   *     {@code tailscale.com/tailnet-fqdn})
   */
  public DnsRecordsReconciler(OperatorContext ctx, BiFunction<String, String, Optional<Service>> parentServices) {
    this.ctx = ctx;
    this.parentServices = parentServices;
    this.retries = new RetryingReconcile<>(NAME, ctx);
  }

  /** Proxies' headless Services in the operator namespace, of Service and Ingress proxies. */
  public Consumer<ControllerConfigurationOverrider<Service>> configuration() {
    return c -> c.withName(NAME).withGenerationAware(false).withTriggerReconcilerOnAllEvents(true)
        .settingNamespace(ctx.config().namespace())
        .withLabelSelector(TailscaleKeys.LABEL_MANAGED + "=true," + TailscaleKeys.LABEL_PARENT_TYPE + " in ("
            + ParentRef.TYPE_SERVICE + "," + ParentRef.TYPE_INGRESS + ")")
        .withItemStore(new StoreWithoutManagedFields<>());
  }

  @Override
  public List<EventSource<?, Service>> prepareEventSources(EventSourceContext<Service> context) {
    String ns = ctx.config().namespace();
    IndexerResourceCache<Service> proxies = context.getPrimaryCache();
    proxies.addIndexer(INDEX_PARENT, s -> ChildLabels.parentOf(s.getMetadata().getLabels(), ParentRef.TYPE_INGRESS)
        .map(p -> List.of(p.namespace() + "/" + p.name())).orElse(List.of()));
    slices = new InformerEventSource<>(InformerEventSourceConfiguration.from(EndpointSlice.class, Service.class)
        .withName("dns-records-endpointslices").withNamespaces(Set.of(ns))
        .withLabelSelector(EndpointSliceLabel.SERVICE_NAME)
        .withSecondaryToPrimaryMapper(s -> Set.of(new ResourceID(EndpointSliceLabel.serviceOf(s), ns)))
        .withItemStore(new StoreWithoutManagedFields<>()).build(), context);
    dnsConfigs = new InformerEventSource<>(InformerEventSourceConfiguration.from(DNSConfig.class, Service.class)
        .withName("dns-records-dnsconfigs").withWatchAllNamespaces()
        .withSecondaryToPrimaryMapper(dc -> proxies.list().map(ResourceID::fromResource).collect(Collectors.toSet()))
        .withItemStore(new StoreWithoutManagedFields<>()).build(), context);
    ingresses = new InformerEventSource<>(InformerEventSourceConfiguration.from(Ingress.class, Service.class)
        .withName("dns-records-ingresses").withWatchAllNamespaces()
        .withSecondaryToPrimaryMapper(ing -> proxies.byIndex(INDEX_PARENT, ing.getMetadata().getNamespace() + "/"
            + ing.getMetadata().getName()).stream().map(ResourceID::fromResource).collect(Collectors.toSet()))
        .withItemStore(new StoreWithoutManagedFields<>()).build(), context);
    records = new InformerEventSource<>(InformerEventSourceConfiguration.from(ConfigMap.class, Service.class)
        .withName("dns-records-configmap").withNamespaces(Set.of(ns))
        .withLabelSelector(TailscaleKeys.LABEL_PARENT_TYPE + "=nameserver")
        .withSecondaryToPrimaryMapper(cm -> Set.of()).withItemStore(new StoreWithoutManagedFields<>()).build(),
        context);
    return List.of(slices, dnsConfigs, ingresses, records, retries.eventSource());
  }

  private List<EndpointSlice> slicesOf(Service proxy) {
    return slices.list(ctx.config().namespace(), s -> proxy.getMetadata().getName()
        .equals(EndpointSliceLabel.serviceOf(s))).toList();
  }

  @Override
  public UpdateControl<Service> reconcile(Service proxy, Context<Service> context) {
    return retries.reconcile(proxy, p -> {
      try {
        return reconcileOne(p, context);
      } catch (KubernetesClientException e) {
        throw new ProvisionException("DNS records: " + e.getMessage(), "DNSRecordsFailed", true, e);
      }
    });
  }

  private Optional<Duration> reconcileOne(Service proxy, Context<Service> context) throws ProvisionException {
    boolean viaGroup = ProxyRecordName.isGroupEgressService(proxy);
    if (context.isPrimaryResourceDeleted() || (!viaGroup && !"None".equals(proxy.getSpec().getClusterIP()))) {
      return Optional.empty(); // gone, or not a proxy's headless Service (a metrics Service)
    }
    String remembered = annotation(proxy);
    if (proxy.getMetadata().getDeletionTimestamp() != null) {
      if (proxy.hasFinalizer(ProxyRecordName.FINALIZER)) {
        if (remembered != null) {
          changeRecords(r -> r.without(remembered), "removing the record of " + remembered);
        }
        removeFinalizer(proxy);
      }
      return Optional.empty();
    }
    Optional<DNSConfig> served = Nameservers.served(dnsConfigs.list().toList());
    if (served.isEmpty() || !Nameservers.isReady(served.get())) {
      return Optional.empty(); // no nameserver: no records (upstream)
    }
    Optional<String> name = recordName(proxy);
    if (name.isEmpty()) {
      if (remembered != null && proxy.hasFinalizer(ProxyRecordName.FINALIZER) && !waitingForName(proxy)) {
        // the proxy no longer has a name (an egress Service switched to an address): its record goes
        changeRecords(r -> r.without(remembered), "removing the record of " + remembered);
        forget(proxy);
      }
      return Optional.empty();
    }
    if (!name.get().equals(remembered) || !proxy.hasFinalizer(ProxyRecordName.FINALIZER)) {
      if (remembered != null && !remembered.equals(name.get())) {
        changeRecords(r -> r.without(remembered), "removing the record of " + remembered + " (renamed)");
      }
      remember(proxy, name.get());
      LOG.info("proxy {}: DNS record for {}", proxy.getMetadata().getName(), name.get());
    }
    ProxyAddresses addresses = viaGroup ? ProxyAddresses.ofClusterIps(proxy) : ProxyAddresses.of(slicesOf(proxy));
    if (addresses.isEmpty()) {
      return Optional.empty(); // no ready pod yet; the EndpointSlice's change brings us back
    }
    ConfigMap cm = records.get(new ResourceID(DnsRecords.CONFIG_MAP, ctx.config().namespace())).orElse(null);
    if (cm == null) {
      LOG.info("the {} ConfigMap does not exist (yet); DNS records are written once it does", DnsRecords.CONFIG_MAP);
      return Optional.empty();
    }
    if (cm.getData() == null || !cm.getData().containsKey(DnsRecords.KEY)) {
      // first the file, then (shortly) the record: see the class comment
      write(cm, DnsRecords.empty());
      return Optional.of(AFTER_FILE_CREATED);
    }
    changeRecords(r -> r.with(name.get(), addresses.ipv4List(), addresses.ipv6List()), "DNS record of " + name.get());
    return Optional.empty();
  }

  /** Whether the proxy's name may appear later (an Ingress whose MagicDNS name is not known yet). */
  private boolean waitingForName(Service proxy) {
    return ChildLabels.parentOf(proxy.getMetadata().getLabels(), ParentRef.TYPE_INGRESS).isPresent();
  }

  /** The name the proxy's record has, or empty (not a proxy with a record, or not known yet). */
  Optional<String> recordName(Service proxy) {
    if (ProxyRecordName.isGroupEgressService(proxy)) {
      Map<String, String> l = proxy.getMetadata().getLabels();
      return parentServices.apply(l.get(TailscaleKeys.LABEL_PARENT_NAMESPACE), l.get(TailscaleKeys.LABEL_PARENT_NAME))
          .flatMap(ProxyRecordName::forService);
    }
    Optional<ParentRef> ingress = ChildLabels.parentOf(proxy.getMetadata().getLabels(), ParentRef.TYPE_INGRESS);
    if (ingress.isPresent()) {
      return ingresses.get(new ResourceID(ingress.get().name(), ingress.get().namespace()))
          .flatMap(ProxyRecordName::forIngress);
    }
    return ChildLabels.parentOf(proxy.getMetadata().getLabels(), ParentRef.TYPE_SERVICE)
        .flatMap(p -> parentServices.apply(p.namespace(), p.name())).flatMap(ProxyRecordName::forService);
  }

  private void changeRecords(java.util.function.UnaryOperator<DnsRecords> change, String what)
      throws ProvisionException {
    ConfigMap cm = records.get(new ResourceID(DnsRecords.CONFIG_MAP, ctx.config().namespace())).orElse(null);
    if (cm == null || cm.getData() == null || !cm.getData().containsKey(DnsRecords.KEY)) {
      return; // nothing to change (upstream: nothing to remove when the ConfigMap is gone)
    }
    String raw = cm.getData().get(DnsRecords.KEY);
    DnsRecords current;
    try {
      current = DnsRecords.parse(raw);
    } catch (IOException e) {
      throw new ProvisionException("the " + DnsRecords.KEY + " of ConfigMap " + ctx.config().namespace() + "/"
          + DnsRecords.CONFIG_MAP + " is not readable (" + e.getMessage() + "); it is not changed: fix or delete it",
          "DNSRecordsUnreadable", false, e);
    }
    DnsRecords desired = change.apply(current);
    if (!desired.toJson().equals(raw) && !desired.equals(current)) {
      LOG.debug("{}: {}", what, desired.toJson());
      write(cm, desired);
    }
  }

  /** Writes the records, guarded by the ConfigMap's resourceVersion (a conflict is retried on a fresh copy). */
  private void write(ConfigMap cm, DnsRecords r) {
    Map<String, String> data = new LinkedHashMap<>(cm.getData() == null ? Map.of() : cm.getData());
    data.put(DnsRecords.KEY, r.toJson());
    ConfigMap updated = new ConfigMapBuilder(cm).withData(data).build();
    ctx.client().resource(updated).update();
  }

  private void remember(Service proxy, String name) {
    Service updated = PrimaryUpdateAndCacheUtils.conflictRetryingPatch(ctx.client(), proxy, s -> {
      s.getMetadata().setAnnotations(withAnnotation(s.getMetadata().getAnnotations(), name));
      if (!s.hasFinalizer(ProxyRecordName.FINALIZER)) {
        s.addFinalizer(ProxyRecordName.FINALIZER);
      }
      return s;
    }, s -> true);
    LOG.debug("proxy {} remembers its DNS name {}", updated.getMetadata().getName(), name);
  }

  private void forget(Service proxy) {
    PrimaryUpdateAndCacheUtils.conflictRetryingPatch(ctx.client(), proxy, s -> {
      s.getMetadata().setAnnotations(withAnnotation(s.getMetadata().getAnnotations(), null));
      s.removeFinalizer(ProxyRecordName.FINALIZER);
      return s;
    }, s -> true);
  }

  private void removeFinalizer(Service proxy) {
    try {
      PrimaryUpdateAndCacheUtils.removeFinalizer(ctx.client(), proxy, ProxyRecordName.FINALIZER);
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
    }
  }

  private static Map<String, String> withAnnotation(Map<String, String> annotations, String name) {
    Map<String, String> out = new LinkedHashMap<>(annotations == null ? Map.of() : annotations);
    if (name == null) {
      out.remove(ProxyRecordName.ANNOTATION);
    } else {
      out.put(ProxyRecordName.ANNOTATION, name);
    }
    return out.isEmpty() ? null : out;
  }

  private static String annotation(Service proxy) {
    var a = proxy.getMetadata().getAnnotations();
    return a == null ? null : a.get(ProxyRecordName.ANNOTATION);
  }

  /** The label of an EndpointSlice that names its Service. */
  static final class EndpointSliceLabel {
    static final String SERVICE_NAME = "kubernetes.io/service-name";

    private EndpointSliceLabel() {
    }

    static String serviceOf(EndpointSlice s) {
      var l = s.getMetadata().getLabels();
      return l == null ? "" : l.getOrDefault(SERVICE_NAME, "");
    }
  }
}
