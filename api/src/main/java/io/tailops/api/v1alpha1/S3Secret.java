package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** {@code spec.storage.s3.credentials.secret} of a {@link Recorder}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class S3Secret {
  @JsonPropertyDescription("Name of a Secret in the operator's namespace whose keys become environment variables of "
      + "tsrecorder (for a static access key: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY).")
  private String name;

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }
}
