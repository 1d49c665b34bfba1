package io.tailops.testkit.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.tailops.api.v1alpha1.ProxyClass;
import io.tailops.api.v1alpha1.StatefulSetConfig;

/** The launcher against the real API server, etcd and controller manager: one server for the whole class. */
class KubeApiServerTest {

  static final String PROXYCLASS_CRD = "META-INF/fabric8/proxyclasses.tailscale.com-v1.yml";

  @RegisterExtension
  static final KubeApiServerExtension KUBE = new KubeApiServerExtension(b -> b
      .controllerManager(true)
      .auditLog(true)
      .crdsFromClasspath(PROXYCLASS_CRD));

  private static String newNamespace(KubernetesClient client) {
    String name = "t-" + UUID.randomUUID().toString().substring(0, 8);
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
        .create();
    return name;
  }

  @Test
  void servesTheBuiltVersionAndKubectlWorks(KubeApiServer kube) {
    assertThat(kube.client().getKubernetesVersion().getGitVersion()).isEqualTo("v" + kube.binaries().version());
    assertThat(kube.url()).startsWith("https://127.0.0.1:");
    assertThat(kube.kubectl("get", "namespace", "default", "-o", "name")).isEqualTo("namespace/default\n");
    assertThat(kube.kubeconfig()).exists();
  }

  @Test
  void createsANamespaceAndAProxyClassAndReadsItBack(KubernetesClient client) {
    String ns = newNamespace(client);
    assertThat(client.namespaces().withName(ns).get().getStatus().getPhase()).isEqualTo("Active");

    CustomResourceDefinition crd = client.apiextensions().v1().customResourceDefinitions()
        .withName(ProxyClass.CRD_NAME).get();
    assertThat(crd.getStatus().getConditions())
        .anyMatch(c -> c.getType().equals("Established") && c.getStatus().equals("True"));

    ProxyClass pc = new ProxyClass();
    pc.getMetadata().setName("prod-" + ns);
    StatefulSetConfig sts = new StatefulSetConfig();
    sts.setLabels(Map.of("team", "net"));
    pc.getSpec().setStatefulSet(sts);
    pc.getSpec().setUseLetsEncryptStagingEnvironment(true);
    client.resources(ProxyClass.class).resource(pc).create();

    ProxyClass read = client.resources(ProxyClass.class).withName("prod-" + ns).get();
    assertThat(read.getMetadata().getUid()).isNotBlank();
    assertThat(read.getMetadata().getGeneration()).isEqualTo(1L);
    assertThat(read.getSpec().getStatefulSet().getLabels()).containsEntry("team", "net");
    assertThat(read.getSpec().getUseLetsEncryptStagingEnvironment()).isTrue();
  }

  @Test
  void validatesCustomResourcesAgainstTheCrdSchema(KubernetesClient client) {
    ResourceDefinitionContext ctx = new ResourceDefinitionContext.Builder().withGroup(ProxyClass.GROUP)
        .withVersion(ProxyClass.VERSION).withPlural("proxyclasses").withKind("ProxyClass").withNamespaced(false)
        .build();
    GenericKubernetesResource bad = new GenericKubernetesResourceBuilder()
        .withApiVersion(ProxyClass.GROUP + "/" + ProxyClass.VERSION).withKind("ProxyClass")
        .withNewMetadata().withName("bad-type").endMetadata()
        .withAdditionalProperties(Map.of("spec", Map.of("useLetsEncryptStagingEnvironment", "yes please")))
        .build();
    assertThatThrownBy(() -> client.genericKubernetesResources(ctx).resource(bad).create())
        .isInstanceOf(KubernetesClientException.class)
        .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(422))
        .hasMessageContaining("useLetsEncryptStagingEnvironment");
  }

  @Test
  void rejectsALabelValueLongerThan63Characters(KubernetesClient client) {
    String ns = newNamespace(client);
    String tooLong = "a".repeat(64);
    ConfigMap cm = new ConfigMapBuilder().withNewMetadata().withName("long-label").withNamespace(ns)
        .addToLabels("tailscale.com/parent-resource", tooLong).endMetadata().build();
    assertThatThrownBy(() -> client.configMaps().inNamespace(ns).resource(cm).create())
        .isInstanceOf(KubernetesClientException.class)
        .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(422))
        .hasMessageContaining("must be no more than 63 characters");

    ConfigMap ok = new ConfigMapBuilder().withNewMetadata().withName("ok-label").withNamespace(ns)
        .addToLabels("tailscale.com/parent-resource", "a".repeat(63)).endMetadata().build();
    assertThat(client.configMaps().inNamespace(ns).resource(ok).create().getMetadata().getLabels())
        .containsEntry("tailscale.com/parent-resource", "a".repeat(63));
  }

  @Test
  void generateNameAppendsAFiveCharacterSuffix(KubernetesClient client) {
    String ns = newNamespace(client);
    ConfigMap created = client.configMaps().inNamespace(ns).resource(new ConfigMapBuilder()
        .withNewMetadata().withGenerateName("ts-web-").withNamespace(ns).endMetadata().build()).create();
    assertThat(created.getMetadata().getName()).matches("ts-web-[bcdfghjklmnpqrstvwxz2456789]{5}");
    assertThat(created.getMetadata().getGenerateName()).isEqualTo("ts-web-");
  }

  @Test
  void statefulSetControllerCreatesAPodAndForegroundDeletionCompletes(KubernetesClient client) {
    String ns = newNamespace(client);
    StatefulSet sts = new StatefulSetBuilder()
        .withNewMetadata().withName("ts-web").withNamespace(ns).endMetadata()
        .withNewSpec().withReplicas(1).withServiceName("ts-web")
        .withNewSelector().addToMatchLabels("app", "ts-web").endSelector()
        .withNewTemplate().withNewMetadata().addToLabels("app", "ts-web").endMetadata()
        .withNewSpec().addNewContainer().withName("tailscale").withImage("tailscale/tailscale:v1.94.2").endContainer()
        .endSpec().endTemplate().endSpec().build();
    StatefulSet created = client.apps().statefulSets().inNamespace(ns).resource(sts).create();

    Pod pod = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
        .until(() -> client.pods().inNamespace(ns).withName("ts-web-0").get(), p -> p != null);
    assertThat(pod.getMetadata().getOwnerReferences()).singleElement()
        .satisfies(o -> {
          assertThat(o.getUid()).isEqualTo(created.getMetadata().getUid());
          assertThat(o.getBlockOwnerDeletion()).isTrue();
        });
    assertThat(pod.getSpec().getNodeName()).as("no scheduler, no kubelet").isNull();

    client.apps().statefulSets().inNamespace(ns).withName("ts-web")
        .withPropagationPolicy(DeletionPropagation.FOREGROUND).delete();
    StatefulSet deleting = client.apps().statefulSets().inNamespace(ns).withName("ts-web").get();
    if (deleting != null) { // usually still there, waiting for the garbage collector
      assertThat(deleting.getMetadata().getDeletionTimestamp()).isNotNull();
      assertThat(deleting.getMetadata().getFinalizers()).contains("foregroundDeletion");
    }
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
        .until(() -> client.apps().statefulSets().inNamespace(ns).withName("ts-web").get() == null);
    assertThat(client.pods().inNamespace(ns).withName("ts-web-0").get()).isNull();
  }

  @Test
  void garbageCollectorDeletesDependentsOfADeletedOwner(KubernetesClient client) {
    String ns = newNamespace(client);
    ConfigMap owner = client.configMaps().inNamespace(ns).resource(new ConfigMapBuilder()
        .withNewMetadata().withName("owner").withNamespace(ns).endMetadata().build()).create();
    client.configMaps().inNamespace(ns).resource(new ConfigMapBuilder()
        .withNewMetadata().withName("dependent").withNamespace(ns)
        .withOwnerReferences(new OwnerReferenceBuilder().withApiVersion("v1").withKind("ConfigMap")
            .withName("owner").withUid(owner.getMetadata().getUid()).build())
        .endMetadata().build()).create();

    client.configMaps().inNamespace(ns).withName("owner").delete(); // background propagation
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
        .until(() -> client.configMaps().inNamespace(ns).withName("dependent").get() == null);
  }

  @Test
  void namespaceDeletionRemovesTheNamespaceAndItsContent(KubernetesClient client) {
    String ns = newNamespace(client);
    client.configMaps().inNamespace(ns).resource(new ConfigMapBuilder()
        .withNewMetadata().withName("content").withNamespace(ns).endMetadata().build()).create();
    client.namespaces().withName(ns).delete();
    assertThat(client.namespaces().withName(ns).get().getStatus().getPhase()).isEqualTo("Terminating");
    await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(250))
        .until(() -> client.namespaces().withName(ns).get() == null);
  }

  @Test
  void auditLogCountsACreateAsAWrite(KubeApiServer kube, KubernetesClient client) {
    String ns = newNamespace(client);
    AuditLog audit = kube.audit();
    AuditLog.Mark mark = audit.mark();

    client.configMaps().inNamespace(ns).resource(new ConfigMapBuilder()
        .withNewMetadata().withName("counted").withNamespace(ns).endMetadata().build()).create();
    client.configMaps().inNamespace(ns).withName("counted").get();

    AuditEvents mine = audit.since(mark).byUserAgent("fabric8-kubernetes-client").byNamespace(ns);
    assertThat(mine.writes().list()).as(mine.summary()).singleElement().satisfies(e -> {
      assertThat(e.verb()).isEqualTo("create");
      assertThat(e.resource()).isEqualTo("configmaps");
      assertThat(e.name()).isEqualTo("counted");
      assertThat(e.username()).isEqualTo(KubeApiServer.ADMIN_USER);
      assertThat(e.code()).isEqualTo(201);
    });
    assertThat(mine.reads().byVerb("get").count()).isEqualTo(1);
    assertThat(mine.countByVerbResourceUserAgent())
        .containsKey(new AuditEvents.RequestKey("create", "configmaps", mine.list().get(0).userAgent()));

    // the control plane's own traffic can be filtered out; nothing else wrote since the mark
    List<AuditEvent> otherWrites = audit.since(mark).excludingControlPlane().writes()
        .filter(e -> !ns.equals(e.namespace())).list();
    assertThat(otherWrites).isEmpty();
  }

  @Nested
  class InANestedClass {
    @Test
    void usesTheEnclosingClassesServer(KubeApiServer kube) {
      assertThat(kube).isSameAs(KUBE.server());
      assertThat(kube.isApiServerRunning()).isTrue();
    }
  }

  @Test
  void rbacAppliesToOtherUsers(KubeApiServer kube) {
    try (KubernetesClient alice = kube.newClient("alice", "developers")) {
      assertThatThrownBy(() -> alice.namespaces().list())
          .isInstanceOf(KubernetesClientException.class)
          .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(403))
          .hasMessageContaining("User \"alice\" cannot list resource \"namespaces\"");
    }
  }

  @Test
  void aServiceAccountTokenAuthenticatesAsTheAccountWithItsRbac(KubeApiServer kube, KubernetesClient client) {
    String ns = newNamespace(client);
    client.serviceAccounts().inNamespace(ns).resource(new io.fabric8.kubernetes.api.model.ServiceAccountBuilder()
        .withNewMetadata().withName("reader").endMetadata().build()).create();
    client.rbac().roles().inNamespace(ns).resource(new io.fabric8.kubernetes.api.model.rbac.RoleBuilder()
        .withNewMetadata().withName("reader").endMetadata().addNewRule().withApiGroups("")
        .withResources("configmaps").withVerbs("get", "list").endRule().build()).create();
    client.rbac().roleBindings().inNamespace(ns).resource(new io.fabric8.kubernetes.api.model.rbac
        .RoleBindingBuilder().withNewMetadata().withName("reader").endMetadata()
        .withNewRoleRef("rbac.authorization.k8s.io", "Role", "reader").addNewSubject().withKind("ServiceAccount")
        .withName("reader").withNamespace(ns).endSubject().build()).create();
    client.configMaps().inNamespace(ns).resource(new ConfigMapBuilder().withNewMetadata().withName("cm")
        .endMetadata().build()).create();
    String token = kube.serviceAccountToken(ns, "reader", Duration.ofMinutes(10));
    try (KubernetesClient reader = new io.fabric8.kubernetes.client.KubernetesClientBuilder()
        .withConfig(kube.tokenConfig(token)).build()) {
      assertThat(reader.configMaps().inNamespace(ns).withName("cm").get()).isNotNull();
      assertThatThrownBy(() -> reader.secrets().inNamespace(ns).list())
          .isInstanceOf(KubernetesClientException.class)
          .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(403))
          .hasMessageContaining("User \"system:serviceaccount:" + ns + ":reader\" cannot list resource "
              + "\"secrets\"");
    }
  }
}
