package io.tailops.operator.runtime;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.tailops.controlplane.ControlPlane;
import io.tailops.operator.config.OperatorConfig;
import io.tailops.operator.doctor.Doctor;
import io.tailops.operator.recorder.RecorderDoctor;
import io.tailops.operator.unsupported.UnsupportedKinds;
import java.util.List;

/**
 * The doctor as the operator and the {@code doctor} command run it: the standard checks plus what each feature
 * contributes. Wiring lives here so that the doctor package does not depend on the features it reports on.
 */
public final class DoctorChecks {
  private DoctorChecks() {
  }

  /** The features' own checks, in the order they are reported. */
  public static List<Doctor.Source> sources(OperatorConfig config) {
    // Connectors have their own checks (with the fix for unapproved routes): listed once, by ConnectorDoctor.
    return List.of(client -> ParentReport.checks(client, config.namespace(), java.util.Set.of("Connector")),
        io.tailops.operator.proxyclass.ProxyClassChecks::doctorChecks,
        io.tailops.operator.connector.ConnectorDoctor::checks, UnsupportedKinds::doctorChecks, RecorderDoctor::checks);
  }

  /** A doctor with every feature's checks. */
  public static Doctor doctor(OperatorConfig config, KubernetesClient client, ControlPlane controlPlane,
      boolean mintTestKey) {
    return new Doctor(config, client, controlPlane, mintTestKey, sources(config));
  }
}
