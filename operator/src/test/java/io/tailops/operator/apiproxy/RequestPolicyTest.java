package io.tailops.operator.apiproxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.tailops.operator.config.ApiServerProxySettings.Mode;
import org.junit.jupiter.api.Test;

/** The identity rules of the official proxy (k8s-operator/api-proxy, v1.94.2), decided without any server. */
class RequestPolicyTest {
  static final String GET_PODS = "/api/v1/namespaces/team-a/pods";

  static PeerIdentity whois(String json) throws Exception {
    return PeerIdentity.fromWhoIs(json);
  }

  static PeerIdentity user(String caps) throws Exception {
    return whois("{\"Node\":{\"Name\":\"alice-laptop.tailnet.test.\",\"StableID\":\"7\",\"Tags\":null},"
        + "\"UserProfile\":{\"LoginName\":\"alice@example.com\",\"DisplayName\":\"Alice\"},\"CapMap\":" + caps + "}");
  }

  static PeerIdentity tagged(String caps) throws Exception {
    return whois("{\"Node\":{\"Name\":\"ci-runner.tailnet.test.\",\"StableID\":\"9\",\"Tags\":[\"tag:ci\",\"tag:k8s-ro\"]},"
        + "\"UserProfile\":{\"LoginName\":\"tagged-devices\"},\"CapMap\":" + caps + "}");
  }

  static RequestPolicy.Decision decide(Mode mode, PeerIdentity who, String method, String path) {
    return RequestPolicy.decide(mode, who, method, path, path);
  }

  @Test
  void aUserIsImpersonatedByLoginNameWithTheGroupsOfEveryGrant() throws Exception {
    PeerIdentity alice = user("{\"tailscale.com/cap/kubernetes\":[{\"impersonate\":{\"groups\":[\"readers\",\"devs\"]}},"
        + "{\"impersonate\":{\"groups\":[\"devs\",\"ops\"]}}]}");
    assertThat(decide(Mode.AUTH, alice, "GET", GET_PODS))
        .isEqualTo(new RequestPolicy.Forward("alice@example.com", java.util.List.of("readers", "devs", "ops"), null));
  }

  @Test
  void aUserWithoutGrantsIsImpersonatedWithoutGroups() throws Exception {
    assertThat(decide(Mode.AUTH, user("null"), "GET", GET_PODS))
        .isEqualTo(new RequestPolicy.Forward("alice@example.com", java.util.List.of(), null));
  }

  @Test
  void aTaggedDeviceIsItsMagicDnsNameWithItsTagsAsGroupsUnlessAGrantNamesGroups() throws Exception {
    assertThat(decide(Mode.AUTH, tagged("{}"), "GET", GET_PODS))
        .isEqualTo(new RequestPolicy.Forward("ci-runner.tailnet.test", java.util.List.of("tag:ci", "tag:k8s-ro"), null));
    assertThat(decide(Mode.AUTH, tagged("{\"tailscale.com/cap/kubernetes\":[{\"impersonate\":{\"groups\":[\"ci\"]}}]}"),
        "GET", GET_PODS)).isEqualTo(new RequestPolicy.Forward("ci-runner.tailnet.test", java.util.List.of("ci"), null));
  }

  @Test
  void theLegacyCapabilityNameCountsOnlyWhenTheCurrentOneIsAbsent() throws Exception {
    String legacy = "\"https://tailscale.com/cap/kubernetes\":[{\"impersonate\":{\"groups\":[\"old\"]}}]";
    assertThat(decide(Mode.AUTH, user("{" + legacy + "}"), "GET", GET_PODS))
        .isEqualTo(new RequestPolicy.Forward("alice@example.com", java.util.List.of("old"), null));
    assertThat(decide(Mode.AUTH, user("{" + legacy + ",\"tailscale.com/cap/kubernetes\":[{\"impersonate\":"
        + "{\"groups\":[\"new\"]}}]}"), "GET", GET_PODS))
        .isEqualTo(new RequestPolicy.Forward("alice@example.com", java.util.List.of("new"), null));
  }

  @Test
  void noIdentityNoRequestInEitherMode() {
    for (Mode m : new Mode[] {Mode.AUTH, Mode.NOAUTH}) {
      assertThat(decide(m, null, "GET", GET_PODS))
          .isEqualTo(new RequestPolicy.Refuse(500, "Internal Server Error", "failed to authenticate caller"));
    }
  }

  @Test
  void noauthForwardsWithoutImpersonation() throws Exception {
    assertThat(decide(Mode.NOAUTH, tagged("{}"), "GET", GET_PODS))
        .isEqualTo(new RequestPolicy.Forward(null, java.util.List.of(), null));
  }

  @Test
  void aMalformedGrantIsRefusedNotGuessed() throws Exception {
    PeerIdentity bad = user("{\"tailscale.com/cap/kubernetes\":[{\"impersonate\":{\"groups\":\"admins\"}}]}");
    RequestPolicy.Decision d = decide(Mode.AUTH, bad, "GET", GET_PODS);
    assertThat(d).isInstanceOf(RequestPolicy.Refuse.class);
    assertThat(((RequestPolicy.Refuse) d).status()).isEqualTo(403);
    assertThat(((RequestPolicy.Refuse) d).message()).contains("malformed tailscale.com/cap/kubernetes")
        .contains("impersonate.groups must be a list of strings").contains("alice@example.com");
  }

  @Test
  void groupNamesWithControlCharactersAreRefused() throws Exception {
    PeerIdentity bad = user("{\"tailscale.com/cap/kubernetes\":[{\"impersonate\":{\"groups\":[\"a\\r\\nAuthorization: x\"]}}]}");
    RequestPolicy.Decision d = decide(Mode.AUTH, bad, "GET", GET_PODS);
    assertThat(d).isInstanceOf(RequestPolicy.Refuse.class);
    assertThat(((RequestPolicy.Refuse) d).message()).contains("not a valid Kubernetes user or group name")
        .doesNotContain("\r").doesNotContain("\n");
  }

  @Test
  void enforcedRecordingWithoutRecorderIsRefusedAsUpstreamDoes() throws Exception {
    PeerIdentity alice = user("{\"tailscale.com/cap/kubernetes\":[{\"recorder\":[\"tag:rec\"],\"enforceRecorder\":true}]}");
    assertThat(decide(Mode.AUTH, alice, "GET", GET_PODS)).isEqualTo(new RequestPolicy.Refuse(403, "Forbidden",
        "forbidden: api request \"" + GET_PODS + "\" must be recorded, but no recorders are available."));
    assertThat(decide(Mode.AUTH, alice, "POST", "/api/v1/namespaces/team-a/pods/web-0/exec"))
        .isEqualTo(new RequestPolicy.Refuse(403, "Forbidden",
            "forbidden: 'kubectl exec' session must be recorded, but no recorders are available."));
  }

  @Test
  void recordingThatCannotBeMadeIsEnforcedOrSaid() throws Exception {
    String grant = "{\"recorder\":[\"tag:rec\"],\"recorderAddrs\":[\"100.64.0.9:80\"]%s}";
    PeerIdentity open = user("{\"tailscale.com/cap/kubernetes\":[" + String.format(grant, "") + "]}");
    // a plain request is not recorded upstream either (no enableEvents): no notice
    assertThat(decide(Mode.AUTH, open, "GET", GET_PODS))
        .isEqualTo(new RequestPolicy.Forward("alice@example.com", java.util.List.of(), null));
    RequestPolicy.Forward exec = (RequestPolicy.Forward) decide(Mode.AUTH, open, "GET",
        "/api/v1/namespaces/team-a/pods/web-0/exec");
    assertThat(exec.recordingNotice()).isEqualTo("a grant asks for the 'kubectl exec' session of alice@example.com on "
        + "alice-laptop.tailnet.test to be recorded by tag:rec at 100.64.0.9:80, but no Recorder exists in this "
        + "operator: forwarded without recording");
    PeerIdentity enforced = user("{\"tailscale.com/cap/kubernetes\":[" + String.format(grant,
        ",\"enforceRecorder\":true") + "]}");
    RequestPolicy.Refuse r = (RequestPolicy.Refuse) decide(Mode.AUTH, enforced, "POST",
        "/api/v1/namespaces/team-a/pods/web-0/attach");
    assertThat(r.status()).isEqualTo(403);
    assertThat(r.message()).startsWith("forbidden: 'kubectl attach' session must be recorded, but this operator "
        + "cannot record sessions yet");
    // headscale resolves no recorder addresses: the ask is still said
    PeerIdentity tagsOnly = user("{\"tailscale.com/cap/kubernetes\":[{\"recorder\":[\"tag:rec\"],\"enableEvents\":true}]}");
    assertThat(((RequestPolicy.Forward) decide(Mode.NOAUTH, tagsOnly, "GET", GET_PODS)).recordingNotice())
        .contains("api request \"" + GET_PODS + "\" of alice@example.com").contains("by tag:rec");
  }

  @Test
  void sessionsAreExecAndAttachOnly() {
    assertThat(RequestPolicy.sessionType("POST", "/api/v1/namespaces/a/pods/b/exec")).isEqualTo("exec");
    assertThat(RequestPolicy.sessionType("GET", "/api/v1/namespaces/a/pods/b/attach")).isEqualTo("attach");
    assertThat(RequestPolicy.sessionType("POST", "/api/v1/namespaces/a/pods/b/portforward")).isNull();
    assertThat(RequestPolicy.sessionType("DELETE", "/api/v1/namespaces/a/pods/b/exec")).isNull();
    assertThat(RequestPolicy.sessionType("GET", "/api/v1/namespaces/a/pods/b/exec/x")).isNull();
  }
}
