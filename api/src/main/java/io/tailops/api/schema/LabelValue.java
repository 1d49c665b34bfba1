package io.tailops.api.schema;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A Kubernetes label value: at most 63 characters, alphanumerics with {@code -}, {@code _} and {@code .} inside, or
 * empty. Used on map values ({@code Map<String, @LabelValue String>}); the API server rejects other values when the
 * object is written, not later when the operator copies them onto a Pod.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.FIELD, ElementType.TYPE_USE})
public @interface LabelValue {
  /** The pattern a label value must match. */
  String PATTERN = "^(([a-zA-Z0-9][-._a-zA-Z0-9]*)?[a-zA-Z0-9])?$";
  /** The maximum length of a label value. */
  int MAX_LENGTH = 63;
}
