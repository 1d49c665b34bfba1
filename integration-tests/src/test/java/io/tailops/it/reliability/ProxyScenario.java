package io.tailops.it.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.IngressLoadBalancerIngress;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tailops.api.v1alpha1.Connector;
import io.tailops.api.v1alpha1.ProxyGroup;
import io.tailops.api.v1alpha1.Recorder;
import io.tailops.api.v1alpha1.RecorderStatefulSet;
import io.tailops.api.v1alpha1.SubnetRouter;
import io.tailops.local.OperatorEnvironment;
import io.tailops.testkit.tailscale.FakeDevice;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * One kind of proxy through the phases of its life, for {@link CrashPointsIT}: the parent a user creates, what a user
 * (or the tailnet) does in each phase, and, through the world's model ({@link World.Slot} or {@link World.Parent}),
 * what must exist once it converged. Each world holds one parent of the scenario's kind.
 */
enum ProxyScenario {
  /** A Service exposed by {@code tailscale.com/expose}; change: a new {@code tailscale.com/hostname}. */
  SERVICE("service") {
    @Override
    void create(World w) {
      w.createExposed("s0");
    }

    @Override
    void change(World w) {
      w.rename(w.slots.get("s0"));
    }

    @Override
    void delete(World w) {
      w.delete(w.slots.get("s0"));
    }

    @Override
    boolean exists(World w) {
      return w.slots.get("s0").exists;
    }

    @Override
    List<String> devices(World w) {
      return List.of(World.deviceIdOf(w.env.secrets("svc", w.namespace, "s0").get(0)));
    }
  },
  /** An egress Service ({@code tailscale.com/tailnet-fqdn}); change: another target. */
  EGRESS("egress") {
    @Override
    void create(World w) {
      w.createEgress("s0", CrashPointsIT.egressTargets.get(0));
    }

    @Override
    void change(World w) {
      w.retarget(w.slots.get("s0"), CrashPointsIT.egressTargets.get(1));
    }

    @Override
    void delete(World w) {
      w.delete(w.slots.get("s0"));
    }

    @Override
    boolean exists(World w) {
      return w.slots.get("s0").exists;
    }

    @Override
    List<String> devices(World w) {
      return SERVICE.devices(w);
    }
  },
  /** An Ingress of class {@code tailscale}; change: a new TLS host (the device's name). */
  INGRESS("ingress") {
    @Override
    void create(World w) {
      w.env.backendService(w.namespace, "backend", 80);
      add(w, new IngressParent(w.namespace, "web", w.namespace + "-web-g1"));
    }

    @Override
    void change(World w) {
      IngressParent p = (IngressParent) w.parents.get(0);
      p.host = w.namespace + "-web-g2";
      w.apply("rename " + p, () -> w.client.network().v1().ingresses().inNamespace(p.namespace).withName(p.name)
          .edit(i -> new IngressBuilder(i).editSpec().editFirstTl().withHosts(p.host).endTl().endSpec().build()));
    }
  },
  /** A Connector (subnet router); change: its routes. */
  CONNECTOR("connector") {
    @Override
    void create(World w) {
      add(w, new ConnectorParent(w.namespace));
    }

    @Override
    void change(World w) {
      ConnectorParent p = (ConnectorParent) w.parents.get(0);
      p.routes = List.of("10.40.0.0/14", "10.44.0.0/20");
      w.apply("reroute " + p, () -> w.client.resources(Connector.class).withName(p.name).edit(c -> {
        c.getSpec().setSubnetRouter(new SubnetRouter(p.routes));
        return c;
      }));
    }
  },
  /** A ProxyGroup of type egress with 2 replicas; change: scaled to 1 (a replica's device deleted). */
  PROXY_GROUP("proxygroup") {
    @Override
    void create(World w) {
      add(w, new GroupParent(w.namespace));
    }

    @Override
    String firstApiCall(CrashPointsIT.Phase phase) {
      return phase == CrashPointsIT.Phase.CHANGE ? DELETE_DEVICE : super.firstApiCall(phase);
    }

    @Override
    void change(World w) {
      GroupParent p = (GroupParent) w.parents.get(0);
      p.replicas = 1;
      w.apply("scale " + p, () -> w.client.resources(ProxyGroup.class).withName(p.name).edit(g -> {
        g.getSpec().setReplicas(p.replicas);
        return g;
      }));
    }
  },
  /**
   * A Recorder with its UI (tsrecorder played by the testkit); change: an annotation of its StatefulSet
   * ({@code spec.statefulSet.annotations}; more replicas need S3 storage). No heal phase: a Recorder whose device was
   * deleted is not re-registered (as upstream: the operator does not watch a Recorder's device).
   */
  RECORDER("recorder", EnumSet.of(CrashPointsIT.Phase.CREATE, CrashPointsIT.Phase.CHANGE,
      CrashPointsIT.Phase.DELETE)) {
    @Override
    void create(World w) {
      add(w, new RecorderParent(w.namespace));
    }

    @Override
    void change(World w) {
      RecorderParent p = (RecorderParent) w.parents.get(0);
      p.annotation = "2";
      w.apply("annotate " + p, () -> w.client.resources(Recorder.class).withName(p.name).edit(r -> {
        RecorderStatefulSet sts = new RecorderStatefulSet();
        sts.setAnnotations(Map.of(RecorderParent.ANNOTATION, p.annotation));
        r.getSpec().setStatefulSet(sts);
        return r;
      }));
    }
  };

  final String label;
  final Set<CrashPointsIT.Phase> phases;

  ProxyScenario(String label) {
    this(label, EnumSet.allOf(CrashPointsIT.Phase.class));
  }

  ProxyScenario(String label, Set<CrashPointsIT.Phase> phases) {
    this.label = label;
    this.phases = phases;
  }

  static final String DELETE_DEVICE = "DELETE /api/v2/device/{id}";

  /**
   * The first Tailscale API call of a phase, as the long run's dry runs record it (docs/reliability.md), or null when
   * the phase makes none: CI's one crash point of the phase, crashed without a dry run. Creating a proxy and healing
   * it start with a key mint, deleting it with its device's deletion.
   */
  String firstApiCall(CrashPointsIT.Phase phase) {
    return switch (phase) {
      case CREATE, HEAL -> CrashPointsIT.MINT;
      case DELETE -> DELETE_DEVICE;
      case CHANGE -> null;
    };
  }

  abstract void create(World w);

  /** Creates the parent {@code p} in world {@code w}. */
  static void add(World w, World.Parent p) {
    w.parents.add(p);
    p.exists = true;
    w.apply("create " + p, () -> w.client.resource(p.build()).create());
  }

  /** The condition {@code type} is True for the parent's current generation. */
  static void assertReadyCondition(String key, HasMetadata parent, List<Condition> conditions, String type) {
    Condition ready = conditions == null ? null : conditions.stream().filter(c -> type.equals(c.getType()))
        .findFirst().orElse(null);
    assertThat(ready).as("%s of %s", type, key).isNotNull();
    assertThat(ready.getStatus()).as("%s of %s: %s", type, key, ready.getMessage()).isEqualTo("True");
    assertThat(ready.getObservedGeneration()).as("%s of %s", type, key)
        .isEqualTo(parent.getMetadata().getGeneration());
  }

  abstract void change(World w);

  /** Deletes the parent. */
  void delete(World w) {
    World.Parent p = w.parents.get(0);
    p.exists = false;
    w.apply("delete " + p, () -> w.client.resource(p.get(w.client)).delete());
  }

  boolean exists(World w) {
    return w.parents.get(0).exists;
  }

  /** Its devices' IDs, from its state Secrets. */
  List<String> devices(World w) {
    World.Parent p = w.parents.get(0);
    return World.byParent(w.client.secrets().inNamespace(OperatorEnvironment.NAMESPACE).list().getItems())
        .getOrDefault(p.key(), List.of()).stream().map(World::deviceIdOf).filter(id -> id != null).sorted().toList();
  }

  /** The heal phase's event: its (first) device deleted from the tailnet behind the operator's back. */
  void heal(World w) {
    List<String> ids = devices(w);
    assertThat(ids).as("devices of %s before the heal phase", label).isNotEmpty();
    w.log.add("delete device " + ids.get(0) + " from the tailnet");
    w.env.tailnet().deleteDeviceDirectly(ids.get(0));
  }

  // ------------------------------------------------------------------------------------------------ parents

  static final class IngressParent extends World.Parent {
    String host;

    IngressParent(String namespace, String name, String host) {
      super("ingress", namespace, name);
      this.host = host;
    }

    @Override
    Ingress build() {
      return new IngressBuilder().withNewMetadata().withNamespace(namespace).withName(name).endMetadata()
          .withNewSpec().withIngressClassName("tailscale").withNewDefaultBackend().withNewService()
          .withName("backend").withNewPort().withNumber(80).endPort().endService().endDefaultBackend()
          .addNewTl().withHosts(host).endTl().endSpec().build();
    }

    @Override
    HasMetadata get(KubernetesClient c) {
      return c.network().v1().ingresses().inNamespace(namespace).withName(name).get();
    }

    @Override
    List<String> hostnames() {
      return List.of(host);
    }

    @Override
    int secrets() {
      return 1;
    }

    @Override
    int headlessServices() {
      return 1;
    }

    @Override
    void assertReady(OperatorEnvironment env, HasMetadata parent, List<StatefulSet> sets, List<FakeDevice> devices) {
      Ingress ing = (Ingress) parent;
      List<IngressLoadBalancerIngress> lb = ing.getStatus() == null || ing.getStatus().getLoadBalancer() == null
          || ing.getStatus().getLoadBalancer().getIngress() == null ? List.of()
          : ing.getStatus().getLoadBalancer().getIngress();
      assertThat(lb).as("status of %s", key()).extracting(IngressLoadBalancerIngress::getHostname)
          .containsExactly(devices.get(0).name());
    }
  }

  static final class ConnectorParent extends World.Parent {
    List<String> routes = List.of("10.40.0.0/14");

    ConnectorParent(String name) {
      super("connector", "", name);
    }

    @Override
    Connector build() {
      return Serialization.unmarshal("""
          apiVersion: tailscale.com/v1alpha1
          kind: Connector
          metadata:
            name: %s
          spec:
            subnetRouter:
              advertiseRoutes: ["10.40.0.0/14"]
          """.formatted(name), Connector.class);
    }

    @Override
    HasMetadata get(KubernetesClient c) {
      return c.resources(Connector.class).withName(name).get();
    }

    @Override
    List<String> hostnames() {
      return List.of(name + "-connector");
    }

    @Override
    int secrets() {
      return 1;
    }

    @Override
    int headlessServices() {
      return 1;
    }

    @Override
    void assertReady(OperatorEnvironment env, HasMetadata parent, List<StatefulSet> sets, List<FakeDevice> devices) {
      assertThat(env.tailscaledConfig(sets.get(0).getMetadata().getName())).as("config of %s", key())
          .contains("\"AdvertiseRoutes\":[\"" + String.join("\",\"", routes) + "\"]");
      assertThat(env.tailnet().routes(devices.get(0).nodeId()).advertised()).as("routes of %s", key())
          .containsExactlyElementsOf(routes);
    }
  }

  static final class GroupParent extends World.Parent {
    int replicas = 2;

    GroupParent(String name) {
      super("proxygroup", "", name);
    }

    @Override
    ProxyGroup build() {
      return Serialization.unmarshal("""
          apiVersion: tailscale.com/v1alpha1
          kind: ProxyGroup
          metadata:
            name: %s
          spec:
            type: egress
            replicas: %d
          """.formatted(name, replicas), ProxyGroup.class);
    }

    @Override
    HasMetadata get(KubernetesClient c) {
      return c.resources(ProxyGroup.class).withName(name).get();
    }

    @Override
    List<String> hostnames() {
      return IntStream.range(0, replicas).mapToObj(i -> name + "-" + i).toList();
    }

    /** A state and a config Secret per replica. */
    @Override
    int secrets() {
      return 2 * replicas;
    }

    @Override
    void assertReady(OperatorEnvironment env, HasMetadata parent, List<StatefulSet> sets, List<FakeDevice> devices) {
      ProxyGroup g = (ProxyGroup) parent;
      assertThat(sets.get(0).getSpec().getReplicas()).as("replicas of %s", key()).isEqualTo(replicas);
      assertReadyCondition(key(), g, g.getStatus() == null ? null : g.getStatus().getConditions(), "ProxyGroupReady");
      assertThat(g.getStatus().getDevices()).as("status devices of %s", key()).hasSize(replicas);
    }
  }

  static final class RecorderParent extends World.Parent {
    static final String ANNOTATION = "crash-points/generation";
    String annotation = "1";

    RecorderParent(String name) {
      super("recorder", "", name);
    }

    @Override
    Recorder build() {
      return Serialization.unmarshal("""
          apiVersion: tailscale.com/v1alpha1
          kind: Recorder
          metadata:
            name: %s
          spec:
            enableUI: true
            statefulSet:
              annotations:
                %s: "1"
          """.formatted(name, ANNOTATION), Recorder.class);
    }

    @Override
    HasMetadata get(KubernetesClient c) {
      return c.resources(Recorder.class).withName(name).get();
    }

    @Override
    List<String> hostnames() {
      return List.of(name + "-0");
    }

    /** The auth-key and the state Secret. */
    @Override
    int secrets() {
      return 2;
    }

    @Override
    void assertReady(OperatorEnvironment env, HasMetadata parent, List<StatefulSet> sets, List<FakeDevice> devices) {
      Recorder r = (Recorder) parent;
      assertReadyCondition(key(), r, r.getStatus() == null ? null : r.getStatus().getConditions(), "RecorderReady");
      assertThat(sets.get(0).getMetadata().getAnnotations()).as("StatefulSet annotations of %s", key())
          .containsEntry(ANNOTATION, annotation);
      assertThat(r.getStatus().getDevices()).as("status devices of %s", key()).hasSize(1);
    }
  }
}
