package io.tailops.operator.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The metrics labels as upstream's metricsResourceLabels: namespaced parents have the namespace, Connectors not. */
class ProxyMetricsTest {

  @Test
  void serviceProxiesCarryTheirParentsNamespace() {
    var labels = ProxyMetrics.labels(ProxyStatefulSetTest.serviceSpec(null), "ts-web-abcde");
    assertThat(labels).containsEntry("ts_proxy_type", "ingress_service")
        .containsEntry("ts_proxy_parent_namespace", "default")
        .containsEntry("ts_prom_job", "ts_ingress_service_default_web");
  }

  @Test
  void connectorsAreClusterScoped() {
    ProxySpec spec = new ProxySpec(new ParentRef("connector", null, "office", "U"), "office-connector",
        List.of("tag:k8s"), new ProxyTarget.Connector(List.of("10.0.0.0/8"), false), null, false, false, false, null,
        1, null);
    var labels = ProxyMetrics.labels(spec, "ts-office-abcde");
    assertThat(labels).containsEntry("ts_proxy_type", "connector").containsEntry("ts_proxy_parent_name", "office")
        .containsEntry("ts_prom_job", "ts_connector_office").doesNotContainKey("ts_proxy_parent_namespace");
  }
}
