package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** {@code spec.storage.s3} of a {@link Recorder}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class S3 {
  @JsonPropertyDescription("S3-compatible endpoint, e.g. s3.us-east-1.amazonaws.com.")
  private String endpoint;

  @JsonPropertyDescription("Bucket to write to; used only for recordings (object names have no stable prefix).")
  private String bucket;

  @JsonPropertyDescription("Credentials for the bucket. Without them tsrecorder looks for credentials on the file "
      + "system, then asks the STS API.")
  private S3Credentials credentials;

  public String getEndpoint() {
    return endpoint;
  }

  public void setEndpoint(String endpoint) {
    this.endpoint = endpoint;
  }

  public String getBucket() {
    return bucket;
  }

  public void setBucket(String bucket) {
    this.bucket = bucket;
  }

  public S3Credentials getCredentials() {
    return credentials;
  }

  public void setCredentials(S3Credentials credentials) {
    this.credentials = credentials;
  }
}
