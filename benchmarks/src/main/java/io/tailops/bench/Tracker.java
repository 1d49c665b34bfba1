package io.tailops.bench;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.tailops.testkit.tailscale.FakeDevice;
import io.tailops.testkit.tailscale.FakeTailscaleApi;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Watches (with its own informers, user agent {@code tsop-bench}) the benchmark's Services and their proxy objects
 * and records, per Service, when each milestone was first seen. Times are {@link System#nanoTime()} values.
 */
final class Tracker implements AutoCloseable {
  static final String BENCH_LABEL = "tsop-bench";
  static final String FINALIZER = "tailscale.com/finalizer";

  /** Milestones of one benchmark Service (0 = not seen yet). */
  static final class Rec {
    final String key;
    volatile long created;
    volatile long finalizer;
    volatile long sts;
    volatile long secret;
    volatile long headless;
    volatile long device;
    volatile long lb;
    volatile String deviceId;
    volatile String lbIp;
    volatile long deleteRequested;
    volatile long svcGone;
    volatile long stsGone;
    volatile long secretGone;
    volatile long headlessGone;
    volatile long deviceGone;

    Rec(String key) {
      this.key = key;
    }

    long objects() {
      return sts == 0 || secret == 0 || headless == 0 ? 0 : Math.max(sts, Math.max(secret, headless));
    }

    long objectsGone() {
      return svcGone == 0 || stsGone == 0 || secretGone == 0 || headlessGone == 0 ? 0
          : Math.max(Math.max(svcGone, stsGone), Math.max(secretGone, headlessGone));
    }
  }

  private final Map<String, Rec> recs = new ConcurrentHashMap<>();
  private final List<SharedIndexInformer<?>> informers = new ArrayList<>();
  private final ScheduledExecutorService poller = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "bench-device-poller");
    t.setDaemon(true);
    return t;
  });

  Tracker(KubernetesClient client, String operatorNamespace, FakeTailscaleApi tailnet) {
    informers.add(client.services().inAnyNamespace().withLabel(BENCH_LABEL, "true").inform(handler(this::service,
        this::serviceGone), 0));
    String parentSvc = "tailscale.com/parent-resource-type";
    informers.add(client.apps().statefulSets().inNamespace(operatorNamespace).withLabel(parentSvc, "svc")
        .inform(handler(o -> child(o, r -> r.sts == 0, r -> r.sts = now()), o -> child(o, r -> r.stsGone == 0,
            r -> r.stsGone = now())), 0));
    informers.add(client.secrets().inNamespace(operatorNamespace).withLabel(parentSvc, "svc")
        .inform(handler(this::secret, o -> child(o, r -> r.secretGone == 0, r -> r.secretGone = now())), 0));
    informers.add(client.services().inNamespace(operatorNamespace).withLabel(parentSvc, "svc")
        .inform(handler(o -> child(o, r -> r.headless == 0, r -> r.headless = now()), o -> child(o,
            r -> r.headlessGone == 0, r -> r.headlessGone = now())), 0));
    poller.scheduleWithFixedDelay(() -> pollDevices(tailnet), 100, 100, TimeUnit.MILLISECONDS);
  }

  static long now() {
    return System.nanoTime();
  }

  Rec rec(String key) {
    return recs.computeIfAbsent(key, Rec::new);
  }

  Collection<Rec> recs() {
    return recs.values();
  }

  void clear() {
    recs.clear();
  }

  private static <T extends HasMetadata> ResourceEventHandler<T> handler(java.util.function.Consumer<T> upsert,
      java.util.function.Consumer<T> delete) {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(T obj) {
        upsert.accept(obj);
      }

      @Override
      public void onUpdate(T oldObj, T newObj) {
        upsert.accept(newObj);
      }

      @Override
      public void onDelete(T obj, boolean deletedFinalStateUnknown) {
        delete.accept(obj);
      }
    };
  }

  private void service(Service svc) {
    Rec r = recs.get(svc.getMetadata().getNamespace() + "/" + svc.getMetadata().getName());
    if (r == null) {
      return;
    }
    if (r.finalizer == 0 && svc.getMetadata().getFinalizers() != null
        && svc.getMetadata().getFinalizers().contains(FINALIZER)) {
      r.finalizer = now();
    }
    if (r.lb == 0 && svc.getStatus() != null && svc.getStatus().getLoadBalancer() != null
        && svc.getStatus().getLoadBalancer().getIngress() != null) {
      for (LoadBalancerIngress in : svc.getStatus().getLoadBalancer().getIngress()) {
        if (in.getIp() != null && !in.getIp().isEmpty()) {
          r.lbIp = in.getIp();
          r.lb = now();
          break;
        }
      }
    }
  }

  private void serviceGone(Service svc) {
    Rec r = recs.get(svc.getMetadata().getNamespace() + "/" + svc.getMetadata().getName());
    if (r != null && r.svcGone == 0) {
      r.svcGone = now();
    }
  }

  private void secret(Secret s) {
    child(s, r -> r.secret == 0, r -> r.secret = now());
    String dev = s.getData() == null ? null : s.getData().get("device_id");
    if (dev != null) {
      child(s, r -> r.device == 0, r -> {
        r.deviceId = new String(Base64.getDecoder().decode(dev), StandardCharsets.UTF_8);
        r.device = now();
      });
    }
  }

  private void child(HasMetadata o, java.util.function.Predicate<Rec> when, java.util.function.Consumer<Rec> set) {
    Map<String, String> l = o.getMetadata().getLabels();
    if (l == null) {
      return;
    }
    Rec r = recs.get(l.get("tailscale.com/parent-resource-ns") + "/" + l.get("tailscale.com/parent-resource"));
    if (r != null && when.test(r)) {
      set.accept(r);
    }
  }

  private void pollDevices(FakeTailscaleApi tailnet) {
    try {
      boolean any = false;
      for (Rec r : recs.values()) {
        if (r.deleteRequested != 0 && r.deviceGone == 0) {
          any = true;
          break;
        }
      }
      if (!any) {
        return;
      }
      Set<String> ids = new HashSet<>();
      for (FakeDevice d : tailnet.devices()) {
        ids.add(d.nodeId());
      }
      long t = now();
      for (Rec r : recs.values()) {
        if (r.deleteRequested != 0 && r.deviceGone == 0 && (r.deviceId == null || !ids.contains(r.deviceId))) {
          r.deviceGone = t;
        }
      }
    } catch (RuntimeException e) {
      // keep polling
    }
  }

  @Override
  public void close() {
    poller.shutdownNow();
    informers.forEach(SharedIndexInformer::close);
  }
}
