package io.tailops.operator.dns;

import static io.tailops.operator.k8s.TailscaleKeys.FINALIZER;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.PrimaryUpdateAndCacheUtils;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.tailops.api.v1alpha1.DNSConfig;
import io.tailops.api.v1alpha1.DNSConfigStatus;
import io.tailops.api.v1alpha1.NameserverStatus;
import io.tailops.operator.k8s.StoreWithoutManagedFields;
import io.tailops.operator.k8s.TailscaleKeys;
import io.tailops.operator.proxy.Drift;
import io.tailops.operator.proxy.ProvisionException;
import io.tailops.operator.reconcile.OperatorContext;
import io.tailops.operator.reconcile.RetryingReconcile;
import io.tailops.operator.status.Conditions;
import io.tailops.operator.status.Problem;
import io.tailops.operator.status.ProblemReporter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The in-cluster ts.net nameserver of a DNSConfig (nameserver.go): the ServiceAccount, Deployment, Service and records
 * ConfigMap of {@link NameserverResources} in the operator namespace, owned by the DNSConfig (deleting it deletes
 * them), kept as desired (a hand edit is put back, with an Event), and the status: {@code NameserverReady} and
 * {@code status.nameserver.ip} once the Service has its address. One DNSConfig per cluster is served (see
 * {@link Nameservers}). The records themselves are {@link DnsRecordsReconciler}'s.
 */
public final class NameserverReconciler implements Reconciler<DNSConfig> {
  public static final String NAME = "nameserver-reconciler";
  private static final Logger LOG = LoggerFactory.getLogger(NameserverReconciler.class);
  private static final String SELECTOR = TailscaleKeys.LABEL_MANAGED + "=true," + TailscaleKeys.LABEL_PARENT_TYPE
      + "=nameserver";

  private final OperatorContext ctx;
  private final RetryingReconcile<DNSConfig> retries;
  private final ProblemReporter notes;
  private InformerEventSource<Deployment, DNSConfig> deployments;
  private InformerEventSource<Service, DNSConfig> services;
  private InformerEventSource<ConfigMap, DNSConfig> configMaps;
  private InformerEventSource<ServiceAccount, DNSConfig> serviceAccounts;

  public NameserverReconciler(OperatorContext ctx) {
    this.ctx = ctx;
    this.retries = new RetryingReconcile<>(NAME, ctx);
    this.notes = new ProblemReporter(ctx.events());
  }

  @Override
  public List<EventSource<?, DNSConfig>> prepareEventSources(EventSourceContext<DNSConfig> context) {
    deployments = owned(context, Deployment.class, "deployments");
    services = owned(context, Service.class, "services");
    configMaps = owned(context, ConfigMap.class, "configmaps");
    serviceAccounts = owned(context, ServiceAccount.class, "serviceaccounts");
    // every DNSConfig is looked at again when another comes or goes (which one is served may change)
    InformerEventSource<DNSConfig, DNSConfig> others = new InformerEventSource<>(InformerEventSourceConfiguration
        .from(DNSConfig.class, DNSConfig.class).withName("nameserver-dnsconfigs")
        .withSecondaryToPrimaryMapper(dc -> context.getPrimaryCache().list().map(ResourceID::fromResource)
            .collect(java.util.stream.Collectors.toSet()))
        .withItemStore(new StoreWithoutManagedFields<>()).build(), context);
    return List.of(deployments, services, configMaps, serviceAccounts, others, retries.eventSource());
  }

  private <T extends HasMetadata> InformerEventSource<T, DNSConfig> owned(EventSourceContext<DNSConfig> context,
      Class<T> type, String what) {
    return new InformerEventSource<>(InformerEventSourceConfiguration.from(type, DNSConfig.class)
        .withName("nameserver-" + what).withNamespaces(Set.of(ctx.config().namespace())).withLabelSelector(SELECTOR)
        .withSecondaryToPrimaryMapper(o -> {
          String parent = o.getMetadata().getLabels() == null ? null
              : o.getMetadata().getLabels().get(TailscaleKeys.LABEL_PARENT_NAME);
          return parent == null ? Set.of() : Set.of(new ResourceID(parent));
        }).withItemStore(new StoreWithoutManagedFields<>()).build(), context);
  }

  @Override
  public UpdateControl<DNSConfig> reconcile(DNSConfig dc, Context<DNSConfig> context) {
    return retries.reconcile(dc, d -> reconcileOne(d, context));
  }

  private Optional<Duration> reconcileOne(DNSConfig dc, Context<DNSConfig> context) throws ProvisionException {
    if (context.isPrimaryResourceDeleted()) {
      notes.forget(dc);
      return Optional.empty();
    }
    if (dc.getMetadata().getDeletionTimestamp() != null) {
      // the objects are owned by the DNSConfig: the garbage collector deletes them
      if (dc.hasFinalizer(FINALIZER)) {
        try {
          PrimaryUpdateAndCacheUtils.removeFinalizer(ctx.client(), dc, FINALIZER);
        } catch (KubernetesClientException e) {
          if (e.getCode() != 404) {
            throw e;
          }
        }
        LOG.info("DNSConfig {} deleted: its nameserver goes with it", dc.getMetadata().getName());
      }
      notes.forget(dc);
      return Optional.empty();
    }
    List<DNSConfig> all = context.getPrimaryCache().list().toList();
    DNSConfig served = Nameservers.served(all).orElse(dc);
    if (!served.getMetadata().getName().equals(dc.getMetadata().getName())) {
      Problem p = Nameservers.notServed(served);
      writeStatus(dc, context, Nameservers.conditions(dc, Optional.empty(), p, ctx.clock()).orElseThrow(), null, p);
      notes.report(dc, List.of());
      return Optional.empty();
    }
    if (!dc.hasFinalizer(FINALIZER)) {
      DNSConfig updated = PrimaryUpdateAndCacheUtils.addFinalizer(ctx.client(), dc, FINALIZER);
      context.eventSourceRetriever().getControllerEventSource()
          .handleRecentResourceUpdate(ResourceID.fromResource(dc), updated, dc);
      dc = updated;
    }
    String ns = ctx.config().namespace();
    List<Problem> found = new ArrayList<>();
    if (all.size() > 1) {
      found.add(Problem.warning(Nameservers.REASON_MULTIPLE, Nameservers.MESSAGE_MULTIPLE + " This one (the oldest) "
          + "is served; the others are not."));
    }
    try {
      ensure(dc, serviceAccounts, NameserverResources.serviceAccount(dc, ns), false);
      ConfigMap records = NameserverResources.recordsConfigMap(dc, ns);
      // created with empty records: a key that appears later is linked into the pod's volume only after the swap the
      // nameserver watches, so its first record could be missed (see DnsRecordsReconciler)
      records.setData(new LinkedHashMap<>(Map.of(DnsRecords.KEY, DnsRecords.empty().toJson())));
      ensure(dc, configMaps, records, true);
      Service svc = ensure(dc, services, NameserverResources.service(dc, ns), false);
      ensure(dc, deployments, NameserverResources.deployment(dc, ns), false);
      Optional<String> address = Nameservers.address(svc);
      String wantedIp = NameserverResources.service(dc, ns).getSpec().getClusterIP();
      if (wantedIp != null && address.isPresent() && !wantedIp.equals(address.get())) {
        found.add(Problem.warning("NameserverClusterIPImmutable", "spec.nameserver.service.clusterIP is " + wantedIp
            + " but the nameserver Service has " + address.get() + ", and a cluster IP cannot change: delete the "
            + "Service " + ns + "/" + NameserverResources.NAME + " to have it created again with " + wantedIp));
      }
      Optional<List<io.fabric8.kubernetes.api.model.Condition>> conditions = Nameservers.conditions(dc, address,
          null, ctx.clock());
      if (conditions.isPresent()) {
        boolean wasReady = Nameservers.isReady(dc);
        writeStatus(dc, context, conditions.get(), address.get(), null);
        if (!wasReady) {
          ctx.events().normal(dc, Nameservers.REASON_CREATED, "the ts.net nameserver is ready at " + address.get()
              + ": have the cluster DNS forward ts.net there (CoreDNS: a server block for ts.net:53 with forward . "
              + address.get() + ")");
        }
      }
    } catch (KubernetesClientException e) {
      String msg = "Failed creating nameserver resources: " + e.getMessage();
      Problem p = Problem.warning(Nameservers.REASON_FAILED, msg);
      writeStatus(dc, context, Nameservers.conditions(dc, Optional.empty(), p, ctx.clock()).orElseThrow(), null, p);
      throw new ProvisionException(msg, Nameservers.REASON_FAILED, true, e);
    }
    notes.report(dc, found);
    return Optional.empty();
  }

  /**
   * Creates {@code desired} when missing, or puts back what differs from it (the fields it sets; the records
   * ConfigMap's data is the records reconciler's and never compared); returns the live object.
   */
  private <T extends HasMetadata> T ensure(DNSConfig dc, InformerEventSource<T, DNSConfig> cache, T desired,
      boolean metadataOnly) {
    String ns = desired.getMetadata().getNamespace();
    Optional<T> live = cache.get(new ResourceID(desired.getMetadata().getName(), ns));
    if (live.isEmpty()) {
      try {
        T created = ctx.client().resource(desired).create();
        LOG.info("DNSConfig {}: created {} {}/{}", dc.getMetadata().getName(), desired.getKind(), ns,
            desired.getMetadata().getName());
        return created;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409) {
          throw e;
        }
        return ctx.client().resource(desired).get(); // created meanwhile (the cache lags)
      }
    }
    T current = live.get();
    List<String> drift = new ArrayList<>(Drift.differences(desired.getMetadata().getLabels(),
        current.getMetadata().getLabels(), "metadata.labels"));
    drift.addAll(Drift.differences(desired.getMetadata().getOwnerReferences(),
        current.getMetadata().getOwnerReferences(), "metadata.ownerReferences"));
    Object wantSpec = metadataOnly ? null : spec(desired);
    if (wantSpec != null) {
      drift.addAll(Drift.differences(wantSpec, spec(current), "spec"));
    }
    if (drift.isEmpty()) {
      return current;
    }
    T updated = PrimaryUpdateAndCacheUtils.conflictRetryingPatch(ctx.client(), current, o -> {
      Map<String, String> labels = new LinkedHashMap<>(o.getMetadata().getLabels() == null ? Map.of()
          : o.getMetadata().getLabels());
      labels.putAll(desired.getMetadata().getLabels());
      o.getMetadata().setLabels(labels);
      o.getMetadata().setOwnerReferences(desired.getMetadata().getOwnerReferences());
      if (o instanceof Deployment d) {
        d.setSpec(((Deployment) desired).getSpec());
      } else if (o instanceof Service s) {
        s.getSpec().setSelector(((Service) desired).getSpec().getSelector());
        s.getSpec().setPorts(((Service) desired).getSpec().getPorts());
      }
      return o;
    }, o -> true);
    String what = desired.getKind() + " " + ns + "/" + desired.getMetadata().getName();
    LOG.info("DNSConfig {}: updated {} ({})", dc.getMetadata().getName(), what, Drift.describe(drift));
    // a change of the DNSConfig's spec, or a hand edit of the object put back: the same write, said the same way
    ctx.events().normal(dc, "NameserverUpdated", "set " + Drift.describe(drift) + " of " + what
        + " as the DNSConfig asks");
    return updated;
  }

  /** The part of an object's spec the reconciler sets. */
  private static Object spec(HasMetadata o) {
    if (o instanceof Deployment d) {
      return d.getSpec();
    }
    if (o instanceof Service s) {
      Map<String, Object> parts = new LinkedHashMap<>();
      parts.put("selector", s.getSpec().getSelector());
      parts.put("ports", s.getSpec().getPorts());
      return parts;
    }
    return null;
  }

  private void writeStatus(DNSConfig dc, Context<DNSConfig> context,
      List<io.fabric8.kubernetes.api.model.Condition> conditions, String ip, Problem changed) {
    DNSConfigStatus current = dc.getStatus();
    String currentIp = current == null || current.getNameserver() == null ? null : current.getNameserver().getIp();
    String wantIp = ip != null ? ip : currentIp;
    if (current != null && Conditions.same(current.getConditions(), conditions) && Objects.equals(currentIp, wantIp)) {
      return;
    }
    try {
      PrimaryUpdateAndCacheUtils.updateStatusAndCacheResource(dc, context, fresh -> {
        DNSConfig copy = new DNSConfig();
        copy.setMetadata(fresh.getMetadata());
        copy.setSpec(fresh.getSpec());
        DNSConfigStatus status = new DNSConfigStatus();
        status.setConditions(conditions);
        if (wantIp != null) {
          NameserverStatus n = new NameserverStatus();
          n.setIp(wantIp);
          status.setNameserver(n);
        }
        copy.setStatus(status);
        return copy;
      });
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
      return;
    }
    if (changed != null) {
      ctx.events().record(dc, changed.type(), changed.reason(), changed.message());
    }
  }
}
