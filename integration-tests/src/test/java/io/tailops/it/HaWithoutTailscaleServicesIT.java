package io.tailops.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tailops.api.v1alpha1.ProxyGroup;
import io.tailops.controlplane.ControlPlane;
import io.tailops.local.OperatorEnvironment;
import io.tailops.testkit.tailscale.Endpoint;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A control plane without Tailscale Services (headscale has none): the operator is given the fake Tailscale API with
 * those endpoints taken away (the control plane answers as headscale's does), and an HA Service and an HA Ingress say
 * so on the parent (condition, Event) instead of waiting forever; nothing is advertised and the parent gets no finalizer.
 */
class HaWithoutTailscaleServicesIT {
  static final String APP = "nosvc";
  static final Duration WAIT = Duration.ofSeconds(120);
  static OperatorEnvironment env;

  /** The control plane with the Tailscale Service methods answering as one without them. */
  static ControlPlane withoutServices(ControlPlane delegate) {
    Set<String> services = Set.of("getService", "putService", "deleteService");
    InvocationHandler h = (proxy, method, args) -> {
      if (services.contains(method.getName())) {
        return InvocationHandler.invokeDefault(proxy, method, args);
      }
      try {
        return method.invoke(delegate, args);
      } catch (InvocationTargetException e) {
        throw e.getCause();
      }
    };
    return (ControlPlane) Proxy.newProxyInstance(ControlPlane.class.getClassLoader(),
        new Class<?>[] {ControlPlane.class}, h);
  }

  @BeforeAll
  static void start() {
    env = OperatorEnvironment.create();
    env.controlPlaneWrapper(HaWithoutTailscaleServicesIT::withoutServices);
    env.startOperator();
    env.createNamespace(APP);
    env.backendService(APP, "backend", 8080);
    env.client().resource(Serialization.unmarshal("""
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyGroup
        metadata:
          name: solo
        spec:
          type: ingress
          replicas: 1
        """, ProxyGroup.class)).create();
    await().atMost(WAIT).until(() -> env.client().resources(ProxyGroup.class).withName("solo").get(), p -> p != null
        && p.getStatus() != null && p.getStatus().getConditions().stream().anyMatch(c ->
            c.getType().equals("ProxyGroupAvailable") && "True".equals(c.getStatus())));
  }

  @AfterAll
  static void stop() {
    env.close();
  }

  @Test
  void anHaServiceSaysTheControlPlaneHasNoTailscaleServices() {
    Service svc = env.client().resource(Serialization.unmarshal("""
        apiVersion: v1
        kind: Service
        metadata:
          name: web
          namespace: %s
          annotations: {tailscale.com/proxy-group: solo}
        spec:
          type: LoadBalancer
          loadBalancerClass: tailscale
          ports: [{port: 80, targetPort: 8080}]
        """.formatted(APP), Service.class)).create();
    Condition c = await().atMost(WAIT).until(() -> Optional.ofNullable(env.client().services().inNamespace(APP)
        .withName("web").get().getStatus().getConditions()).flatMap(cs -> cs.stream()
            .filter(x -> x.getType().equals("TailscaleIngressSvcValid")).findFirst()), Optional::isPresent)
        .orElseThrow();
    assertThat(c.getStatus()).isEqualTo("False");
    assertThat(c.getReason()).isEqualTo("TailscaleServicesNotAvailable");
    assertThat(c.getMessage()).contains("has no Tailscale Services").contains("remove tailscale.com/proxy-group");
    assertThat(await().atMost(WAIT).until(() -> env.event(svc, "TailscaleServicesNotAvailable"),
        Optional::isPresent).orElseThrow().getType()).isEqualTo("Warning");
    Service now = env.client().services().inNamespace(APP).withName("web").get();
    assertThat(now.getMetadata().getFinalizers()).isNullOrEmpty();
    assertThat(now.getStatus().getLoadBalancer().getIngress()).isNullOrEmpty();
    assertThat(env.tailnet().requests(Endpoint.PUT_SERVICE)).isEmpty();
  }

  @Test
  void anHaIngressSaysTheControlPlaneHasNoTailscaleServices() {
    Ingress ing = env.client().resource(Serialization.unmarshal("""
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata:
          name: app
          namespace: %s
          annotations: {tailscale.com/proxy-group: solo}
        spec:
          ingressClassName: tailscale
          defaultBackend:
            service: {name: backend, port: {number: 8080}}
        """.formatted(APP), Ingress.class)).create();
    assertThat(await().atMost(WAIT).until(() -> env.event(ing, "TailscaleServicesNotAvailable"),
        Optional::isPresent).orElseThrow()).satisfies(e -> {
          assertThat(e.getType()).isEqualTo("Warning");
          assertThat(e.getMessage()).contains("has no Tailscale Services");
        });
    Ingress now = env.client().network().v1().ingresses().inNamespace(APP).withName("app").get();
    assertThat(now.getMetadata().getFinalizers()).isNullOrEmpty();
    assertThat(now.getStatus() == null || now.getStatus().getLoadBalancer() == null
        || now.getStatus().getLoadBalancer().getIngress() == null
        || now.getStatus().getLoadBalancer().getIngress().isEmpty()).isTrue();
    assertThat(env.tailnet().requests(Endpoint.PUT_SERVICE)).isEmpty();
  }
}
