package io.tailops.operator.k8s;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/** Which Services and Ingresses use which ProxyClass, from the reconcilers' caches. */
public final class ProxyClassUsers {
  private final Map<String, Function<String, List<String>>> sources = new ConcurrentHashMap<>();

  /** Registers a source: ProxyClass name → users described as {@code Kind namespace/name}. */
  public void register(String kind, Function<String, List<String>> source) {
    sources.put(kind, source);
  }

  public List<String> usersOf(String proxyClass) {
    List<String> out = new ArrayList<>();
    sources.values().forEach(s -> out.addAll(s.apply(proxyClass)));
    out.sort(String::compareTo);
    return out;
  }
}
