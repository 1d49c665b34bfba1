package io.tailops.it.golden;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.tailops.testkit.tailscale.FakeAuthKey;
import io.tailops.testkit.tailscale.FakeDevice;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns a {@link ClusterState} into golden files: one per input object (except namespaces), holding what a user sees
 * on it (labels, annotations, finalizers, spec, status) and then the objects the operator created for it; created
 * objects that belong to no input go to {@value #UNOWNED}. The same rules apply to both operators' output:
 *
 * <ul>
 *   <li>dropped: {@code uid}, {@code resourceVersion}, {@code generation}, {@code creationTimestamp},
 *       {@code managedFields}; the status of StatefulSets and Deployments (the controller manager's); Secret keys the
 *       proxy writes itself ({@link #PROXY_KEYS}, tailscaled's {@code _*}/{@code profile-*} state, certificates);
 *   <li>Secret values decoded into {@code stringData}, ConfigMap {@code binaryData} decoded in place; an
 *       {@code AuthKey} in a tailscaled config file redacted;
 *   <li>replaced by placeholders wherever they appear in a string: object UIDs ({@code <uid:Kind/ns/name>}), cluster
 *       IPs ({@code <clusterIP:ns/name>}), the random 5-character suffix of proxy names
 *       ({@code ts-my-service-<suffix>}), device IDs and tailnet IPs ({@code <device-id:label>},
 *       {@code <tailnet-ip:label:v4>}), auth-key IDs and secrets, the login server URL, proxy Pods' UIDs and IPs
 *       ({@code <uid:Pod/ns/name>}, {@code <pod-ip:ns/name>}), Tailscale Services' addresses
 *       ({@code <service-ip:name:v4>}), the container ports an egress group chose for a Service
 *       ({@code <container-port:ns/name:port>}); condition times and node ports by {@code <time>} and
 *       {@code <node-port>}.
 * </ul>
 */
final class Normaliser {
  static final String UNOWNED = "unowned";
  /** Keys containerboot writes into the proxy's Secret (wire-contracts §3): the proxy's, not the operator's. */
  static final Set<String> PROXY_KEYS = Set.of("device_id", "device_fqdn", "device_ips", "pod_uid",
      "tailscale_capver", "https_endpoint", "egress-services", "ingress-config.json", "reissue_authkey");
  /** The alphabet of generateName suffixes (and of our derived ones). */
  private static final Pattern RANDOM_NAME = Pattern.compile("^(.+-)[bcdfghjklmnpqrstvwxz2456789]{5}$");
  private static final Pattern AUTH_KEY = Pattern.compile("\"AuthKey\":\"[^\"]*\"");
  private static final Pattern ADVERTISED = Pattern.compile("\"AdvertiseServices\":\\[([^\\]]+)\\]");
  private static final Set<String> TIME_FIELDS = Set.of("lastTransitionTime", "lastUpdateTime", "lastHeartbeatTime",
      "lastProbeTime", "lastScaleTime");
  private static final Set<String> PORT_FIELDS = Set.of("nodePort", "healthCheckNodePort");
  private static final Set<String> DROPPED_METADATA = Set.of("uid", "resourceVersion", "generation",
      "creationTimestamp", "managedFields", "selfLink");
  /** Kinds whose status is written by a controller of Kubernetes, not by the operator. */
  private static final Set<String> STATUS_BY_KUBERNETES = Set.of("StatefulSet", "Deployment");
  /** The {@code tailscale.com/parent-resource-type} label values and the kinds they stand for. */
  static final Map<String, String> PARENT_TYPES = Map.of("svc", "Service", "ingress", "Ingress",
      "connector", "Connector", "proxygroup", "ProxyGroup", "recorder", "Recorder");

  /** Number fields that may hold an egress group's container port ({@code targetPort} of its ClusterIP Service,
   * {@code port} of its EndpointSlice). */
  private static final Set<String> CONTAINER_PORT_FIELDS = Set.of("targetPort", "port");
  static final String HEALTH_CHECK_PORT = "tailscale-health-check";

  private final Map<String, String> replacements;
  /** Container ports an operator chose at random for an egress group's Services, by value. */
  private final Map<String, String> containerPorts;

  private Normaliser(Map<String, String> replacements, Map<String, String> containerPorts) {
    this.replacements = replacements;
    this.containerPorts = containerPorts;
  }

  /** The placeholders for this state's random values. */
  static Normaliser of(ClusterState state) {
    Map<String, String> r = new LinkedHashMap<>();
    for (ClusterState.Observed o : state.inputs()) {
      if (o.live() != null) {
        r.put(o.live().path("metadata").path("uid").asText(), "<uid:" + id(o.live()) + ">");
      }
    }
    for (ObjectNode c : state.created()) {
      Matcher m = randomName(c);
      if (m != null) {
        r.put(c.path("metadata").path("name").asText(), m.group(1) + "<suffix>");
      }
    }
    for (ObjectNode c : state.created()) {
      r.put(c.path("metadata").path("uid").asText(), "<uid:" + c.path("kind").asText() + "/"
          + c.path("metadata").path("namespace").asText() + "/" + replace(r, c.path("metadata").path("name").asText())
          + ">");
    }
    Map<String, String> names = new LinkedHashMap<>(r); // the proxy names' placeholders, for generated Service names
    state.clusterIps().forEach((svc, ips) -> {
      for (int i = 0; i < ips.size(); i++) {
        r.put(ips.get(i), "<clusterIP:" + replace(names, svc) + (i == 0 ? "" : ":" + i) + ">");
      }
    });
    for (FakeDevice d : state.devices()) {
      r.put(d.nodeId(), "<device-id:" + d.dnsLabel() + ">");
      r.put(d.id(), "<device-legacy-id:" + d.dnsLabel() + ">");
      for (String ip : d.addresses()) {
        r.put(ip, "<tailnet-ip:" + d.dnsLabel() + (ip.contains(":") ? ":v6>" : ":v4>"));
      }
    }
    for (FakeAuthKey k : state.keys()) {
      r.put(k.id(), "<auth-key-id>");
      r.put(k.secret(), "<auth-key>");
    }
    if (state.loginServer() != null) {
      r.put(state.loginServer(), "<login-server>");
    }
    for (ObjectNode p : state.pods()) {
      String name = p.path("metadata").path("namespace").asText() + "/" + p.path("metadata").path("name").asText();
      r.put(p.path("metadata").path("uid").asText(), "<uid:Pod/" + name + ">");
      for (JsonNode ip : p.path("status").path("podIPs")) {
        r.put(ip.path("ip").asText(), "<pod-ip:" + name + ">");
      }
    }
    for (JsonNode svc : state.tailscaleServices()) {
      String name = svc.path("name").asText();
      String label = name.startsWith("svc:") ? name.substring(4) : name;
      for (JsonNode a : svc.path("addrs")) {
        r.put(a.asText(), "<service-ip:" + label + (a.asText().contains(":") ? ":v6>" : ":v4>"));
      }
    }
    // An egress group's container ports are chosen at random (10000-10999): named after the parent and its port.
    Map<String, String> ports = new LinkedHashMap<>();
    for (ObjectNode c : state.created()) {
      JsonNode labels = c.path("metadata").path("labels");
      if (!c.path("kind").asText().equals("Service") || !"egress".equals(labels.path("tailscale.com/svc-type")
          .asText())) {
        continue;
      }
      String parent = labels.path("tailscale.com/parent-resource-ns").asText() + "/"
          + labels.path("tailscale.com/parent-resource").asText();
      for (JsonNode port : c.path("spec").path("ports")) {
        if (!HEALTH_CHECK_PORT.equals(port.path("name").asText()) && port.path("targetPort").isNumber()) {
          ports.put(port.path("targetPort").asText(), "<container-port:" + parent + ":" + port.path("port").asText()
              + ">");
        }
      }
    }
    r.putAll(ports);
    r.remove("");
    // longest first, so that a value that contains another is replaced whole
    Map<String, String> sorted = new TreeMap<>(Comparator.comparingInt(String::length).reversed()
        .thenComparing(Comparator.naturalOrder()));
    sorted.putAll(r);
    return new Normaliser(sorted, ports);
  }

  /** {@code Kind/ns/name} or {@code Kind/name}. */
  static String id(JsonNode obj) {
    String ns = obj.path("metadata").path("namespace").asText("");
    return obj.path("kind").asText() + "/" + (ns.isEmpty() ? "" : ns + "/") + obj.path("metadata").path("name")
        .asText();
  }

  /** The golden file of an object: {@code service/my-namespace/my-service}, {@code proxyclass/prod}. */
  static String fileId(String kind, String namespace, String name) {
    return kind.toLowerCase() + "/" + (namespace == null || namespace.isEmpty() ? "" : namespace + "/") + name;
  }

  private static Matcher randomName(ObjectNode obj) {
    String name = obj.path("metadata").path("name").asText();
    String generateName = obj.path("metadata").path("generateName").asText("");
    Matcher m = RANDOM_NAME.matcher(name);
    if (!m.matches() || (!generateName.isEmpty() && !generateName.equals(m.group(1)))) {
      return null;
    }
    if (generateName.isEmpty() && !name.startsWith("ts-")) {
      return null; // not a proxy name
    }
    return m;
  }

  /** The golden files of a state: file id → documents, sorted by file id. */
  TreeMap<String, List<ObjectNode>> files(ClusterState state) {
    TreeMap<String, List<ObjectNode>> files = new TreeMap<>();
    Map<String, String> fileOfInput = new LinkedHashMap<>(); // Kind/ns/name -> file id
    for (ClusterState.Observed o : state.inputs()) {
      GoldenInputs.Input in = o.input();
      if (in.kind().equals("Namespace")) {
        continue;
      }
      String file = fileId(in.kind(), in.namespace(), in.name());
      fileOfInput.put(in.kind() + "/" + (in.namespace().isEmpty() ? "" : in.namespace() + "/") + in.name(), file);
      List<ObjectNode> docs = new ArrayList<>();
      if (o.live() != null) {
        docs.add(parentView(o.live()));
      }
      files.put(file, docs);
    }
    Map<String, ObjectNode> createdByUid = new LinkedHashMap<>();
    state.created().forEach(c -> createdByUid.put(c.path("metadata").path("uid").asText(), c));
    Map<String, String> uidToInputFile = new LinkedHashMap<>();
    for (ClusterState.Observed o : state.inputs()) {
      if (o.live() != null && !o.input().kind().equals("Namespace")) {
        uidToInputFile.put(o.live().path("metadata").path("uid").asText(),
            fileId(o.input().kind(), o.input().namespace(), o.input().name()));
      }
    }
    List<ObjectNode> created = new ArrayList<>(state.created());
    created.sort(Comparator.comparingInt((ObjectNode c) -> kindRank(c.path("kind").asText()))
        .thenComparing(c -> c.path("kind").asText())
        .thenComparing(c -> replace(replacements, c.path("metadata").path("name").asText())));
    for (ObjectNode c : created) {
      String file = ownerFile(c, fileOfInput, uidToInputFile, createdByUid, 0);
      files.computeIfAbsent(file == null ? UNOWNED : file, k -> new ArrayList<>()).add(createdView(c));
    }
    return files;
  }

  private static int kindRank(String kind) {
    return switch (kind) {
      case "Service" -> 0;
      case "Secret" -> 1;
      case "StatefulSet" -> 2;
      default -> 3;
    };
  }

  private String ownerFile(ObjectNode c, Map<String, String> fileOfInput, Map<String, String> uidToInputFile,
      Map<String, ObjectNode> createdByUid, int depth) {
    for (JsonNode ref : c.path("metadata").path("ownerReferences")) {
      String uid = ref.path("uid").asText();
      if (uidToInputFile.containsKey(uid)) {
        return uidToInputFile.get(uid);
      }
      if (createdByUid.containsKey(uid) && depth < 5) {
        String f = ownerFile(createdByUid.get(uid), fileOfInput, uidToInputFile, createdByUid, depth + 1);
        if (f != null) {
          return f;
        }
      }
    }
    JsonNode labels = c.path("metadata").path("labels");
    // The Role and RoleBinding of an HA Ingress's certificate Secret (all three named after the domain) go with it.
    String domain = labels.path("tailscale.com/domain").asText("");
    if (!domain.isEmpty() && !c.path("kind").asText().equals("Secret") && depth < 5) {
      for (ObjectNode other : createdByUid.values()) {
        if (other.path("kind").asText().equals("Secret") && other.path("metadata").path("name").asText()
            .equals(domain)) {
          return ownerFile(other, fileOfInput, uidToInputFile, createdByUid, depth + 1);
        }
      }
    }
    String kind = PARENT_TYPES.get(labels.path("tailscale.com/parent-resource-type").asText());
    if (kind != null) {
      String ns = labels.path("tailscale.com/parent-resource-ns").asText("");
      String name = labels.path("tailscale.com/parent-resource").asText();
      return fileOfInput.get(kind + "/" + (ns.isEmpty() ? "" : ns + "/") + name);
    }
    // A metrics Service (tailscale.com/metrics-target: <StatefulSet>, labelled without the parent labels upstream)
    // goes with the proxy StatefulSet it targets.
    String target = labels.path("tailscale.com/metrics-target").asText("");
    if (!target.isEmpty() && depth < 5) {
      for (ObjectNode other : createdByUid.values()) {
        if (other.path("kind").asText().equals("StatefulSet")
            && other.path("metadata").path("name").asText().equals(target)) {
          return ownerFile(other, fileOfInput, uidToInputFile, createdByUid, depth + 1);
        }
      }
    }
    return null;
  }

  /** An input object: what the user sees of it. */
  private ObjectNode parentView(ObjectNode live) {
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    out.set("apiVersion", live.get("apiVersion"));
    out.set("kind", live.get("kind"));
    out.set("metadata", metadata(live.path("metadata")));
    for (String f : List.of("spec", "status")) {
      if (live.has(f)) {
        out.set(f, live.get(f).deepCopy());
      }
    }
    return (ObjectNode) normalise(out);
  }

  /** An object the operator created. */
  private ObjectNode createdView(ObjectNode obj) {
    ObjectNode out = obj.deepCopy();
    out.set("metadata", metadata(obj.path("metadata")));
    String kind = obj.path("kind").asText();
    if (STATUS_BY_KUBERNETES.contains(kind)) {
      out.remove("status");
    }
    if (kind.equals("Secret")) {
      JsonNode data = out.remove("data");
      ObjectNode plain = JsonNodeFactory.instance.objectNode();
      if (data != null) {
        TreeMap<String, String> decoded = new TreeMap<>();
        data.fields().forEachRemaining(e -> decoded.put(e.getKey(), decode(e.getValue().asText())));
        decoded.forEach((k, v) -> {
          if (!writtenByProxy(k)) {
            plain.put(k, redact(k, v));
          }
        });
      }
      out.set("stringData", plain);
    }
    if (kind.equals("EndpointSlice") && out.path("endpoints").isArray()) {
      // a set: the official operator lists the proxy Pods in cache order
      List<JsonNode> endpoints = new ArrayList<>();
      out.path("endpoints").forEach(e -> endpoints.add(normalise(e)));
      endpoints.sort(Comparator.comparing(JsonNode::toString));
      out.putArray("endpoints").addAll(endpoints);
    }
    if (kind.equals("ConfigMap") && out.path("binaryData").isObject()) {
      ObjectNode decoded = JsonNodeFactory.instance.objectNode();
      out.path("binaryData").fields().forEachRemaining(e -> decoded.put(e.getKey(), decode(e.getValue().asText())));
      out.set("binaryData", decoded);
    }
    return (ObjectNode) normalise(out);
  }

  private static ObjectNode metadata(JsonNode meta) {
    ObjectNode m = ((ObjectNode) meta).deepCopy();
    DROPPED_METADATA.forEach(m::remove);
    return m;
  }

  static boolean writtenByProxy(String key) {
    return PROXY_KEYS.contains(key) || key.startsWith("_") || key.startsWith("profile-") || key.endsWith(".crt")
        || key.endsWith(".key");
  }

  private static String redact(String key, String value) {
    if (key.startsWith("cap-") || key.equals("tailscaled")) {
      return sortAdvertisedServices(AUTH_KEY.matcher(value).replaceAll("\"AuthKey\":\"<redacted>\""));
    }
    return value;
  }

  /**
   * A tailscaled config's {@code AdvertiseServices} in sorted order: a set, to which the HA parents of one group are
   * added in the order their reconciles happen to reach it.
   */
  static String sortAdvertisedServices(String config) {
    Matcher m = ADVERTISED.matcher(config);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      List<String> names = new ArrayList<>(List.of(m.group(1).split(",")));
      names.sort(Comparator.naturalOrder());
      m.appendReplacement(out, Matcher.quoteReplacement("\"AdvertiseServices\":[" + String.join(",", names) + "]"));
    }
    return m.appendTail(out).toString();
  }

  private static String decode(String base64) {
    byte[] bytes = Base64.getDecoder().decode(base64);
    try {
      return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      return "<" + bytes.length + " bytes of binary data>";
    }
  }

  /** Placeholders and the structural rules, applied to a whole tree. */
  JsonNode normalise(JsonNode node) {
    if (node.isObject()) {
      ObjectNode out = JsonNodeFactory.instance.objectNode();
      Iterator<Map.Entry<String, JsonNode>> it = node.fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        String k = e.getKey();
        JsonNode v = e.getValue();
        if (TIME_FIELDS.contains(k) && v.isTextual()) {
          out.put(k, "<time>");
        } else if (PORT_FIELDS.contains(k) && v.isNumber()) {
          out.put(k, "<node-port>");
        } else if (CONTAINER_PORT_FIELDS.contains(k) && v.isNumber() && containerPorts.containsKey(v.asText())) {
          out.put(k, containerPorts.get(v.asText()));
        } else {
          out.set(k, normalise(v));
        }
      }
      return out;
    }
    if (node.isArray()) {
      ArrayNode out = JsonNodeFactory.instance.arrayNode();
      node.forEach(e -> out.add(normalise(e)));
      return out;
    }
    if (node.isTextual()) {
      return TextNode.valueOf(replace(replacements, node.asText()));
    }
    return node;
  }

  /**
   * Replaces every whole occurrence of each key, longest keys first: not where the occurrence continues a word
   * ({@code 10.96.0.1} is not replaced inside {@code 10.96.0.12}).
   */
  static String replace(Map<String, String> replacements, String s) {
    String out = s;
    for (Map.Entry<String, String> e : replacements.entrySet()) {
      String key = e.getKey();
      if (!out.contains(key)) {
        continue;
      }
      StringBuilder sb = new StringBuilder(out.length());
      int from = 0;
      int at;
      while ((at = out.indexOf(key, from)) >= 0) {
        int end = at + key.length();
        boolean whole = (at == 0 || !continuesWord(out.charAt(at - 1), key.charAt(0)))
            && (end == out.length() || !continuesWord(out.charAt(end), key.charAt(key.length() - 1)));
        sb.append(out, from, at).append(whole ? e.getValue() : key);
        from = end;
      }
      out = sb.append(out.substring(from)).toString();
    }
    return out;
  }

  private static boolean continuesWord(char neighbour, char edge) {
    return Character.isLetterOrDigit(neighbour) && Character.isLetterOrDigit(edge);
  }
}
