package io.tailops.api.crdgen;

import io.fabric8.crdv2.generator.CRDGenerationInfo;
import io.fabric8.crdv2.generator.CRDGenerator;
import io.tailops.api.v1alpha1.TailscaleResources;
import java.io.File;

/**
 * Writes the CRD of every kind of the model ({@link TailscaleResources#KINDS}) to
 * {@code <output>/<plural>.tailscale.com-v1.yml}, with fabric8's CRD generator completed by {@link CrdFinisher}.
 * The api module runs it at build time (phase process-test-classes, into target/classes/META-INF/fabric8, so the
 * CRDs ship in the api jar); chart/sync-crds.sh copies them into the Helm chart.
 */
public final class GenerateCrds {
  private GenerateCrds() {
  }

  public static void main(String[] args) {
    if (args.length != 1) {
      throw new IllegalArgumentException("usage: GenerateCrds <output directory>");
    }
    File out = new File(args[0]);
    if (!out.isDirectory() && !out.mkdirs()) {
      throw new IllegalStateException("cannot create " + out);
    }
    CRDGenerationInfo info = new CRDGenerator()
        .customResourceClasses(TailscaleResources.KINDS.stream()
            .<Class<? extends io.fabric8.kubernetes.api.model.HasMetadata>>map(k -> k).toList())
        .forCRDVersions("v1")
        // Every string quoted: with fewer quotes, Jackson writes the enum values True and False bare, which YAML
        // readers take for booleans.
        .withMinQuotes(false)
        .withPostProcessor(new CrdFinisher(TailscaleResources.KINDS))
        .inOutputDir(out)
        .detailedGenerate();
    int count = info.numberOfGeneratedCRDs();
    if (count != TailscaleResources.KINDS.size()) {
      throw new IllegalStateException("generated " + count + " CRDs for " + TailscaleResources.KINDS.size()
          + " kinds");
    }
    System.out.println("GenerateCrds: wrote " + count + " CRDs to " + out);
  }
}
