/**
 * A real Kubernetes control plane for tests: {@link io.tailops.testkit.kube.KubeApiServer} (etcd + kube-apiserver
 * + optional kube-controller-manager on loopback, built from Go modules by {@code tools/build-binaries.sh}),
 * {@link io.tailops.testkit.kube.KubeApiServerExtension} (JUnit 5, one server per test class),
 * {@link io.tailops.testkit.kube.AuditLog} (count requests by verb, resource and user agent) and
 * {@link io.tailops.testkit.kube.KubeApiServerMain} (run one by hand).
 */
package io.tailops.testkit.kube;
