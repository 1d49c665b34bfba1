package io.tailops.chart;

import java.util.List;

/**
 * Every intentional difference between the CRDs this project generates (api module) and the official operator's
 * v1.94.2 CRDs, with its reason. {@link OfficialCrdParityTest} fails when the CRDs differ anywhere else, and also
 * when a difference listed here no longer exists, so this list is always exactly what differs.
 *
 * <p>Not counted as differences (the comparison ignores them):
 * <ul>
 *   <li>{@code description} texts: ours are written for this project (fields of Kubernetes types carry Kubernetes'
 *       own descriptions, unwrapped);</li>
 *   <li>{@code metadata.annotations}: the official CRDs carry controller-gen's version, ours the chart's
 *       {@code helm.sh/resource-policy: keep} (added by chart/sync-crds.sh, checked by ChartCrdSyncTest);</li>
 *   <li>the order of {@code enum} values and of {@code required} field names, which mean the same in any order.</li>
 * </ul>
 */
final class OfficialCrdDifferences {
  /** Where the two CRDs differ. */
  enum Kind {
    /** The path exists in our CRD only. */
    ONLY_OURS,
    /** The path exists in the official CRD only. */
    ONLY_OFFICIAL,
    /** Both have the path, with different values. */
    VALUE
  }

  /**
   * One difference: the CRD, the path (JSON-pointer-like, from the CRD's root; list items by their index), what
   * differs, and why.
   */
  record Difference(String crd, String path, Kind kind, String reason) {
    String key() {
      return crd + " " + path + " " + kind;
    }
  }

  static final String SCHEMA = "/spec/versions/0/schema/openAPIV3Schema";

  static final List<Difference> ALL = List.of(
      new Difference("proxyclasses.tailscale.com",
          SCHEMA + "/properties/spec/properties/tailscale/properties/ephemeral",
          Kind.ONLY_OURS, "Extension of this operator: proxies registered as ephemeral devices (README, Ephemeral "
          + "proxies). The official operator does not know the field; after switching back to it the API server "
          + "drops the field from stored ProxyClasses (pruning), and proxies stop being ephemeral for new keys."),
      new Difference("recorders.tailscale.com", SCHEMA + "/properties/spec/properties/replicas/default", Kind.ONLY_OURS,
          "Fix of an upstream bug: the official v1.94.2 CRD rejects every Recorder without spec.replicas, its own "
          + "example included (its CEL rule reads self.replicas: \"no such key: replicas\"). The API server now "
          + "fills in replicas: 1, the documented default; upstream fixed it the same way in v1.100.0 "
          + "(tailscale/tailscale#17965). Stored Recorders then also pass the official v1.94.2 rule."));

  private OfficialCrdDifferences() {
  }
}
