package io.tailops.operator.proxyclass;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.tailops.api.v1alpha1.ProxyClass;
import io.tailops.operator.doctor.Doctor;
import io.tailops.operator.k8s.ProxyClasses;
import io.tailops.operator.proxy.ProxyClassEffects;
import java.util.ArrayList;
import java.util.List;

/** Doctor's checks of the ProxyClasses: one FAIL per invalid class, one WARN per setting that does nothing. */
public final class ProxyClassChecks {
  private ProxyClassChecks() {
  }

  public static List<Doctor.Check> doctorChecks(KubernetesClient client) {
    List<Doctor.Check> out = new ArrayList<>();
    List<ProxyClass> classes;
    try {
      classes = client.resources(ProxyClass.class).list().getItems();
    } catch (KubernetesClientException e) {
      return List.of(new Doctor.Check("proxyclasses", Doctor.Status.WARN, "cannot list ProxyClasses: "
          + e.getMessage(), "check RBAC"));
    }
    for (ProxyClass pc : classes) {
      String name = "proxyclass " + pc.getMetadata().getName();
      if (pc.getStatus() != null && pc.getStatus().getConditions() != null && !pc.getStatus().getConditions()
          .isEmpty() && !ProxyClasses.isReady(pc)) {
        out.add(new Doctor.Check(name, Doctor.Status.FAIL, "not ready:" + ProxyClasses.whyNotReady(pc),
            "fix the class (kubectl describe proxyclass " + pc.getMetadata().getName() + "); its users wait"));
      }
      for (String f : ProxyClassEffects.findings(pc)) {
        out.add(new Doctor.Check(name, Doctor.Status.WARN, f, "edit the ProxyClass as the message says"));
      }
    }
    return out;
  }
}
