package io.tailops.operator.dns;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.tailops.api.v1alpha1.DNSConfig;
import io.tailops.api.v1alpha1.Nameserver;
import io.tailops.operator.k8s.TailscaleKeys;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The in-cluster ts.net nameserver of a DNSConfig, as the official operator deploys it (nameserver.go and its
 * manifests {@code deploy/manifests/nameserver/*.yaml}): in the operator namespace, a ServiceAccount, a Deployment and
 * a Service all named {@value #NAME}, and the records ConfigMap {@value DnsRecords#CONFIG_MAP} (created empty; the
 * records are written as proxies come and go). Every object carries the nameserver labels and a controller reference
 * to the DNSConfig, so that deleting the DNSConfig deletes them. Image, replicas, tolerations and the Service's cluster
 * IP come from {@code spec.nameserver}; nothing else is configurable in v1.94.2's schema.
 */
public final class NameserverResources {
  public static final String NAME = "nameserver";
  public static final String DEFAULT_IMAGE_REPO = "tailscale/k8s-nameserver";
  public static final String DEFAULT_IMAGE_TAG = "stable";
  /** The container's DNS port (the program listens on {@code :1053}, UDP and TCP); the Service serves it on 53. */
  public static final int CONTAINER_PORT = 1053;
  public static final int SERVICE_PORT = 53;
  /** Where the program reads {@value DnsRecords#KEY} (a fixed path in the program). */
  public static final String RECORDS_MOUNT = "/config";
  static final String SELECTOR_LABEL = "app";

  private NameserverResources() {
  }

  /**
   * {@code tailscale.com/managed=true}, the parent labels (type {@code nameserver}; upstream puts the operator namespace
   * into {@code parent-resource-ns}, the DNSConfig being cluster-scoped) and the app.kubernetes.io name and component.
   */
  public static Map<String, String> labels(DNSConfig dnsConfig, String operatorNamespace) {
    Map<String, String> l = new LinkedHashMap<>();
    l.put(TailscaleKeys.LABEL_MANAGED, "true");
    l.put(TailscaleKeys.LABEL_PARENT_NAME, dnsConfig.getMetadata().getName());
    l.put(TailscaleKeys.LABEL_PARENT_NAMESPACE, operatorNamespace);
    l.put(TailscaleKeys.LABEL_PARENT_TYPE, "nameserver");
    l.put("app.kubernetes.io/name", "tailscale");
    l.put("app.kubernetes.io/component", "nameserver");
    return l;
  }

  /** The image {@code <repo>:<tag>}, each part defaulting separately ({@code tailscale/k8s-nameserver:stable}). */
  public static String image(DNSConfig dnsConfig) {
    Nameserver ns = nameserver(dnsConfig);
    String repo = ns.getImage() != null && notEmpty(ns.getImage().getRepo()) ? ns.getImage().getRepo()
        : DEFAULT_IMAGE_REPO;
    String tag = ns.getImage() != null && notEmpty(ns.getImage().getTag()) ? ns.getImage().getTag()
        : DEFAULT_IMAGE_TAG;
    return repo + ":" + tag;
  }

  public static ServiceAccount serviceAccount(DNSConfig dnsConfig, String operatorNamespace) {
    return new ServiceAccountBuilder().withNewMetadata().withName(NAME).withNamespace(operatorNamespace)
        .withLabels(labels(dnsConfig, operatorNamespace)).withOwnerReferences(owner(dnsConfig)).endMetadata().build();
  }

  public static ConfigMap recordsConfigMap(DNSConfig dnsConfig, String operatorNamespace) {
    return new ConfigMapBuilder().withNewMetadata().withName(DnsRecords.CONFIG_MAP).withNamespace(operatorNamespace)
        .withLabels(labels(dnsConfig, operatorNamespace)).withOwnerReferences(owner(dnsConfig)).endMetadata().build();
  }

  public static Service service(DNSConfig dnsConfig, String operatorNamespace) {
    Nameserver ns = nameserver(dnsConfig);
    String clusterIp = ns.getService() != null && notEmpty(ns.getService().getClusterIP())
        ? ns.getService().getClusterIP() : null;
    return new ServiceBuilder().withNewMetadata().withName(NAME).withNamespace(operatorNamespace)
        .withLabels(labels(dnsConfig, operatorNamespace)).withOwnerReferences(owner(dnsConfig)).endMetadata()
        .withNewSpec()
        .withSelector(Map.of(SELECTOR_LABEL, NAME))
        .addNewPort().withName("udp").withPort(SERVICE_PORT).withNewTargetPort(CONTAINER_PORT).withProtocol("UDP")
        .endPort()
        .addNewPort().withName("tcp").withPort(SERVICE_PORT).withNewTargetPort(CONTAINER_PORT).withProtocol("TCP")
        .endPort()
        .withClusterIP(clusterIp)
        .endSpec().build();
  }

  public static Deployment deployment(DNSConfig dnsConfig, String operatorNamespace) {
    Nameserver ns = nameserver(dnsConfig);
    int replicas = ns.getReplicas() == null ? 1 : ns.getReplicas();
    List<Toleration> tolerations = ns.getPod() == null || ns.getPod().getTolerations() == null ? null
        : new ArrayList<>(ns.getPod().getTolerations());
    return new DeploymentBuilder().withNewMetadata().withName(NAME).withNamespace(operatorNamespace)
        .withLabels(labels(dnsConfig, operatorNamespace)).withOwnerReferences(owner(dnsConfig)).endMetadata()
        .withNewSpec()
        .withReplicas(replicas)
        .withRevisionHistoryLimit(5)
        .withNewSelector().addToMatchLabels(SELECTOR_LABEL, NAME).endSelector()
        .withNewStrategy().withType("Recreate").endStrategy()
        .withNewTemplate()
        .withNewMetadata().addToLabels(SELECTOR_LABEL, NAME).endMetadata()
        .withNewSpec()
        .addNewContainer()
        .withName(NAME)
        .withImage(image(dnsConfig))
        .withImagePullPolicy("IfNotPresent")
        .addNewPort().withName("tcp").withProtocol("TCP").withContainerPort(CONTAINER_PORT).endPort()
        .addNewPort().withName("udp").withProtocol("UDP").withContainerPort(CONTAINER_PORT).endPort()
        .addNewVolumeMount().withName(DnsRecords.CONFIG_MAP).withMountPath(RECORDS_MOUNT).endVolumeMount()
        .endContainer()
        .withRestartPolicy("Always")
        .withServiceAccount(NAME)
        .withServiceAccountName(NAME)
        .withTolerations(tolerations)
        .addNewVolume().withName(DnsRecords.CONFIG_MAP).withNewConfigMap().withName(DnsRecords.CONFIG_MAP)
        .endConfigMap().endVolume()
        .endSpec()
        .endTemplate()
        .endSpec().build();
  }

  /** The controller reference to the DNSConfig (garbage collection removes the objects with it). */
  static OwnerReference owner(DNSConfig dnsConfig) {
    return new OwnerReferenceBuilder().withApiVersion("tailscale.com/v1alpha1").withKind("DNSConfig")
        .withName(dnsConfig.getMetadata().getName()).withUid(dnsConfig.getMetadata().getUid()).withController(true)
        .withBlockOwnerDeletion(true).build();
  }

  private static Nameserver nameserver(DNSConfig dnsConfig) {
    return dnsConfig.getSpec() == null || dnsConfig.getSpec().getNameserver() == null ? new Nameserver()
        : dnsConfig.getSpec().getNameserver();
  }

  private static boolean notEmpty(String s) {
    return s != null && !s.isEmpty();
  }
}
