package io.tailops.operator.ha;

import static org.assertj.core.api.Assertions.assertThat;

import io.tailops.controlplane.TailscaleService;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Who may use a Tailscale Service and what releasing it means (the official owner-references contract). */
class ServiceOwnershipTest {
  static final String ME = "nodeid-me";
  static final Set<String> MINE = Set.of(ME, "k8s-operator-uid");

  static TailscaleService service(String ownerAnnotation) {
    return new TailscaleService("svc:web", List.of("100.100.0.1"), "", ownerAnnotation == null ? Map.of()
        : Map.of(ServiceOwnership.ANNOTATION, ownerAnnotation), List.of("tcp:443"), List.of("tag:k8s"));
  }

  @Test
  void aNewServiceIsOursWithOurReference() {
    assertThat(ServiceOwnership.claim(Optional.empty(), ME, MINE)).isEqualTo(new ServiceOwnership.Ours(Map.of(
        ServiceOwnership.ANNOTATION, "{\"ownerRefs\":[{\"operatorID\":\"nodeid-me\"}]}")));
  }

  @Test
  void aServiceWithoutOwnersIsSomeoneElsesAndNeverTaken() {
    assertThat(ServiceOwnership.claim(Optional.of(service(null)), ME, MINE))
        .isInstanceOfSatisfying(ServiceOwnership.Taken.class, t -> assertThat(t.why())
            .contains("does not contain owner annotation"));
    assertThat(ServiceOwnership.claim(Optional.of(service("not json")), ME, MINE))
        .isInstanceOf(ServiceOwnership.Taken.class);
    assertThat(ServiceOwnership.release(service(null), MINE)).isInstanceOf(ServiceOwnership.NotOurs.class);
  }

  @Test
  void anApiServerProxysServiceCannotBeShared() {
    assertThat(ServiceOwnership.claim(Optional.of(service(
        "{\"ownerRefs\":[{\"operatorID\":\"other\",\"resource\":{\"kind\":\"ProxyGroup\",\"name\":\"api\"}}]}")),
        ME, MINE)).isInstanceOfSatisfying(ServiceOwnership.Taken.class, t -> assertThat(t.why())
            .contains("owned by another resource"));
  }

  @Test
  void anotherOperatorsServiceIsSharedAndOnReleaseKeptForIt() {
    var claim = ServiceOwnership.claim(Optional.of(service("{\"ownerRefs\":[{\"operatorID\":\"other\"}]}")), ME,
        MINE);
    assertThat(claim).isEqualTo(new ServiceOwnership.Ours(Map.of(ServiceOwnership.ANNOTATION,
        "{\"ownerRefs\":[{\"operatorID\":\"other\"},{\"operatorID\":\"nodeid-me\"}]}")));
    TailscaleService shared = service("{\"ownerRefs\":[{\"operatorID\":\"other\"},{\"operatorID\":\"nodeid-me\"}]}");
    assertThat(ServiceOwnership.release(shared, MINE)).isEqualTo(new ServiceOwnership.KeepFor(Map.of(
        ServiceOwnership.ANNOTATION, "{\"ownerRefs\":[{\"operatorID\":\"other\"}]}")));
  }

  @Test
  void ourOwnServiceIsKeptAsItIsAndDeletedOnRelease() {
    TailscaleService ours = service("{\"ownerRefs\":[{\"operatorID\":\"nodeid-me\"}]}");
    assertThat(ServiceOwnership.claim(Optional.of(ours), ME, MINE)).isEqualTo(new ServiceOwnership.Ours(
        ours.annotations()));
    assertThat(ServiceOwnership.release(ours, MINE)).isInstanceOf(ServiceOwnership.Delete.class);
  }

  @Test
  void aReferenceUnderAFormerIdIsReplacedByTheCurrentOne() {
    var claim = ServiceOwnership.claim(Optional.of(service(
        "{\"ownerRefs\":[{\"operatorID\":\"k8s-operator-uid\"}]}")), ME, MINE);
    assertThat(claim).isEqualTo(new ServiceOwnership.Ours(Map.of(ServiceOwnership.ANNOTATION,
        "{\"ownerRefs\":[{\"operatorID\":\"nodeid-me\"}]}")));
  }

  static final String GROUP_REF = "{\"ownerRefs\":[{\"operatorID\":\"nodeid-me\",\"resource\":{\"kind\":"
      + "\"ProxyGroup\",\"name\":\"api\",\"uid\":\"uid-api\"}}]}";

  @Test
  void aKubeApiserverGroupOwnsItsServiceAloneAndNamesItselfAsGoWritesIt() {
    assertThat(ServiceOwnership.exclusiveClaim(Optional.empty(), ME, MINE, "api", "uid-api"))
        .isEqualTo(new ServiceOwnership.Ours(Map.of(ServiceOwnership.ANNOTATION, GROUP_REF)));
    // Its own service, the group renamed in the reference (informational), other annotations kept.
    TailscaleService own = new TailscaleService("svc:k8s", List.of(), "", Map.of(ServiceOwnership.ANNOTATION,
        GROUP_REF.replace("\"api\"", "\"old\""), "other", "kept"), List.of("tcp:443"), List.of("tag:k8s"));
    assertThat(ServiceOwnership.exclusiveClaim(Optional.of(own), ME, MINE, "api", "uid-api"))
        .isEqualTo(new ServiceOwnership.Ours(Map.of(ServiceOwnership.ANNOTATION, GROUP_REF, "other", "kept")));
    assertThat(ServiceOwnership.ownedByGroup(own, MINE, "uid-api")).isTrue();
    assertThat(ServiceOwnership.ownedByGroup(own, MINE, "uid-other")).isFalse();
  }

  @Test
  void aKubeApiserverGroupTakesNoServiceOfAnyoneElse() {
    assertThat(ServiceOwnership.exclusiveClaim(Optional.of(service(null)), ME, MINE, "api", "uid-api"))
        .isInstanceOfSatisfying(ServiceOwnership.Taken.class, t -> assertThat(t.why())
            .contains("does not contain owner annotation with owner references"));
    assertThat(ServiceOwnership.exclusiveClaim(Optional.of(service("{\"ownerRefs\":[{\"operatorID\":\"them\"}]}")),
        ME, MINE, "api", "uid-api")).isInstanceOfSatisfying(ServiceOwnership.Taken.class, t -> assertThat(t.why())
            .contains("already owned by other operator(s) and cannot be shared across multiple clusters"));
    assertThat(ServiceOwnership.exclusiveClaim(Optional.of(service("{\"ownerRefs\":[{\"operatorID\":\"nodeid-me\"}]}")),
        ME, MINE, "api", "uid-api")).isInstanceOfSatisfying(ServiceOwnership.Taken.class, t -> assertThat(t.why())
            .contains("does not reference an owning resource"));
    assertThat(ServiceOwnership.exclusiveClaim(Optional.of(service(GROUP_REF)), ME, MINE, "api2", "uid-api2"))
        .isInstanceOfSatisfying(ServiceOwnership.Taken.class, t -> assertThat(t.why())
            .contains("is already owned by another resource"));
  }
}
