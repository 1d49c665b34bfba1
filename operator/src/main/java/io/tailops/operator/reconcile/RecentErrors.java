package io.tailops.operator.reconcile;

/** Where reconciles leave errors for the status page and {@code doctor} (implemented by the runtime's health). */
public interface RecentErrors {
  void error(String object, String message);
}
