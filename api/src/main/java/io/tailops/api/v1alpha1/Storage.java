package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** {@code spec.storage} of a {@link Recorder}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Storage {
  @JsonPropertyDescription("An S3-compatible bucket for the recordings. Needed when the UI is not enabled, so that the "
      + "recordings can be reached.")
  private S3 s3;

  public S3 getS3() {
    return s3;
  }

  public void setS3(S3 s3) {
    this.s3 = s3;
  }
}
