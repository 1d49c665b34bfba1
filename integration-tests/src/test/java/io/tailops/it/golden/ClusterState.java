package io.tailops.it.golden;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tailops.testkit.tailscale.FakeAuthKey;
import io.tailops.testkit.tailscale.FakeDevice;
import io.tailops.testkit.tailscale.FakeTailscaleApi;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What an operator made of the inputs, read from the API server as raw JSON (no typed model that could drop fields):
 * every input object as it is now, and the objects the operator created in its namespace, plus what normalisation
 * needs to know (every Service's cluster IPs, the tailnet's devices and keys, the login server).
 *
 * @param inputs the inputs, each with its live object (null if it is gone)
 * @param created objects the operator created: in its namespace, of the {@link #CREATED_KINDS}, labelled
 *     {@code tailscale.com/managed=true} or owned by an input object
 * @param clusterIps every Service's cluster IPs by {@code namespace/name}
 * @param pods the Pods of the operator namespace (proxy replicas: their UIDs and IPs appear in EndpointSlices)
 * @param tailscaleServices the tailnet's Tailscale Services ({@code svc:<name>} with their {@code addrs}), which HA
 *     parents are served as
 */
record ClusterState(List<Observed> inputs, List<ObjectNode> created, Map<String, List<String>> clusterIps,
    List<FakeDevice> devices, List<FakeAuthKey> keys, String loginServer, List<ObjectNode> pods,
    List<JsonNode> tailscaleServices) {

  /** An input and its live object. */
  record Observed(GoldenInputs.Input input, ObjectNode live) {
  }

  /**
   * The kinds of proxy objects looked for in the operator namespace (apiVersion, kind). A new kind of proxy that
   * creates another kind of object adds it here.
   */
  static final List<List<String>> CREATED_KINDS = List.of(
      List.of("v1", "Service"),
      List.of("v1", "Secret"),
      List.of("apps/v1", "StatefulSet"),
      List.of("apps/v1", "Deployment"),
      List.of("v1", "ConfigMap"),
      List.of("v1", "ServiceAccount"),
      List.of("rbac.authorization.k8s.io/v1", "Role"),
      List.of("rbac.authorization.k8s.io/v1", "RoleBinding"),
      List.of("monitoring.coreos.com/v1", "ServiceMonitor"),
      List.of("discovery.k8s.io/v1", "EndpointSlice"));

  /** The label Kubernetes' own EndpointSlice controllers put on the slices they make for every Service. */
  static final String SLICE_MANAGED_BY = "endpointslice.kubernetes.io/managed-by";

  static final String MANAGED = "tailscale.com/managed";

  static ClusterState read(KubernetesClient client, String operatorNamespace, List<GoldenInputs.Input> inputs,
      FakeTailscaleApi api, String loginServer) {
    List<Observed> observed = new ArrayList<>();
    for (GoldenInputs.Input in : inputs) {
      var ops = client.genericKubernetesResources(in.apiVersion(), in.kind());
      GenericKubernetesResource live = in.namespace().isEmpty() ? ops.withName(in.name()).get()
          : ops.inNamespace(in.namespace()).withName(in.name()).get();
      observed.add(new Observed(in, live == null ? null : tree(live)));
    }
    List<ObjectNode> created = new ArrayList<>();
    for (List<String> kind : CREATED_KINDS) {
      if (!served(client, kind.get(0), kind.get(1))) {
        continue; // e.g. no ServiceMonitor CRD in this cluster
      }
      List<GenericKubernetesResource> items = client.genericKubernetesResources(kind.get(0), kind.get(1))
          .inNamespace(operatorNamespace).list().getItems();
      for (GenericKubernetesResource r : items) {
        ObjectNode t = tree(r);
        t.put("apiVersion", kind.get(0));
        t.put("kind", kind.get(1));
        if (t.path("metadata").path("labels").path(SLICE_MANAGED_BY).asText().endsWith(".k8s.io")) {
          continue; // the controller manager's slice of a proxy's Service (it copies the Service's labels)
        }
        if ("true".equals(t.path("metadata").path("labels").path(MANAGED).asText())
            || ownedByInput(t, observed)) {
          created.add(t);
        }
      }
    }
    Map<String, List<String>> ips = new LinkedHashMap<>();
    for (GenericKubernetesResource svc : client.genericKubernetesResources("v1", "Service").inAnyNamespace().list()
        .getItems()) {
      JsonNode spec = tree(svc).path("spec");
      List<String> list = new ArrayList<>();
      spec.path("clusterIPs").forEach(ip -> list.add(ip.asText()));
      if (list.isEmpty() && spec.hasNonNull("clusterIP")) {
        list.add(spec.get("clusterIP").asText());
      }
      list.removeIf(ip -> ip.isEmpty() || ip.equals("None"));
      ips.put(svc.getMetadata().getNamespace() + "/" + svc.getMetadata().getName(), list);
    }
    List<ObjectNode> pods = new ArrayList<>();
    for (GenericKubernetesResource p : client.genericKubernetesResources("v1", "Pod").inNamespace(operatorNamespace)
        .list().getItems()) {
      pods.add(tree(p));
    }
    return new ClusterState(observed, created, ips, api.devices(), api.keys(), loginServer, pods, api.services());
  }

  private static boolean served(KubernetesClient client, String apiVersion, String kind) {
    try {
      var resources = client.getApiResources(apiVersion);
      return resources != null && resources.getResources().stream().anyMatch(r -> kind.equals(r.getKind()));
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        return false;
      }
      throw e;
    }
  }

  private static boolean ownedByInput(ObjectNode obj, List<Observed> inputs) {
    for (JsonNode ref : obj.path("metadata").path("ownerReferences")) {
      for (Observed o : inputs) {
        if (o.live() != null && ref.path("uid").asText().equals(o.live().path("metadata").path("uid").asText())) {
          return true;
        }
      }
    }
    return false;
  }

  static ObjectNode tree(GenericKubernetesResource r) {
    return Serialization.jsonMapper().valueToTree(r);
  }
}
