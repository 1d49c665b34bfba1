import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClassBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.tailops.testkit.kube.KubeApiServer;
import io.tailops.testkit.proxy.ProxySimulator;
import io.tailops.testkit.tailscale.FakeTailscaleApi;
import io.tailops.testkit.tailscale.OAuthClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.CountDownLatch;

/**
 * A cluster for the operator image to run against, without a container runtime: a real kube-apiserver + etcd (test
 * kit, binaries from tools/build-binaries.sh), the ProxyClass CRD, the namespace "tailscale", the IngressClass, the
 * fake Tailscale API with an OAuth client, and the proxy simulator (plays containerboot). Used by
 * image/cds/train.sh (class data sharing training run) and for measuring start-up (docs/image.md).
 *
 * <pre>
 * java -cp TESTKIT_CLASSPATH image/cluster/ClusterHarness.java OUT_DIR [SERVICES]
 * </pre>
 *
 * Writes OUT_DIR/{kubeconfig,client_id,client_secret,env} and OUT_DIR/serviceaccount/{token,ca.crt,namespace}
 * (env: the operator's variables, one NAME=VALUE a line, for OUT_DIR mounted at /config and
 * OUT_DIR/serviceaccount at /var/run/secrets/kubernetes.io/serviceaccount, as in a pod: the operator uses the
 * in-cluster configuration, KUBERNETES_SERVICE_HOST/PORT and a ServiceAccount token, here bound to
 * cluster-admin), creates SERVICES Services (default 10) exposed with {@code tailscale.com/expose}, prints
 * READY, and runs until killed.
 */
public final class ClusterHarness {
  public static void main(String[] args) throws Exception {
    Path out = Path.of(args[0]).toAbsolutePath();
    int services = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    Files.createDirectories(out);
    KubeApiServer kube = KubeApiServer.builder()
        .crdsFromClasspath("META-INF/fabric8/proxyclasses.tailscale.com-v1.yml").start();
    FakeTailscaleApi tailnet = FakeTailscaleApi.start();
    KubernetesClient client = kube.client();
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("tailscale").endMetadata()
        .build()).create();
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("apps").endMetadata()
        .build()).create();
    client.network().v1().ingressClasses().resource(new IngressClassBuilder().withNewMetadata()
        .withName("tailscale").endMetadata().withNewSpec().withController("tailscale.com/ts-ingress").endSpec()
        .build()).create();
    ProxySimulator proxies = ProxySimulator.start(client, "tailscale", tailnet);
    OAuthClient oauth = tailnet.addOperatorClient();
    client.serviceAccounts().inNamespace("tailscale").resource(new ServiceAccountBuilder().withNewMetadata()
        .withName("operator").endMetadata().build()).create();
    client.rbac().clusterRoleBindings().resource(new ClusterRoleBindingBuilder().withNewMetadata()
        .withName("tailscale-operator-harness").endMetadata().withNewRoleRef().withApiGroup("rbac.authorization.k8s.io")
        .withKind("ClusterRole").withName("cluster-admin").endRoleRef().addNewSubject().withKind("ServiceAccount")
        .withName("operator").withNamespace("tailscale").endSubject().build()).create();
    String token = client.serviceAccounts().inNamespace("tailscale").withName("operator")
        .tokenRequest(new TokenRequestBuilder().withNewSpec().withExpirationSeconds(86400L).endSpec().build())
        .getStatus().getToken();
    Path sa = out.resolve("serviceaccount");
    Files.createDirectories(sa);
    Files.writeString(sa.resolve("token"), token);
    Files.writeString(sa.resolve("namespace"), "tailscale");
    Files.copy(kube.caCertificate(), sa.resolve("ca.crt"), StandardCopyOption.REPLACE_EXISTING);
    Files.copy(kube.kubeconfig(), out.resolve("kubeconfig"), StandardCopyOption.REPLACE_EXISTING);
    Files.writeString(out.resolve("client_id"), oauth.id());
    Files.writeString(out.resolve("client_secret"), oauth.secret());
    Files.writeString(out.resolve("env"), String.join("\n",
        "KUBERNETES_SERVICE_HOST=127.0.0.1",
        "KUBERNETES_SERVICE_PORT=" + kube.port(),
        "OPERATOR_NAMESPACE=tailscale",
        "CLIENT_ID_FILE=/config/client_id",
        "CLIENT_SECRET_FILE=/config/client_secret",
        "OPERATOR_LOGIN_SERVER=" + tailnet.baseUrl(),
        "OPERATOR_HOSTNAME=tailscale-operator",
        "PROXY_IMAGE=tailscale/tailscale:v1.94.2",
        "PROXY_TAGS=tag:k8s",
        "OPERATOR_INITIAL_TAGS=tag:k8s-operator",
        "OPERATOR_LEADER_ELECTION=true",
        "OPERATOR_LOGGING=info",
        // not the default 8080: the image runs in this machine's network namespace, where 8080 may be taken (the
        // official operator's metrics port)
        "OPERATOR_HTTP_PORT=" + io.tailops.testkit.LoopbackPorts.tcp(),
        "POD_NAME=operator-0",
        "POD_UID=00000000-0000-0000-0000-000000000001") + "\n");
    for (int i = 0; i < services; i++) {
      client.services().inNamespace("apps").resource(new ServiceBuilder().withNewMetadata().withName("web-" + i)
          .addToAnnotations("tailscale.com/expose", "true").endMetadata().withNewSpec()
          .addToSelector("app", "web-" + i).addNewPort().withPort(80).endPort().endSpec().build()).create();
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      proxies.close();
      tailnet.close();
      kube.close();
    }));
    System.out.println("API_SERVER=" + kube.url());
    System.out.println("READY");
    System.out.flush();
    new CountDownLatch(1).await();
  }
}
