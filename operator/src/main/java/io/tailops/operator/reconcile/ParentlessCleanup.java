package io.tailops.operator.reconcile;

/**
 * A controller's sweep of the objects it made for parents that are gone without their cleanup (force-deleted, or
 * deleted while the operator was down), run by the runtime's parent-less sweep on the leader.
 */
public interface ParentlessCleanup {
  /** What it sweeps, for the log. */
  String what();

  /** Removes what it can; true when a removal is still under way (sweep again soon). */
  boolean sweepParentless();
}
