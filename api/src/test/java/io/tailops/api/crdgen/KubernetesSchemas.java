package io.tailops.api.crdgen;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.Map;

/**
 * The CRD schema of a Kubernetes type (e.g. {@code io.k8s.api.core.v1.Affinity}), built from the OpenAPI v3 document
 * of Kubernetes itself ({@code kubernetes-core-v1-openapi.json}, extracted by {@code api/kubernetes-schemas.sh}) with
 * the rules controller-gen follows when it writes such a type into the official CRDs:
 * <ul>
 *   <li>references are inlined; the referring field's description replaces the type's;</li>
 *   <li>{@code Quantity} becomes an integer-or-string matching the quantity pattern, {@code IntOrString} an
 *       integer-or-string, {@code Time} a {@code date-time} string;</li>
 *   <li>openapi-gen's zero-value defaults (on required properties, list items and map values) are dropped, because
 *       controller-gen writes only explicit {@code +default} markers (which sit on optional properties), and a default
 *       in a CRD schema changes the stored object;</li>
 *   <li>{@code x-kubernetes-unions} is dropped (not allowed in a CRD schema);</li>
 *   <li>the kubebuilder validation markers of {@code metav1.Condition}, which the OpenAPI document leaves out, are
 *       added ({@link #CONDITION_MARKERS}).</li>
 * </ul>
 */
final class KubernetesSchemas {
  static final String RESOURCE = "kubernetes-core-v1-openapi.json";
  static final String CONDITION = "io.k8s.apimachinery.pkg.apis.meta.v1.Condition";
  /** The quantity pattern of {@code resource.Quantity} (k8s.io/apimachinery/pkg/api/resource). */
  static final String QUANTITY_PATTERN = "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE]"
      + "(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$";

  /**
   * The {@code +kubebuilder:validation} markers of {@code metav1.Condition}'s fields in
   * k8s.io/apimachinery/pkg/apis/meta/v1/types.go, as a JSON merge into the field schemas.
   */
  static final String CONDITION_MARKERS = """
      {
        "type": {"maxLength": 316, "pattern":
          "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$"},
        "status": {"enum": ["True", "False", "Unknown"]},
        "observedGeneration": {"minimum": 0},
        "reason": {"maxLength": 1024, "minLength": 1, "pattern": "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"},
        "message": {"maxLength": 32768}
      }
      """;

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private final ObjectNode definitions;
  private final ObjectNode conditionMarkers;

  private KubernetesSchemas(ObjectNode definitions, ObjectNode conditionMarkers) {
    this.definitions = definitions;
    this.conditionMarkers = conditionMarkers;
  }

  static KubernetesSchemas load(ObjectMapper json) {
    try (InputStream in = KubernetesSchemas.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(RESOURCE + " is missing next to " + KubernetesSchemas.class.getName()
            + ": run api/kubernetes-schemas.sh");
      }
      ObjectNode defs = (ObjectNode) json.readTree(in).path("components").path("schemas");
      return new KubernetesSchemas(defs, (ObjectNode) json.readTree(CONDITION_MARKERS));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  boolean has(String definition) {
    return definitions.has(definition);
  }

  /** The CRD schema of a definition, e.g. {@code io.k8s.api.core.v1.Toleration}. */
  ObjectNode schemaOf(String definition) {
    JsonNode def = definitions.get(definition);
    if (def == null) {
      throw new IllegalStateException("the Kubernetes definition " + definition + " is not in " + RESOURCE
          + ": add it to ROOTS in api/kubernetes-schemas.sh and run that script");
    }
    switch (definition) {
      case "io.k8s.apimachinery.pkg.api.resource.Quantity":
        return intOrString().put("pattern", QUANTITY_PATTERN);
      case "io.k8s.apimachinery.pkg.util.intstr.IntOrString":
        return intOrString();
      case "io.k8s.apimachinery.pkg.apis.meta.v1.Time":
        return NODES.objectNode().put("type", "string").put("format", "date-time");
      default:
        break;
    }
    ObjectNode out = convert((ObjectNode) def);
    if (CONDITION.equals(definition)) {
      ObjectNode props = (ObjectNode) out.get("properties");
      conditionMarkers.fields().forEachRemaining(
          e -> ((ObjectNode) props.get(e.getKey())).setAll((ObjectNode) e.getValue()));
    }
    return out;
  }

  private static ObjectNode intOrString() {
    ObjectNode n = NODES.objectNode();
    ArrayNode anyOf = n.putArray("anyOf");
    anyOf.addObject().put("type", "integer");
    anyOf.addObject().put("type", "string");
    n.put("x-kubernetes-int-or-string", true);
    return n;
  }

  /** A schema node of the document, with references resolved. */
  private ObjectNode convert(ObjectNode node) {
    String ref = reference(node);
    if (ref != null) {
      ObjectNode out = schemaOf(ref);
      JsonNode description = node.get("description");
      if (description != null) {
        out.set("description", description);
      }
      return out;
    }
    ObjectNode out = NODES.objectNode();
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      switch (e.getKey()) {
        case "properties" -> {
          ObjectNode props = out.putObject("properties");
          JsonNode required = node.path("required");
          e.getValue().fields().forEachRemaining(p -> {
            ObjectNode prop = convert((ObjectNode) p.getValue());
            if (isRequired(required, p.getKey())) {
              prop.remove("default");
            }
            props.set(p.getKey(), prop);
          });
        }
        case "items", "additionalProperties" -> {
          if (e.getValue().isObject()) {
            ObjectNode child = convert((ObjectNode) e.getValue());
            child.remove("default");
            out.set(e.getKey(), child);
          } else {
            out.set(e.getKey(), e.getValue());
          }
        }
        case "x-kubernetes-unions", "allOf", "$ref" -> {
          // dropped (see the class comment); allOf/$ref are handled by reference()
        }
        default -> out.set(e.getKey(), e.getValue().deepCopy());
      }
    }
    return out;
  }

  private static boolean isRequired(JsonNode required, String name) {
    for (JsonNode r : required) {
      if (name.equals(r.asText())) {
        return true;
      }
    }
    return false;
  }

  /** The definition a node stands for: {@code $ref}, or an {@code allOf} of exactly one {@code $ref}. */
  private static String reference(JsonNode node) {
    JsonNode ref = node.get("$ref");
    if (ref == null && node.path("allOf").size() == 1) {
      ref = node.path("allOf").get(0).get("$ref");
    }
    return ref == null ? null : ref.asText().replaceFirst("^#/components/schemas/", "");
  }
}
