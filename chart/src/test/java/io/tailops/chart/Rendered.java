package io.tailops.chart;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/** The objects of one rendering, both as raw YAML trees and as fabric8 model objects. */
record Rendered(String text, List<JsonNode> raw, List<HasMetadata> objects) {
  static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  static Rendered parse(String text) {
    List<JsonNode> raw = Chart.yamlDocuments(text);
    List<HasMetadata> objects = raw.stream()
        .map(n -> SERIALIZATION.convertValue(n, HasMetadata.class))
        .toList();
    return new Rendered(text, raw, objects);
  }

  /** "Kind/name" of every object, in Helm's output order. */
  List<String> ids() {
    return objects.stream().map(o -> o.getKind() + "/" + o.getMetadata().getName()).toList();
  }

  <T extends HasMetadata> List<T> all(Class<T> type) {
    return objects.stream().filter(type::isInstance).map(type::cast).toList();
  }

  List<HasMetadata> ofKind(String kind) {
    return objects.stream().filter(o -> kind.equals(o.getKind())).toList();
  }

  <T extends HasMetadata> Optional<T> find(Class<T> type, String name) {
    return all(type).stream().filter(o -> name.equals(o.getMetadata().getName())).findFirst();
  }

  <T extends HasMetadata> T get(Class<T> type, String name) {
    return find(type, name).orElseThrow(
        () -> new AssertionError("no " + type.getSimpleName() + " named " + name + " in " + ids()));
  }

  /** The raw YAML tree of the object with this kind and name. */
  JsonNode rawOf(String kind, String name) {
    return raw.stream()
        .filter(n -> kind.equals(n.path("kind").asText()) && name.equals(n.path("metadata").path("name").asText()))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind + "/" + name + " in " + ids()));
  }

  Deployment deployment() {
    return get(Deployment.class, "operator");
  }

  PodSpec podSpec() {
    return deployment().getSpec().getTemplate().getSpec();
  }

  Container container(String name) {
    return podSpec().getContainers().stream().filter(c -> name.equals(c.getName())).findFirst()
        .orElseThrow(() -> new AssertionError("no container " + name));
  }

  Container operatorContainer() {
    return container("operator");
  }

  /** The operator container's env var names, in order. */
  List<String> envNames() {
    return operatorContainer().getEnv().stream().map(EnvVar::getName).toList();
  }

  /** The operator container's literal env values (valueFrom entries map to null), in order; last entry wins. */
  Map<String, String> env() {
    Map<String, String> m = new LinkedHashMap<>();
    for (EnvVar e : operatorContainer().getEnv()) {
      m.put(e.getName(), e.getValueFrom() != null ? null : e.getValue() == null ? "" : e.getValue());
    }
    return m;
  }

  Optional<EnvVar> envVar(String name) {
    return operatorContainer().getEnv().stream().filter(e -> name.equals(e.getName())).findFirst();
  }

  Map<String, Volume> volumes() {
    return podSpec().getVolumes().stream()
        .collect(Collectors.toMap(Volume::getName, v -> v, (a, b) -> a, LinkedHashMap::new));
  }

  Optional<Secret> secret(String name) {
    return find(Secret.class, name);
  }

  Service service(String name) {
    return get(Service.class, name);
  }

  ServiceAccount serviceAccount(String name) {
    return get(ServiceAccount.class, name);
  }

  List<PolicyRule> clusterRoleRules(String name) {
    return get(ClusterRole.class, name).getRules();
  }

  List<PolicyRule> roleRules(String name) {
    return get(Role.class, name).getRules();
  }

  List<CustomResourceDefinition> crds() {
    return all(CustomResourceDefinition.class);
  }
}
