package io.tailops.it.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.tailops.local.OperatorEnvironment;
import io.tailops.testkit.tailscale.FakeDevice;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Supplier;

/**
 * A seeded churn of Services (create, rename, expose/unexpose, irrelevant edits, delete) in one namespace, the model
 * of what should exist, and the end-state check of the operator's promises against that model: exactly one proxy per
 * exposed Service, nothing for the others, no orphaned object, no device without a proxy, no device left for a
 * deleted or unexposed Service, every LoadBalancer showing its device's address.
 */
final class World {
  static final String FINALIZER = "tailscale.com/finalizer";
  static final String PARENT_TYPE = "tailscale.com/parent-resource-type";
  static final String PARENT_NS = "tailscale.com/parent-resource-ns";
  static final String PARENT = "tailscale.com/parent-resource";

  /** What one Service should be. */
  static final class Slot {
    final String name;
    boolean exists;
    boolean exposed;
    boolean loadBalancer;
    String hostname;
    /** The egress target ({@code tailscale.com/tailnet-fqdn}) instead of an exposure, or null. */
    String egressTarget;
    int generation;

    Slot(String name) {
      this.name = name;
    }

    @Override
    public String toString() {
      return name + (exists ? (exposed ? (egressTarget != null ? "[egress to " + egressTarget + " "
          : loadBalancer ? "[LB " : "[annotation ") + hostname + "]" : "[not exposed]") : "[absent]");
    }
  }

  final OperatorEnvironment env;
  final KubernetesClient client;
  final String namespace;
  final Random random;
  final Map<String, Slot> slots = new LinkedHashMap<>();
  /** Proxy parents of the other kinds (Ingress, Connector, ProxyGroup, Recorder) in this world. */
  final List<Parent> parents = new ArrayList<>();
  /** Devices that are no proxy's (an egress proxy's target, added to the tailnet by the test). */
  final Set<String> foreignDevices = new HashSet<>();
  final List<String> log = new ArrayList<>();
  int ops;

  World(OperatorEnvironment env, KubernetesClient client, String namespace, long seed, int slotCount) {
    this.env = env;
    this.client = client;
    this.namespace = namespace;
    this.random = new Random(seed);
    for (int i = 0; i < slotCount; i++) {
      slots.put("s" + i, new Slot("s" + i));
    }
    env.createNamespace(namespace);
  }

  // ------------------------------------------------------------------------------------------------ churn

  /** One random operation on a random Service. */
  void step() {
    List<Slot> all = new ArrayList<>(slots.values());
    Slot s = all.get(random.nextInt(all.size()));
    ops++;
    if (!s.exists) {
      Service old = getQuietly(s.name);
      if (old != null) {
        log.add("skip create " + s.name + " (still terminating)");
        return;
      }
      s.generation++;
      s.loadBalancer = random.nextBoolean();
      s.exposed = random.nextInt(10) < 8;
      s.hostname = hostname(s);
      apply("create " + s, () -> {
        try {
          client.resource(build(s)).create();
        } catch (KubernetesClientException e) {
          Service existing = e.getCode() == 409 ? getQuietly(s.name) : null;
          if (existing == null || existing.getMetadata().getDeletionTimestamp() != null) {
            throw e; // a real failure, or the previous incarnation still terminating: retried
          }
          // created by an attempt whose answer was lost (API server restart): fine
        }
      });
      s.exists = true;
      return;
    }
    int r = random.nextInt(10);
    if (r < 3) {
      apply("delete " + s, () -> client.services().inNamespace(namespace).withName(s.name).delete());
      s.exists = false;
    } else if (r < 5) {
      s.exposed = !s.exposed;
      apply((s.exposed ? "expose " : "unexpose ") + s, () -> edit(s, svc -> desired(svc, s)));
    } else if (r < 7 && s.exposed) {
      s.generation++;
      s.hostname = hostname(s);
      apply("rename " + s, () -> edit(s, svc -> desired(svc, s)));
    } else {
      String v = Integer.toString(random.nextInt(1000));
      apply("touch " + s + " " + v, () -> edit(s, svc -> new ServiceBuilder(svc).editMetadata()
          .addToLabels("churn-touch", v).endMetadata().build()));
    }
  }

  /** Creates every Service of this world, exposed (a stable set that the churn does not touch). */
  void createAllExposed() {
    for (Slot s : slots.values()) {
      s.generation++;
      s.exists = true;
      s.exposed = true;
      s.loadBalancer = random.nextBoolean();
      s.hostname = hostname(s);
      apply("create " + s, () -> client.resource(build(s)).create());
    }
  }

  /** Deletes every Service of this world (the end of an iteration). */
  void deleteAll() {
    for (Slot s : slots.values()) {
      if (s.exists) {
        apply("delete " + s, () -> client.services().inNamespace(namespace).withName(s.name).delete());
        s.exists = false;
      }
    }
  }

  /** Creates the Service {@code name}, exposed by the annotation (a step of the crash-point phases). */
  Slot createExposed(String name) {
    Slot s = slots.get(name);
    s.generation++;
    s.exists = true;
    s.exposed = true;
    s.loadBalancer = false;
    s.hostname = hostname(s);
    apply("create " + s, () -> client.resource(build(s)).create());
    return s;
  }

  /** Creates the Service {@code name} as an egress proxy to the tailnet name {@code target}. */
  Slot createEgress(String name, String target) {
    Slot s = slots.get(name);
    s.generation++;
    s.exists = true;
    s.exposed = true;
    s.loadBalancer = false;
    s.egressTarget = target;
    s.hostname = hostname(s);
    apply("create " + s, () -> client.resource(build(s)).create());
    return s;
  }

  /** Points an egress Service at another tailnet name. */
  void retarget(Slot s, String target) {
    s.egressTarget = target;
    apply("retarget " + s, () -> edit(s, svc -> desired(svc, s)));
  }

  /** Gives an exposed Service a new {@code tailscale.com/hostname}. */
  void rename(Slot s) {
    s.generation++;
    s.hostname = hostname(s);
    apply("rename " + s, () -> edit(s, svc -> desired(svc, s)));
  }

  /** Deletes a Service. */
  void delete(Slot s) {
    apply("delete " + s, () -> client.services().inNamespace(namespace).withName(s.name).delete());
    s.exists = false;
  }

  private Service getQuietly(String name) {
    for (int i = 0; i < 100; i++) {
      try {
        return client.services().inNamespace(namespace).withName(name).get();
      } catch (KubernetesClientException e) {
        sleep(200); // API server restarting
      }
    }
    return client.services().inNamespace(namespace).withName(name).get();
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private String hostname(Slot s) {
    return namespace + "-" + s.name + "-g" + s.generation;
  }

  private void edit(Slot s, java.util.function.UnaryOperator<Service> f) {
    client.services().inNamespace(namespace).withName(s.name).edit(f);
  }

  private Service build(Slot s) {
    Service base = new ServiceBuilder().withNewMetadata().withNamespace(namespace).withName(s.name).endMetadata()
        .withNewSpec().withType("ClusterIP").addToSelector("app", s.name).addNewPort().withName("http").withPort(80)
        .endPort().endSpec().build();
    return desired(base, s);
  }

  /** The Service as the model wants it: exposed by annotation or as a tailscale LoadBalancer, with the hostname. */
  private static Service desired(Service svc, Slot s) {
    ServiceBuilder b = new ServiceBuilder(svc);
    b.editMetadata().removeFromAnnotations("tailscale.com/expose").addToAnnotations("tailscale.com/hostname",
        s.hostname).endMetadata();
    if (s.egressTarget != null) {
      b.editMetadata().addToAnnotations("tailscale.com/tailnet-fqdn", s.egressTarget).endMetadata();
    } else if (s.loadBalancer) {
      if (s.exposed) {
        b.editSpec().withType("LoadBalancer").withLoadBalancerClass("tailscale").withAllocateLoadBalancerNodePorts(false)
            .endSpec();
      } else {
        b.editSpec().withType("ClusterIP").withLoadBalancerClass(null).withAllocateLoadBalancerNodePorts(null)
            .endSpec();
      }
    } else if (s.exposed) {
      b.editMetadata().addToAnnotations("tailscale.com/expose", "true").endMetadata();
    }
    return b.build();
  }

  /** Runs an API call, retrying while the API server is unreachable or answers 5xx/429/409 (up to 60 s). */
  void apply(String what, Runnable call) {
    log.add(what);
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (true) {
      try {
        call.run();
        return;
      } catch (KubernetesClientException e) {
        boolean retry = e.getCode() == 0 || e.getCode() == 409 || e.getCode() == 429 || e.getCode() >= 500;
        if (e.getCode() == 404 && what.startsWith("delete")) {
          return;
        }
        if (!retry || System.nanoTime() > deadline) {
          throw e;
        }
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(ie);
      }
    }
  }

  String describe() {
    return slots.values().toString();
  }

  // ------------------------------------------------------------------------------------------------ end state

  /**
   * A proxy parent of another kind than a Service's {@link Slot}: what its converged state must be. Its proxy objects
   * in the operator namespace are found by their parent labels ({@link #key}).
   */
  abstract static class Parent {
    final String type;
    final String namespace;
    final String name;
    boolean exists;

    /**
     * @param type the {@code tailscale.com/parent-resource-type} of its proxy objects ({@code recorder} for a
     *     Recorder's, labelled {@code app.kubernetes.io/instance} instead)
     * @param namespace its namespace, "" when cluster-scoped
     */
    Parent(String type, String namespace, String name) {
      this.type = type;
      this.namespace = namespace;
      this.name = name;
    }

    String key() {
      return type + " " + namespace + "/" + name;
    }

    /** The parent object as a user first creates it. */
    abstract HasMetadata build();

    /** The parent object as the API server has it, or null. */
    abstract HasMetadata get(KubernetesClient c);

    /** The DNS labels of its devices, one per replica. */
    abstract List<String> hostnames();

    /** Its proxy StatefulSets, Secrets and headless Services in the operator namespace. */
    int statefulSets() {
      return 1;
    }

    abstract int secrets();

    int headlessServices() {
      return 0;
    }

    /** What else a converged parent shows: its status, its proxy's config; {@code devices} are its devices. */
    abstract void assertReady(OperatorEnvironment env, HasMetadata parent, List<StatefulSet> sets,
        List<FakeDevice> devices);

    @Override
    public String toString() {
      return key() + (exists ? hostnames().toString() : "[absent]");
    }
  }

  /**
   * Every proxy object in the operator namespace by its parent, {@code <type> <namespace>/<name>} (namespace "" for a
   * cluster-scoped parent); a Recorder's objects as {@code recorder /<name>}.
   */
  static <T extends HasMetadata> Map<String, List<T>> byParent(List<T> objs) {
    Map<String, List<T>> out = new HashMap<>();
    for (T o : objs) {
      Map<String, String> l = o.getMetadata().getLabels();
      if (l == null) {
        continue;
      }
      String key = null;
      if (l.get(PARENT_TYPE) != null) {
        key = l.get(PARENT_TYPE) + " " + l.getOrDefault(PARENT_NS, "") + "/" + l.get(PARENT);
      } else if ("recorder".equals(l.get("app.kubernetes.io/name")) && l.get("app.kubernetes.io/instance") != null) {
        key = "recorder /" + l.get("app.kubernetes.io/instance");
      }
      if (key != null) {
        out.computeIfAbsent(key, k -> new ArrayList<>()).add(o);
      }
    }
    return out;
  }

  /** The device a proxy's state Secret names: containerboot's {@code device_id}, or tsrecorder's profile. */
  static String deviceIdOf(Secret s) {
    String id = data(s, "device_id");
    if (id != null) {
      return id;
    }
    try {
      return io.tailops.operator.recorder.RecorderDeviceInfo.of(s).map(
          io.tailops.operator.recorder.RecorderDeviceInfo::nodeId).orElse(null);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  static String data(Secret s, String key) {
    String v = s.getData() == null ? null : s.getData().get(key);
    return v == null ? null : new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8);
  }

  /**
   * Asserts the converged end state of the given worlds (all worlds that share this operator, so that objects of
   * one are not orphans of another) and of the whole operator namespace and tailnet.
   */
  static void assertConverged(OperatorEnvironment env, List<World> worlds) {
    KubernetesClient c = env.client();
    String opNs = OperatorEnvironment.NAMESPACE;
    Map<String, List<StatefulSet>> sets = byParent(c.apps().statefulSets().inNamespace(opNs).list().getItems());
    Map<String, List<Secret>> secrets = byParent(c.secrets().inNamespace(opNs).list().getItems());
    Map<String, List<Service>> headless = byParent(c.services().inNamespace(opNs).list().getItems());
    Set<String> expectedParents = new HashSet<>();
    Set<String> liveDevices = new HashSet<>();
    for (World w : worlds) {
      for (Slot s : w.slots.values()) {
        String key = "svc " + w.namespace + "/" + s.name;
        Service svc = c.services().inNamespace(w.namespace).withName(s.name).get();
        if (!s.exists) {
          assertThat(svc).as("%s should be gone", key).isNull();
          continue;
        }
        assertThat(svc).as("%s should exist", key).isNotNull();
        List<String> finalizers = svc.getMetadata().getFinalizers() == null ? List.of()
            : svc.getMetadata().getFinalizers();
        if (!s.exposed) {
          assertThat(finalizers).as("finalizer of unexposed %s", key).doesNotContain(FINALIZER);
          assertThat(condition(svc)).as("condition of unexposed %s", key).isNull();
          continue;
        }
        expectedParents.add(key);
        assertThat(finalizers).as("finalizer of %s", key).contains(FINALIZER);
        assertThat(sets.getOrDefault(key, List.of())).as("StatefulSets of %s", key).hasSize(1);
        assertThat(headless.getOrDefault(key, List.of())).as("headless Services of %s", key).hasSize(1);
        List<Secret> sec = secrets.getOrDefault(key, List.of());
        assertThat(sec).as("Secrets of %s", key).hasSize(1);
        String deviceId = data(sec.get(0), "device_id");
        assertThat(deviceId).as("device of %s", key).isNotNull();
        FakeDevice d = env.tailnet().device(deviceId).orElse(null);
        assertThat(d).as("device %s of %s in the tailnet", deviceId, key).isNotNull();
        assertThat(d.dnsLabel()).as("device name of %s", key).isEqualTo(s.hostname);
        liveDevices.add(deviceId);
        Condition ready = condition(svc);
        assertThat(ready).as("condition of %s", key).isNotNull();
        assertThat(ready.getStatus()).as("condition of %s: %s", key, ready.getMessage()).isEqualTo("True");
        if (s.egressTarget != null) {
          StatefulSet set = sets.get(key).get(0);
          assertThat(set.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv()).as("target of %s", key)
              .anySatisfy(e -> {
                assertThat(e.getName()).isEqualTo("TS_TAILNET_TARGET_FQDN");
                assertThat(e.getValue()).isEqualTo(s.egressTarget + ".");
              });
          assertThat(svc.getSpec().getExternalName()).as("ExternalName of %s", key)
              .startsWith(headless.get(key).get(0).getMetadata().getName() + ".");
        }
        if (s.loadBalancer) {
          List<LoadBalancerIngress> in = svc.getStatus().getLoadBalancer() == null ? List.of()
              : svc.getStatus().getLoadBalancer().getIngress();
          assertThat(in).as("LoadBalancer status of %s", key).extracting(LoadBalancerIngress::getIp)
              .contains(d.ipv4());
        }
      }
    }
    for (World w : worlds) {
      for (Parent p : w.parents) {
        String key = p.key();
        HasMetadata live = p.get(c);
        if (!p.exists) {
          assertThat(live).as("%s should be gone", key).isNull();
          continue;
        }
        assertThat(live).as("%s should exist", key).isNotNull();
        expectedParents.add(key);
        assertThat(live.getMetadata().getFinalizers()).as("finalizers of %s", key).contains(FINALIZER);
        List<StatefulSet> ps = sets.getOrDefault(key, List.of());
        assertThat(ps).as("StatefulSets of %s", key).hasSize(p.statefulSets());
        assertThat(headless.getOrDefault(key, List.of())).as("headless Services of %s", key)
            .hasSize(p.headlessServices());
        List<Secret> sec = secrets.getOrDefault(key, List.of());
        assertThat(sec).as("Secrets of %s", key).hasSize(p.secrets());
        List<FakeDevice> devices = new ArrayList<>();
        for (Secret x : sec) {
          String id = deviceIdOf(x);
          if (id != null) {
            FakeDevice d = env.tailnet().device(id).orElse(null);
            assertThat(d).as("device %s of %s (Secret %s) in the tailnet", id, key, x.getMetadata().getName())
                .isNotNull();
            devices.add(d);
            liveDevices.add(id);
          }
        }
        assertThat(devices).as("devices of %s", key).extracting(FakeDevice::dnsLabel)
            .containsExactlyInAnyOrderElementsOf(p.hostnames());
        p.assertReady(env, live, ps, devices);
      }
      liveDevices.addAll(w.foreignDevices);
    }
    // No orphans: every proxy object belongs to a parent that should have a proxy.
    assertThat(sets.keySet()).as("parents of proxy StatefulSets").isSubsetOf(expectedParents);
    assertThat(secrets.keySet()).as("parents of proxy Secrets").isSubsetOf(expectedParents);
    assertThat(headless.keySet()).as("parents of headless proxy Services").isSubsetOf(expectedParents);
    // The tailnet holds exactly the devices of live proxies: none without a proxy, none for deleted Services.
    Set<String> tailnet = new HashSet<>();
    List<String> extra = new ArrayList<>();
    for (FakeDevice d : env.tailnet().devices()) {
      tailnet.add(d.nodeId());
      if (!liveDevices.contains(d.nodeId())) {
        extra.add(d.nodeId() + " " + d.name() + " (key " + d.authKeyId() + ", registered " + d.created() + ")");
      }
    }
    assertThat(tailnet).as("devices in the tailnet vs devices of live proxies; not of a live proxy: %s", extra)
        .isEqualTo(liveDevices);
  }

  static Condition condition(Service svc) {
    if (svc.getStatus() == null || svc.getStatus().getConditions() == null) {
      return null;
    }
    return svc.getStatus().getConditions().stream().filter(c -> "TailscaleProxyReady".equals(c.getType()))
        .findFirst().orElse(null);
  }

  /** Awaits {@link #assertConverged} and returns how long it took (ms); fails with the last mismatch. */
  static long awaitConverged(OperatorEnvironment env, List<World> worlds, long timeoutSeconds,
      Supplier<String> context) {
    long start = System.nanoTime();
    AssertionError last = null;
    while (System.nanoTime() - start < timeoutSeconds * 1_000_000_000L) {
      try {
        assertConverged(env, worlds);
        return (System.nanoTime() - start) / 1_000_000;
      } catch (AssertionError | KubernetesClientException e) {
        last = e instanceof AssertionError a ? a : new AssertionError(e.toString(), e);
      }
      try {
        Thread.sleep(250);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    throw new AssertionError("not converged after " + timeoutSeconds + " s (" + context.get() + "): "
        + last.getMessage(), last);
  }
}
