package io.tailops.operator.pipeline;

import io.tailops.operator.proxy.ProxyBlueprint;
import io.tailops.operator.proxy.ProxySpec;
import io.tailops.operator.proxy.StandardProxy;
import io.tailops.operator.status.Problem;
import java.util.List;

/**
 * What a kind's plan says about a parent.
 *
 * @param <Q> the kind's own plan
 */
public sealed interface Decision<Q> {

  /**
   * The parent asks for no proxy (any proxy it had is removed).
   *
   * @param notes what to tell the user although nothing is done: near misses (a value that looks like yes but is not
   *     the accepted form), each a Warning naming the accepted form; recorded once while they hold, listed by doctor
   */
  record NotWanted<Q>(String why, List<Problem> notes) implements Decision<Q> {
    public NotWanted {
      notes = List.copyOf(notes);
    }

    public NotWanted(String why) {
      this(why, List.of());
    }
  }

  /**
   * The parent asks for a proxy but cannot get one as it is; an existing proxy is left as it is.
   *
   * @param conditionReason the reason for kinds with a condition ({@code ProxyInvalid})
   * @param problems what is wrong, first the main one (the condition's message and event)
   */
  record Invalid<Q>(String conditionReason, List<Problem> problems) implements Decision<Q> {
    public Invalid {
      problems = List.copyOf(problems);
      if (problems.isEmpty()) {
        throw new IllegalArgumentException("an invalid parent needs a problem to tell");
      }
    }
  }

  /**
   * The parent gets (or keeps) a proxy.
   *
   * @param spec the proxy, without its ProxyClass (the pipeline looks it up and checks it is ready)
   * @param proxyClassName the ProxyClass to apply, or null
   * @param funnel whether the proxy serves through Funnel (the pipeline checks the tailnet policy allows it)
   * @param notes what to tell the user regardless of the outcome (ignored rules, Funnel not allowed, ...)
   * @param plan the kind's own plan, handed to its projection
   * @param blueprint how the proxy's objects are built from the spec
   */
  record Wanted<Q>(ProxySpec spec, String proxyClassName, boolean funnel, List<Problem> notes, Q plan,
      ProxyBlueprint blueprint) implements Decision<Q> {
    public Wanted {
      notes = List.copyOf(notes);
    }

    /** A proxy of the standard shape ({@link StandardProxy}). */
    public Wanted(ProxySpec spec, String proxyClassName, boolean funnel, List<Problem> notes, Q plan) {
      this(spec, proxyClassName, funnel, notes, plan, StandardProxy::build);
    }
  }
}
