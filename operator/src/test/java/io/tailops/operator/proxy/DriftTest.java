package io.tailops.operator.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class DriftTest {
  static final ObjectMapper JSON = new ObjectMapper();

  static java.util.List<String> diff(String desired, String live) throws Exception {
    return Drift.differences(JSON.readTree(desired), JSON.readTree(live), "spec");
  }

  @Test
  void fieldsTheServerAddsAreIgnoredAndEmptyValuesEqualAbsent() throws Exception {
    assertThat(diff("{\"a\":1,\"b\":{\"c\":\"x\"},\"l\":[],\"m\":{},\"f\":false,\"s\":\"\"}",
        "{\"a\":1,\"b\":{\"c\":\"x\",\"default\":420},\"extra\":true}")).isEmpty();
  }

  @Test
  void scalarsListsAndWholeSelectorsMustBeEqual() throws Exception {
    assertThat(diff("{\"replicas\":1}", "{\"replicas\":0}")).containsExactly("spec.replicas");
    assertThat(diff("{\"env\":[{\"name\":\"A\",\"value\":\"1\"}]}", "{\"env\":[{\"name\":\"A\",\"value\":\"2\"}]}"))
        .containsExactly("spec.env[A]");
    assertThat(diff("{\"env\":[{\"name\":\"A\",\"value\":\"1\"}]}",
        "{\"env\":[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"B\"}]}")).containsExactly("spec.env");
    assertThat(diff("{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}",
        "{\"containers\":[{\"name\":\"c\",\"image\":\"j\",\"terminationMessagePath\":\"/dev/x\"}]}"))
        .containsExactly("spec.containers[c].image");
    assertThat(diff("{\"selector\":{\"app\":\"u\"}}", "{\"selector\":{\"app\":\"u\",\"extra\":\"x\"}}"))
        .containsExactly("spec.selector");
    assertThat(diff("{\"labels\":{\"app\":\"u\"}}", "{\"labels\":{\"app\":\"u\",\"extra\":\"x\"}}")).isEmpty();
  }

  @Test
  void quantitiesCompareByAmount() throws Exception {
    assertThat(diff("{\"resources\":{\"requests\":{\"cpu\":\"0.5\",\"memory\":\"1Mi\"}}}",
        "{\"resources\":{\"requests\":{\"cpu\":\"500m\",\"memory\":\"1048576\"}}}")).isEmpty();
    assertThat(diff("{\"resources\":{\"limits\":{\"cpu\":\"1\"}}}", "{\"resources\":{\"limits\":{\"cpu\":\"2\"}}}"))
        .containsExactly("spec.resources.limits.cpu");
  }
}
