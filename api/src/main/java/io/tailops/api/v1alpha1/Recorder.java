package io.tailops.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.generator.annotation.Required;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A tsrecorder device that records Tailscale SSH sessions, by default into a local ephemeral volume, or into an
 * S3-compatible bucket. Cluster-scoped; field-compatible with the official operator's {@code recorders.tailscale.com}
 * at v1.94.2.
 */
@Group(ProxyClass.GROUP)
@Version(ProxyClass.VERSION)
@Kind(Recorder.KIND)
@Plural("recorders")
@Singular("recorder")
@ShortNames("rec")
@AdditionalPrinterColumn(name = "Status", type = AdditionalPrinterColumn.Type.STRING,
    jsonPath = ".status.conditions[?(@.type == \"RecorderReady\")].reason",
    getDescription = "Status of the deployed Recorder resources.")
@AdditionalPrinterColumn(name = "URL", type = AdditionalPrinterColumn.Type.STRING,
    jsonPath = ".status.devices[?(@.url != \"\")].url", getDescription = "URL on which the UI is exposed if enabled.")
@AdditionalPrinterColumn(name = "Age", type = AdditionalPrinterColumn.Type.DATE, jsonPath = ".metadata.creationTimestamp")
public class Recorder extends CustomResource<RecorderSpec, RecorderStatus> {
  public static final String KIND = "Recorder";
  public static final String CRD_NAME = "recorders." + ProxyClass.GROUP;

  @Override
  @Required
  public RecorderSpec getSpec() {
    return super.getSpec();
  }

  @Override
  protected RecorderStatus initStatus() {
    return new RecorderStatus();
  }
}
