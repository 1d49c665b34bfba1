package io.tailops.operator.dns;

import static io.tailops.operator.golden.GoldenObjects.assertCovers;
import static io.tailops.operator.golden.GoldenObjects.expected;
import static io.tailops.operator.golden.GoldenObjects.find;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tailops.api.v1alpha1.DNSConfig;
import io.tailops.api.v1alpha1.DNSConfigSpec;
import io.tailops.api.v1alpha1.Nameserver;
import io.tailops.api.v1alpha1.NameserverImage;
import io.tailops.api.v1alpha1.NameserverService;
import io.tailops.operator.golden.GoldenObjects;
import java.util.List;
import org.junit.jupiter.api.Test;

class NameserverResourcesTest {

  /** The golden input, with the placeholder the golden file has for its UID. */
  static DNSConfig goldenInput() {
    DNSConfig dc = GoldenObjects.input("dnsconfig/dnsconfig.yaml", "DNSConfig", "ts-dns", DNSConfig.class);
    dc.getMetadata().setUid("<uid:DNSConfig/ts-dns>");
    return dc;
  }

  @Test
  void theObjectsAreTheOfficialOperators() {
    List<ObjectNode> golden = expected("dnsconfig/ts-dns");
    DNSConfig dc = goldenInput();
    assertCovers(find(golden, "ServiceAccount", "nameserver"), NameserverResources.serviceAccount(dc, "tailscale"));
    assertCovers(find(golden, "ConfigMap", "dnsrecords"), NameserverResources.recordsConfigMap(dc, "tailscale"));
    assertCovers(find(golden, "Service", "nameserver"), NameserverResources.service(dc, "tailscale"));
    // the revision annotation is the Deployment controller's
    ObjectNode deployment = find(golden, "Deployment", "nameserver").deepCopy();
    ((ObjectNode) deployment.path("metadata")).remove("annotations");
    assertCovers(deployment, NameserverResources.deployment(dc, "tailscale"));
  }

  @Test
  void theImageDefaultsPartByPartAsUpstreams() {
    DNSConfig dc = new DNSConfig();
    dc.getMetadata().setName("d");
    dc.setSpec(new DNSConfigSpec());
    dc.getSpec().setNameserver(new Nameserver());
    assertThat(NameserverResources.image(dc)).isEqualTo("tailscale/k8s-nameserver:stable");
    NameserverImage image = new NameserverImage();
    image.setTag("v1.94.2");
    dc.getSpec().getNameserver().setImage(image);
    assertThat(NameserverResources.image(dc)).isEqualTo("tailscale/k8s-nameserver:v1.94.2");
    image.setTag(null);
    image.setRepo("mirror.example/k8s-nameserver");
    assertThat(NameserverResources.image(dc)).isEqualTo("mirror.example/k8s-nameserver:stable");
    assertThat(NameserverResources.deployment(dc, "tailscale").getSpec().getReplicas()).isEqualTo(1);
    assertThat(NameserverResources.deployment(dc, "tailscale").getSpec().getTemplate().getSpec().getTolerations())
        .isNullOrEmpty();
  }

  @Test
  void aFixedClusterIpIsAsked() {
    DNSConfig dc = goldenInput();
    assertThat(NameserverResources.service(dc, "tailscale").getSpec().getClusterIP()).isNull();
    NameserverService s = new NameserverService();
    s.setClusterIP("10.96.0.53");
    dc.getSpec().getNameserver().setService(s);
    assertThat(NameserverResources.service(dc, "tailscale").getSpec().getClusterIP()).isEqualTo("10.96.0.53");
  }
}
