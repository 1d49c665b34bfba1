package io.tailops.operator.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.FieldsV1;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StoreWithoutManagedFieldsTest {

  @Test
  void keepsObjectsWithoutTheirManagedFieldsUnderTheInformersKey() {
    FieldsV1 fields = new FieldsV1();
    fields.setAdditionalProperty("f:spec", Map.of("f:ports", Map.of()));
    Service svc = new ServiceBuilder().withNewMetadata().withNamespace("ns").withName("web").withResourceVersion("7")
        .addToLabels("app", "web").addToAnnotations("tailscale.com/expose", "true")
        .addToManagedFields(new ManagedFieldsEntryBuilder().withManager("kubectl").withOperation("Update")
            .withFieldsV1(fields).build())
        .endMetadata().withNewSpec().addNewPort().withPort(80).endPort().endSpec().build();
    StoreWithoutManagedFields<Service> store = new StoreWithoutManagedFields<>();

    store.put(store.getKey(svc), svc);

    Service cached = store.get("ns/web");
    assertThat(cached.getMetadata().getManagedFields()).isNull();
    assertThat(cached.getMetadata().getLabels()).containsEntry("app", "web");
    assertThat(cached.getMetadata().getAnnotations()).containsEntry("tailscale.com/expose", "true");
    assertThat(cached.getMetadata().getResourceVersion()).isEqualTo("7");
    assertThat(cached.getSpec().getPorts()).hasSize(1);
    assertThat(store.size()).isEqualTo(1);
    assertThat(store.remove("ns/web")).isSameAs(cached);
  }
}
