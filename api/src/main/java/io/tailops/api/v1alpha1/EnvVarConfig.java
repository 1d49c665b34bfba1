package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

/** One environment variable of a proxy container. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class EnvVarConfig {
  @Required
  @Pattern(Patterns.ENV_VAR_NAME)
  @JsonPropertyDescription("Name of the environment variable. Must be a C_IDENTIFIER.")
  private String name;

  @JsonPropertyDescription("Variable references $(VAR_NAME) are expanded using the previously defined environment variables in the container.")
  private String value;

  public EnvVarConfig() {
  }

  public EnvVarConfig(String name, String value) {
    this.name = name;
    this.value = value;
  }

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  public String getValue() {
    return value;
  }

  public void setValue(String value) {
    this.value = value;
  }
}
