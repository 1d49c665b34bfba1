package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** {@code spec.storage.s3.credentials} of a {@link Recorder}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class S3Credentials {
  @JsonPropertyDescription("A Secret in the operator's namespace holding the credentials.")
  private S3Secret secret;

  public S3Secret getSecret() {
    return secret;
  }

  public void setSecret(S3Secret secret) {
    this.secret = secret;
  }
}
