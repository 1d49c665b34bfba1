package io.tailops.api.crdgen;

import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.introspect.AnnotatedField;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.crdv2.generator.CRDPostProcessor;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.CustomResource;
import io.tailops.api.schema.Format;
import io.tailops.api.schema.LabelValue;
import io.tailops.api.schema.ListMap;
import java.lang.reflect.AnnotatedParameterizedType;
import java.lang.reflect.AnnotatedType;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Completes the CRDs that fabric8's generator writes from the model, where it has no notion of what controller-gen
 * writes into the official CRDs:
 * <ul>
 *   <li>fields of Kubernetes types (Affinity, Toleration, ResourceRequirements, Condition, ...) get the schema
 *       Kubernetes publishes for the type ({@link KubernetesSchemas}): descriptions, nested {@code required},
 *       list and map semantics ({@code x-kubernetes-list-type}, {@code x-kubernetes-map-type}), quantity patterns;</li>
 *   <li>this module's markers: {@link ListMap}, {@link Format}, {@link LabelValue};</li>
 *   <li>the {@code apiVersion}, {@code kind} and {@code metadata} properties of the object, and the list kind;</li>
 *   <li>printer columns in the order of the class's annotations (fabric8 sorts them), without {@code priority: 0};</li>
 *   <li>whole-number bounds written as integers ({@code minimum: 0}, not {@code 0.0}).</li>
 * </ul>
 * The model is walked together with the schema: each schema property is matched to the Java property Jackson maps
 * to it, so the result follows the Java types and annotations, not a list kept here.
 */
final class CrdFinisher implements CRDPostProcessor {
  /** Packages of fabric8's Kubernetes model whose types have a schema in {@link KubernetesSchemas}. */
  private static final String FABRIC8_MODEL = "io.fabric8.kubernetes.api.model.";
  private static final List<String> KUBERNETES_PACKAGES = List.of("io.k8s.api.core.v1.",
      "io.k8s.apimachinery.pkg.apis.meta.v1.");
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private final Map<String, Class<? extends CustomResource<?, ?>>> kindsByCrdName = new HashMap<>();
  private final ObjectMapper mapper = new ObjectMapper();
  private final KubernetesSchemas kubernetes = KubernetesSchemas.load(mapper);

  CrdFinisher(List<Class<? extends CustomResource<?, ?>>> kinds) {
    for (Class<? extends CustomResource<?, ?>> kind : kinds) {
      kindsByCrdName.put(CustomResource.getCRDName(kind), kind);
    }
  }

  @Override
  public HasMetadata process(HasMetadata crd, String crdSpecVersion) {
    Class<? extends CustomResource<?, ?>> kind = kindsByCrdName.get(crd.getMetadata().getName());
    if (kind == null) {
      throw new IllegalStateException("no model class for the CRD " + crd.getMetadata().getName());
    }
    ObjectNode tree = mapper.valueToTree(crd);
    for (JsonNode version : tree.path("spec").path("versions")) {
      ObjectNode schema = (ObjectNode) version.path("schema").path("openAPIV3Schema");
      finishRoot(schema, kind);
      wholeNumberBounds(schema);
      printerColumns((ObjectNode) version, kind);
    }
    ((ObjectNode) tree.path("spec").path("names")).put("listKind", HasMetadata.getKind(kind) + "List");
    // Generic, not a CustomResourceDefinition: its JSONSchemaProps would write whole-number bounds as doubles again.
    return mapper.convertValue(tree, GenericKubernetesResource.class);
  }

  private void finishRoot(ObjectNode schema, Class<?> kind) {
    ObjectNode props = (ObjectNode) schema.get("properties");
    Map<String, BeanPropertyDefinition> javaProps = beanProperties(mapper.constructType(kind));
    for (String name : List.of("spec", "status")) {
      if (props.has(name)) {
        finishProperty((ObjectNode) props.get(name), javaProps.get(name), kind.getSimpleName() + "." + name);
      }
    }
    ObjectNode ordered = NODES.objectNode();
    ordered.putObject("apiVersion").put("type", "string").put("description", "APIVersion defines the versioned "
        + "schema of this representation of an object. Servers convert recognized schemas to the latest internal "
        + "value, and may reject unrecognized values.");
    ordered.putObject("kind").put("type", "string").put("description", "Kind is a string value representing the "
        + "REST resource this object represents. Servers may infer this from the endpoint the client submits "
        + "requests to. Cannot be updated. In CamelCase.");
    ordered.putObject("metadata").put("type", "object");
    ordered.setAll(props);
    schema.set("properties", ordered);
  }

  /** Finishes the schema of one Java property (a field of an object of the model). */
  private void finishProperty(ObjectNode schema, BeanPropertyDefinition prop, String where) {
    if (prop == null) {
      throw new IllegalStateException(where + ": no Java property for this schema property");
    }
    Field field = prop.getField() == null ? null : prop.getField().getAnnotated();
    AnnotatedType annotated = field == null ? null : field.getAnnotatedType();
    ObjectNode finished = finishValue(schema, prop.getPrimaryType(), annotated, where);
    if (finished != schema) {
      schema.removeAll();
      schema.setAll(finished);
    }
    if (field != null) {
      ListMap listMap = field.getAnnotation(ListMap.class);
      if (listMap != null) {
        listMap(schema, listMap, where);
      }
    }
  }

  /**
   * The finished schema of a value of the given Java type: the Kubernetes schema for a Kubernetes type (with this
   * schema's description), else this schema with its items, values or properties finished.
   */
  private ObjectNode finishValue(ObjectNode schema, JavaType type, AnnotatedType annotated, String where) {
    if (annotated != null) {
      Format format = annotated.getAnnotation(Format.class);
      if (format != null) {
        schema.put("format", format.value());
      }
      if (annotated.getAnnotation(LabelValue.class) != null) {
        schema.put("maxLength", LabelValue.MAX_LENGTH).put("pattern", LabelValue.PATTERN);
      }
    }
    String definition = kubernetesDefinition(type.getRawClass());
    if (definition != null) {
      ObjectNode k8s = kubernetes.schemaOf(definition);
      JsonNode description = schema.get("description");
      if (description != null) {
        k8s.set("description", description);
      }
      return k8s;
    }
    if (type.isCollectionLikeType() && schema.has("items")) {
      ObjectNode items = finishValue((ObjectNode) schema.get("items"), type.getContentType(),
          typeArgument(annotated, 0), where + "[]");
      schema.set("items", items);
    } else if (type.isMapLikeType() && schema.has("additionalProperties")) {
      ObjectNode values = finishValue((ObjectNode) schema.get("additionalProperties"), type.getContentType(),
          typeArgument(annotated, 1), where + "{}");
      schema.set("additionalProperties", values);
    } else if (schema.has("properties") && !type.isEnumType()) {
      Map<String, BeanPropertyDefinition> javaProps = beanProperties(type);
      for (Iterator<Map.Entry<String, JsonNode>> it = schema.get("properties").fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        finishProperty((ObjectNode) e.getValue(), javaProps.get(e.getKey()), where + "." + e.getKey());
      }
    }
    return schema;
  }

  /** The Kubernetes definition of a fabric8 model class, or null for any other class. */
  private String kubernetesDefinition(Class<?> raw) {
    if (!raw.getName().startsWith(FABRIC8_MODEL) || raw.getName().substring(FABRIC8_MODEL.length()).contains(".")) {
      return null;
    }
    for (String pkg : KUBERNETES_PACKAGES) {
      if (kubernetes.has(pkg + raw.getSimpleName())) {
        return pkg + raw.getSimpleName();
      }
    }
    throw new IllegalStateException("the model uses " + raw.getName() + ", whose Kubernetes definition is not in "
        + KubernetesSchemas.RESOURCE + ": add io.k8s.api.core.v1." + raw.getSimpleName() + " to ROOTS in "
        + "api/kubernetes-schemas.sh and run that script");
  }

  private static void listMap(ObjectNode schema, ListMap listMap, String where) {
    if (!"array".equals(schema.path("type").asText())) {
      throw new IllegalStateException(where + ": @ListMap on a field that is not a list");
    }
    List<String> required = new ArrayList<>();
    schema.path("items").path("required").forEach(r -> required.add(r.asText()));
    ArrayNode keys = NODES.arrayNode();
    for (String key : listMap.keys()) {
      if (!required.contains(key)) {
        throw new IllegalStateException(where + ": the list-map key " + key + " must be a required field of the item"
            + " (@Required)");
      }
      keys.add(key);
    }
    schema.put("x-kubernetes-list-type", "map");
    schema.set("x-kubernetes-list-map-keys", keys);
  }

  private static AnnotatedType typeArgument(AnnotatedType annotated, int index) {
    if (annotated instanceof AnnotatedParameterizedType p) {
      AnnotatedType[] args = p.getAnnotatedActualTypeArguments();
      return index < args.length ? args[index] : args[args.length - 1];
    }
    return null;
  }

  private Map<String, BeanPropertyDefinition> beanProperties(JavaType type) {
    BeanDescription desc = mapper.getSerializationConfig().introspect(type);
    Map<String, BeanPropertyDefinition> out = new HashMap<>();
    for (BeanPropertyDefinition p : desc.findProperties()) {
      out.put(p.getName(), p);
    }
    return out;
  }

  /** fabric8 writes {@code @Min(0)} as {@code minimum: 0.0}; controller-gen writes whole numbers as integers. */
  private static void wholeNumberBounds(JsonNode node) {
    if (node instanceof ObjectNode o) {
      for (String bound : List.of("minimum", "maximum")) {
        JsonNode v = o.get(bound);
        if (v instanceof DoubleNode d && d.doubleValue() == Math.rint(d.doubleValue())) {
          o.put(bound, (long) d.doubleValue());
        }
      }
    }
    node.forEach(CrdFinisher::wholeNumberBounds);
  }

  /** Printer columns in the order the kind's annotations declare them; {@code priority: 0} is the default. */
  private static void printerColumns(ObjectNode version, Class<?> kind) {
    AdditionalPrinterColumn[] declared = kind.getAnnotationsByType(AdditionalPrinterColumn.class);
    JsonNode columns = version.get("additionalPrinterColumns");
    if (columns == null || declared.length == 0) {
      return;
    }
    ArrayNode ordered = NODES.arrayNode();
    for (AdditionalPrinterColumn a : declared) {
      for (JsonNode c : columns) {
        if (a.name().equals(c.path("name").asText())) {
          ObjectNode copy = c.deepCopy();
          if (copy.path("priority").asInt(-1) == 0) {
            copy.remove("priority");
          }
          ordered.add(copy);
        }
      }
    }
    if (ordered.size() != columns.size()) {
      throw new IllegalStateException(kind.getSimpleName() + ": printer columns do not match the annotations");
    }
    version.set("additionalPrinterColumns", ordered);
  }
}
