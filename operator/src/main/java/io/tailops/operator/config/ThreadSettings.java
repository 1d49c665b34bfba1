package io.tailops.operator.config;

/**
 * Sizes of the operator's thread pools (docs/design.md "Threads"). Each pool's idle threads end after 20 s.
 *
 * @param reconcile {@code OPERATOR_RECONCILE_THREADS} (default 8, 1–64): reconciles run in parallel. A reconcile
 *     spends most of its time waiting for the API server or the control plane, so more threads than cores pay off
 *     while many objects change at once.
 * @param dispatch {@code OPERATOR_DISPATCH_THREADS} (default 2, 1–16): threads that hand the Kubernetes watches'
 *     events to the controllers (the Kubernetes client's task executor). Each watch's events are handed on in order,
 *     one at a time, and handing one on only files it for a reconcile (no request), so one thread per core keeps up;
 *     a reconcile never runs on these threads, so a reconcile that hangs cannot stop events from arriving.
 * @param http {@code OPERATOR_HTTP_THREADS} (default 2, 1–16): executor threads of the Kubernetes client's HTTP
 *     client, which complete responses and deliver watch data; the callers wait in their own threads.
 */
public record ThreadSettings(int reconcile, int dispatch, int http) {
  public static final ThreadSettings DEFAULTS = new ThreadSettings(8, 2, 2);

  public ThreadSettings {
    if (reconcile < 1 || dispatch < 1 || http < 1) {
      throw new IllegalArgumentException("every pool needs at least one thread: " + reconcile + "/" + dispatch + "/"
          + http);
    }
  }
}
