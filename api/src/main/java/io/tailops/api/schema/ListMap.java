package io.tailops.api.schema;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The list is a map keyed by the given item fields ({@code x-kubernetes-list-type: map} with
 * {@code x-kubernetes-list-map-keys}): server-side apply merges its items by key instead of replacing the list, and the
 * API server rejects two items with the same key. The keys must be required fields of the item.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.FIELD)
public @interface ListMap {
  /** The item fields that identify an item. */
  String[] keys();
}
