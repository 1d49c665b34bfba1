package io.tailops.operator.proxyclass;

import static io.tailops.operator.k8s.TailscaleKeys.CONDITION_PROXY_CLASS_READY;
import static io.tailops.operator.k8s.TailscaleKeys.FINALIZER;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.tailops.api.v1alpha1.ProxyClass;
import io.tailops.api.v1alpha1.ProxyClassStatus;
import io.javaoperatorsdk.operator.api.reconciler.PrimaryUpdateAndCacheUtils;
import io.tailops.operator.proxy.ProxyClassEffects;
import io.tailops.operator.reconcile.OperatorContext;
import io.tailops.operator.reconcile.RetryingReconcile;
import io.tailops.operator.status.Conditions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Validates ProxyClasses and reports {@code ProxyClassReady} (§4.2). Beyond upstream, a ProxyClass that is still used
 * by a Service or Ingress is not deleted until nothing uses it: the class and its users are told why.
 */
public class ProxyClassReconciler implements Reconciler<ProxyClass> {
  public static final String NAME = "proxyclass-reconciler";
  public static final String SERVICE_MONITOR_CRD = "servicemonitors.monitoring.coreos.com";
  private static final Logger LOG = LoggerFactory.getLogger(ProxyClassReconciler.class);
  private static final Duration IN_USE_RECHECK = Duration.ofSeconds(30);

  private final OperatorContext ctx;
  private final io.tailops.operator.k8s.ProxyClassUsers users;
  /** Warnings already reported per class generation, so resyncs record nothing new. */
  private final Map<String, Long> warnedGeneration = new ConcurrentHashMap<>();
  private final Map<String, List<String>> reportedUsers = new ConcurrentHashMap<>();
  private final RetryingReconcile<ProxyClass> retries;

  public ProxyClassReconciler(OperatorContext ctx, io.tailops.operator.k8s.ProxyClassUsers users) {
    this.ctx = ctx;
    this.users = users;
    this.retries = new RetryingReconcile<>(NAME, ctx);
  }

  @Override
  public java.util.List<io.javaoperatorsdk.operator.processing.event.source.EventSource<?, ProxyClass>>
      prepareEventSources(io.javaoperatorsdk.operator.api.reconciler.EventSourceContext<ProxyClass> context) {
    return List.of(retries.eventSource());
  }

  @Override
  public UpdateControl<ProxyClass> reconcile(ProxyClass pc, Context<ProxyClass> context) {
    return retries.reconcile(pc, p -> reconcileClass(p, context));
  }

  private Optional<Duration> reconcileClass(ProxyClass pc, Context<ProxyClass> context) {
    String name = pc.getMetadata().getName();
    if (context.isPrimaryResourceDeleted()) {
      warnedGeneration.remove(name);
      reportedUsers.remove(name);
      return Optional.empty();
    }
    if (pc.getMetadata().getDeletionTimestamp() != null) {
      return deleting(pc);
    }
    if (!pc.hasFinalizer(FINALIZER)) {
      ProxyClass updated = PrimaryUpdateAndCacheUtils.addFinalizer(ctx.client(), pc, FINALIZER);
      context.eventSourceRetriever().getControllerEventSource()
          .handleRecentResourceUpdate(ResourceID.fromResource(pc), updated, pc);
      pc = updated;
    }
    ProxyClassValidator.Result result = ProxyClassValidator.validate(pc, serviceMonitorCrdExists(pc));
    Long generation = pc.getMetadata().getGeneration();
    List<String> ineffective = ProxyClassEffects.findings(pc);
    if (!Objects.equals(warnedGeneration.put(name, generation), generation)) {
      for (String w : result.warnings()) {
        ctx.events().warning(pc, "CustomTSEnvVar", w);
      }
      for (String f : ineffective) {
        ctx.events().warning(pc, ProxyClassEffects.REASON, f);
      }
    }
    List<Condition> current = pc.getStatus() == null ? List.of() : pc.getStatus().getConditions();
    // Valid, as upstream; settings that do nothing (or break the proxies) are named in the message.
    String validMessage = ineffective.isEmpty() ? "ProxyClassValid" : "ProxyClassValid, but: "
        + String.join("; ", ineffective);
    List<Condition> desired = result.valid()
        ? Conditions.set(current, CONDITION_PROXY_CLASS_READY, true, "ProxyClassValid", validMessage, generation,
            ctx.clock())
        : Conditions.set(current, CONDITION_PROXY_CLASS_READY, false, "ProxyClassInvalid", result.message(),
            generation, ctx.clock());
    if (!Conditions.same(current, desired)) {
      Optional<Condition> before = Conditions.find(current, CONDITION_PROXY_CLASS_READY);
      writeStatus(pc, desired, context);
      boolean changed = before.isEmpty() || !Objects.equals(before.get().getMessage(),
          Conditions.find(desired, CONDITION_PROXY_CLASS_READY).get().getMessage());
      if (!result.valid() && changed) {
        ctx.events().warning(pc, "ProxyClassInvalid", result.message());
      }
    }
    return Optional.empty();
  }

  private Optional<Duration> deleting(ProxyClass pc) {
    String name = pc.getMetadata().getName();
    List<String> inUse = users.usersOf(name);
    if (!inUse.isEmpty()) {
      if (!inUse.equals(reportedUsers.put(name, inUse))) {
        String list = String.join(", ", inUse.subList(0, Math.min(10, inUse.size())))
            + (inUse.size() > 10 ? " and " + (inUse.size() - 10) + " more" : "");
        ctx.events().warning(pc, "ProxyClassInUse", "ProxyClass " + name + " is still used by " + list
            + "; it will be deleted once nothing uses it (their proxies keep their current configuration)");
      }
      return Optional.of(IN_USE_RECHECK);
    }
    if (pc.hasFinalizer(FINALIZER)) {
      try {
        PrimaryUpdateAndCacheUtils.removeFinalizer(ctx.client(), pc, FINALIZER);
      } catch (KubernetesClientException e) {
        if (e.getCode() != 404) {
          throw e;
        }
      }
    }
    reportedUsers.remove(name);
    warnedGeneration.remove(name);
    return Optional.empty();
  }

  private Boolean serviceMonitorCrdExists(ProxyClass pc) {
    var m = pc.getSpec() == null ? null : pc.getSpec().getMetrics();
    if (m == null || m.getServiceMonitor() == null || !Boolean.TRUE.equals(m.getServiceMonitor().getEnable())) {
      return null;
    }
    try {
      return ctx.client().resources(CustomResourceDefinition.class).withName(SERVICE_MONITOR_CRD).get() != null;
    } catch (KubernetesClientException e) {
      LOG.debug("cannot check for the ServiceMonitor CRD: {}", e.getMessage());
      return null;
    }
  }

  /** The status by JOSDK's optimistic-locking update (retried on a fresh copy after a conflict, cached after). */
  private void writeStatus(ProxyClass pc, List<Condition> conditions, Context<ProxyClass> context) {
    try {
      PrimaryUpdateAndCacheUtils.updateStatusAndCacheResource(pc, context, fresh -> {
        ProxyClass copy = new ProxyClass();
        copy.setMetadata(fresh.getMetadata());
        copy.setSpec(fresh.getSpec());
        ProxyClassStatus status = new ProxyClassStatus();
        status.setConditions(conditions);
        copy.setStatus(status);
        return copy;
      });
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
      LOG.debug("ProxyClass {} is gone; its status is not written", pc.getMetadata().getName());
    }
  }
}
