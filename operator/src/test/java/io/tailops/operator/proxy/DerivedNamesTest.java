package io.tailops.operator.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Every name derived from a parent's name is valid for every valid parent name, and unchanged when already valid. */
class DerivedNamesTest {
  static final Pattern DNS_1035 = Pattern.compile("[a-z]([-a-z0-9]*[a-z0-9])?");
  static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  static final Pattern LABEL_VALUE = Pattern.compile("(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?");

  /** Valid parent names of every kind: DNS subdomains up to 253 characters (Ingress, Connector, ProxyGroup). */
  static List<String> parentNames() {
    String label63 = "a".repeat(62) + "z";
    return List.of("web", "grafana.example.com", "a", "0", "9lives", "a-b", "x.y", "a.b.c.d.e.f",
        label63, label63 + "." + label63 + "." + label63 + "." + "b".repeat(61), "a" + "-".repeat(60) + "b",
        "a.-b", "x" + ".y".repeat(100));
  }

  @Test
  void proxyObjectNamesAreDns1035LabelsThatFitTheControllerRevisionLabel() {
    for (String name : parentNames()) {
      for (String type : List.of("svc", "ingress", "connector", "proxygroup")) {
        String sts = ProxyNames.statefulSetName(new ParentRef(type, "ns", name, "uid"));
        assertThat(sts).as(name).matches(DNS_1035).hasSizeLessThanOrEqualTo(52);
        String secret = ProxyNames.secretName(sts, 9);
        assertThat(secret).as(name).matches(DNS_LABEL).hasSizeLessThanOrEqualTo(63);
        assertThat(ProxyMetrics.serviceName(sts)).as(name).matches(DNS_1035).hasSizeLessThanOrEqualTo(63);
      }
    }
  }

  @Test
  void validNamesStayAsUpstreamMakesThem() {
    assertThat(ProxyNames.statefulSetName(new ParentRef("svc", "default", "my-service", "u")))
        .matches("ts-my-service-[a-z0-9]{5}");
    assertThat(ProxyNames.statefulSetName(new ParentRef("ingress", "default", "grafana.example.com", "u")))
        .matches("ts-grafana-example-com-[a-z0-9]{5}");
    assertThat(DerivedNames.labelValue("grafana.example.com")).isEqualTo("grafana.example.com");
    assertThat(DerivedNames.labelValue("web")).isEqualTo("web");
    assertThat(DerivedNames.hostname("default-web", "x", "y")).isEqualTo(
        new DerivedNames.DerivedHostname("default-web", null));
  }

  @Test
  void labelValuesAreValidForEveryParentNameAndApartForLongNamesWithACommonPrefix() {
    for (String name : parentNames()) {
      String v = DerivedNames.labelValue(name);
      assertThat(v).as(name).matches(LABEL_VALUE).hasSizeLessThanOrEqualTo(63);
      ParentRef ref = new ParentRef("ingress", "ns", name, "u");
      assertThat(ChildLabels.belongsTo(ChildLabels.of(ref), ref)).as(name).isTrue();
      assertThat(ChildLabels.of(ref).values()).allSatisfy(x -> assertThat(x).matches(LABEL_VALUE)
          .hasSizeLessThanOrEqualTo(63));
    }
    String a = "x".repeat(100) + "a";
    String b = "x".repeat(100) + "b";
    assertThat(DerivedNames.labelValue(a)).isNotEqualTo(DerivedNames.labelValue(b));
    assertThat(ChildLabels.belongsTo(ChildLabels.of(new ParentRef("ingress", "ns", a, "u")),
        new ParentRef("ingress", "ns", b, "u"))).isFalse();
  }

  @Test
  void defaultHostnamesAreValidDnsLabelsAndSayWhereTheyCameFromWhenAdjusted() {
    for (String name : parentNames()) {
      DerivedNames.DerivedHostname h = DerivedNames.hostname("some-namespace-" + name + "-ingress",
          "the Ingress's namespace and name", "spec.tls[0].hosts[0]");
      assertThat(h.hostname()).as(name).matches(DNS_LABEL).hasSizeLessThanOrEqualTo(63);
      assertThat(Validation.dnsLabelError(h.hostname())).as(name).isEmpty();
    }
    DerivedNames.DerivedHostname dotted = DerivedNames.hostname("monitoring-grafana.example.com-ingress",
        "the Ingress's namespace and name, as it has no spec.tls[0].hosts[0]", "spec.tls[0].hosts[0]");
    assertThat(dotted.hostname()).isEqualTo("monitoring-grafana-example-com-ingress");
    assertThat(dotted.adjusted()).isEqualTo("the default hostname \"monitoring-grafana.example.com-ingress\" (from the "
        + "Ingress's namespace and name, as it has no spec.tls[0].hosts[0]) is not a valid DNS label "
        + "(\"monitoring-grafana.example.com-ingress\" is not a valid DNS label: contains invalid character \".\"), so "
        + "the proxy uses \"monitoring-grafana-example-com-ingress\"; set spec.tls[0].hosts[0] to choose another");
    String longDefault = "bad-input-" + "n".repeat(60);
    DerivedNames.DerivedHostname cut = DerivedNames.hostname(longDefault, "the Service's namespace and name",
        "the tailscale.com/hostname annotation");
    assertThat(cut.hostname()).hasSize(63).startsWith("bad-input-nnn").matches(DNS_LABEL);
    assertThat(cut.adjusted()).contains("is too long, max length is 63 bytes");
  }

  @Test
  void metricsLabelsFitEvenWhereUpstreamsDoNot() {
    ProxySpec spec = new ProxySpec(new ParentRef("svc", "monitoring", "prometheus-kube-prometheus-alertmanager",
        "u"), "h", List.of("tag:k8s"), new ProxyTarget.ClusterIp("10.0.0.1"), null, false, false, false);
    assertThat(ProxyMetrics.labels(spec, "ts-x-abcde").values()).allSatisfy(v -> assertThat(v).matches(LABEL_VALUE)
        .hasSizeLessThanOrEqualTo(63));
    ProxySpec shortSpec = new ProxySpec(new ParentRef("svc", "default", "web", "u"), "h", List.of("tag:k8s"),
        new ProxyTarget.ClusterIp("10.0.0.1"), null, false, false, false);
    assertThat(ProxyMetrics.labels(shortSpec, "ts-x-abcde")).containsEntry("ts_prom_job",
        "ts_ingress_service_default_web");
  }
}
