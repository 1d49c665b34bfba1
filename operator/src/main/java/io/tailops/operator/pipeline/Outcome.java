package io.tailops.operator.pipeline;

import io.tailops.operator.proxy.ObservedProxy;
import io.tailops.operator.proxy.ProxySpec;
import io.tailops.operator.status.Problem;
import java.util.List;

/** Where a reconcile of a parent ended, for the kind's status projection. */
public sealed interface Outcome {
  /** Condition reason while waiting (ProxyClass not ready, self-healing). */
  String PENDING = "ProxyPending";
  /** Condition reason of a failure the user must look at. */
  String FAILED = "ProxyFailed";
  /** Condition reason when another parent holds the hostname. */
  String CONFLICT = "HostnameConflict";

  /** Why the pipeline stopped before the proxy was (re)provisioned. */
  enum Gate {
    /** The plan found the parent invalid. */
    INVALID,
    /** The named ProxyClass does not exist. */
    PROXY_CLASS_MISSING,
    /** The named ProxyClass is not (yet) ready. */
    PROXY_CLASS_NOT_READY,
    /** Another parent holds the hostname. */
    HOSTNAME_CONFLICT,
    /** Provisioning failed (API server, control plane). */
    PROVISIONING_FAILED
  }

  /**
   * The parent asks for no proxy.
   *
   * @param removed whether a proxy (or the operator's finalizer) was removed in this reconcile
   */
  record NotWanted(boolean removed) implements Outcome {
  }

  /**
   * Stopped at a gate.
   *
   * @param conditionReason the condition reason for kinds with a condition
   * @param problems what to tell, the main one first
   */
  record Blocked(Gate gate, String conditionReason, List<Problem> problems) implements Outcome {
    public Blocked {
      problems = List.copyOf(problems);
    }

    public Problem problem() {
      return problems.get(0);
    }
  }

  /** Self-healing re-registered the proxy in this reconcile; it comes back on its own. */
  record Healing(Problem event) implements Outcome {
  }

  /**
   * The proxy is provisioned; {@code proxy} is what it reports.
   *
   * @param spec the proxy as provisioned, with its ProxyClass
   */
  record Running(ObservedProxy proxy, ProxySpec spec) implements Outcome {
  }
}
