package io.tailops.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Secret;
import io.tailops.local.OperatorEnvironment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** What an ingress ProxyGroup's replicas are told to serve, as read back from the cluster by the HA tests. */
final class IngressGroupFiles {
  private static final ObjectMapper JSON = new ObjectMapper();

  private IngressGroupFiles() {
  }

  /** A key of the group's ConfigMap {@code <group>-ingress-config} as JSON ({@code {}} while it is unset). */
  static JsonNode configMapJson(OperatorEnvironment env, String group, String key) throws Exception {
    ConfigMap cm = env.client().configMaps().inNamespace(OperatorEnvironment.NAMESPACE)
        .withName(group + "-ingress-config").get();
    String b64 = cm.getBinaryData() == null ? null : cm.getBinaryData().get(key);
    return b64 == null ? JSON.createObjectNode() : JSON.readTree(Base64.getDecoder().decode(b64));
  }

  /** The Tailscale Services a replica's config Secret ({@code <group>-<i>-config}) tells it to advertise. */
  static List<String> advertised(OperatorEnvironment env, String replicaConfigSecret) throws Exception {
    Secret s = env.client().secrets().inNamespace(OperatorEnvironment.NAMESPACE).withName(replicaConfigSecret).get();
    JsonNode cfg = JSON.readTree(new String(Base64.getDecoder().decode(s.getData().get("cap-106.hujson")),
        StandardCharsets.UTF_8));
    List<String> out = new ArrayList<>();
    cfg.path("AdvertiseServices").forEach(n -> out.add(n.asText()));
    return out;
  }
}
