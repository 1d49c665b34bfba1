package io.tailops.operator.proxy;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * A change to a proxy Secret, written by {@link ProxySecrets} as one JSON merge patch guarded by the resourceVersion it
 * was decided on.
 *
 * @param data keys to set (decoded values)
 * @param removeData keys to remove
 * @param annotations annotations to set
 * @param removeAnnotations annotations to remove
 */
public record SecretChange(Map<String, String> data, Set<String> removeData, Map<String, String> annotations,
    Set<String> removeAnnotations) {

  public static final SecretChange NONE = new SecretChange(Map.of(), Set.of(), Map.of(), Set.of());

  public SecretChange {
    data = Map.copyOf(data);
    removeData = Set.copyOf(removeData);
    annotations = Map.copyOf(annotations);
    removeAnnotations = Set.copyOf(removeAnnotations);
  }

  public boolean isEmpty() {
    return data.isEmpty() && removeData.isEmpty() && annotations.isEmpty() && removeAnnotations.isEmpty();
  }

  /** A builder, for changes assembled step by step. */
  public static Builder builder() {
    return new Builder();
  }

  /** Collects a change. */
  public static final class Builder {
    private final Map<String, String> data = new LinkedHashMap<>();
    private final Set<String> removeData = new LinkedHashSet<>();
    private final Map<String, String> annotations = new LinkedHashMap<>();
    private final Set<String> removeAnnotations = new LinkedHashSet<>();

    public Builder data(Map<String, String> values) {
      data.putAll(values);
      return this;
    }

    public Builder removeData(String key) {
      removeData.add(key);
      return this;
    }

    public Builder annotate(String key, String value) {
      annotations.put(key, value);
      return this;
    }

    public Builder removeAnnotation(String key) {
      removeAnnotations.add(key);
      return this;
    }

    public SecretChange build() {
      return new SecretChange(data, removeData, annotations, removeAnnotations);
    }
  }
}
